"""The Hexagon HVX codegen target: C with clang's HVX intrinsics, freestanding, run under qemu-hexagon.

Codegen target (`kernels.codegen.targets`) of ISA ``hvx`` (`isa_models.hvx`, whose ``c`` templates
and their macro prelude `C_PRELUDE` it emits). Virtual ``v`` registers are ``HVX_Vector`` locals,
``q`` registers ``HVX_VectorPred``, ``r`` registers ``int32_t``. Builds use clang-19 only
(``--target=hexagon-unknown-linux-musl -mv73 -mhvx -mhvx-length=128B -O2 -G0 -ffreestanding
-fno-builtin``), linked in the same command by ld.lld-19 (``-nostdlib -static -e _start``):
research/toolchain.md "HVX under qemu-hexagon". No Hexagon libc exists on Debian, so the target
carries its own `RUNTIME` (``Target.runtime``): ``_start``, Linux system calls through
``trap0(#1)`` (number in r6: read 63, write 64, openat 56, close 57, exit_group 94, mmap2 222),
and the few C library functions the standalone runner's ``main`` and the compiler use. No host
runs it natively; the emulator prefix is ``qemu-hexagon`` (QEMU 10 picks the CPU from the ELF
flags and runs v60-v73 integer HVX).
"""

from __future__ import annotations

from isa_models.hvx import C_PRELUDE
from kernels.codegen.targets import Target
from kernels.codegen.targets.hexagon_asm import SYNTAX

__all__ = ["TARGET", "ISA", "RUNTIME", "BASE_FLAGS", "asm_operand"]

#: the ISA this target emits (also `TARGET.isa`)
ISA = "hvx"

#: compile and link in one clang-19 command (toolchain.md's freestanding recipe)
BASE_FLAGS = ("--target=hexagon-unknown-linux-musl", "-mv73", "-mhvx", "-mhvx-length=128B", "-O2", "-G0",
              "-ffreestanding", "-fno-builtin", "-nostdlib", "-static", "-fuse-ld=lld", "--ld-path=ld.lld-19",
              "-Wl,-e,_start")

#: The freestanding runtime placed before a standalone ``main`` (instead of the hosted C library
#: headers): ``_start``, system calls, and the stdio/stdlib subset ``kernels.codegen.run.standalone``
#: uses (FILE on file descriptors, fopen/fread/fwrite/fgetc/fflush, fprintf with %s %d %llu,
#: aligned_alloc on anonymous mmap2), plus memcpy/memset/memmove/memcmp for compiler-emitted calls.
RUNTIME = r"""
/* ---- freestanding runtime of the hexagon_hvx codegen target (kernels/codegen/targets/hexagon_hvx.py) */
#include <stddef.h>
#include <stdarg.h>
static long wb_syscall6(long nr, long a, long b, long c, long d, long e, long f) {
    register long r0 __asm__("r0") = a; register long r1 __asm__("r1") = b;
    register long r2 __asm__("r2") = c; register long r3 __asm__("r3") = d;
    register long r4 __asm__("r4") = e; register long r5 __asm__("r5") = f;
    register long r6 __asm__("r6") = nr;
    __asm__ volatile("trap0(#1)" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6) : "memory");
    return r0;
}
#define WB_SYS_OPENAT 56
#define WB_SYS_CLOSE 57
#define WB_SYS_READ 63
#define WB_SYS_WRITE 64
#define WB_SYS_EXIT_GROUP 94
#define WB_SYS_MMAP2 222
void *memcpy(void *d, const void *s, size_t n) {
    unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d; }
void *memmove(void *d, const void *s, size_t n) {
    unsigned char *p = d; const unsigned char *q = s;
    if (p < q) { while (n--) *p++ = *q++; } else { p += n; q += n; while (n--) *--p = *--q; }
    return d; }
void *memset(void *d, int c, size_t n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++) if (*p != *q) return *p < *q ? -1 : 1;
    return 0; }
#define EOF (-1)
#ifndef NULL
#define NULL ((void *)0)
#endif
typedef struct { int fd; int eof; unsigned char buf[65536]; size_t pos, len; } FILE;
static FILE wb_files[4] = {{0}, {1}, {2}, {-1}};
#define stdin (&wb_files[0])
#define stdout (&wb_files[1])
#define stderr (&wb_files[2])
static FILE *fopen(const char *path, const char *mode) {
    (void)mode;
    long fd = wb_syscall6(WB_SYS_OPENAT, -100 /* AT_FDCWD */, (long)path, 0 /* O_RDONLY */, 0, 0, 0);
    if (fd < 0) return NULL;
    wb_files[3].fd = (int)fd; wb_files[3].pos = wb_files[3].len = 0; wb_files[3].eof = 0;
    return &wb_files[3];
}
static int wb_fill(FILE *f) {
    if (f->eof) return 0;
    long got = wb_syscall6(WB_SYS_READ, f->fd, (long)f->buf, sizeof f->buf, 0, 0, 0);
    if (got <= 0) { f->eof = 1; return 0; }
    f->pos = 0; f->len = (size_t)got; return 1;
}
static size_t fread(void *p, size_t size, size_t count, FILE *f) {
    unsigned char *d = p; size_t want = size * count, done = 0;
    while (done < want) {
        if (f->pos == f->len && !wb_fill(f)) break;
        size_t k = f->len - f->pos; if (k > want - done) k = want - done;
        memcpy(d + done, f->buf + f->pos, k); f->pos += k; done += k;
    }
    return size ? done / size : 0;
}
static int fgetc(FILE *f) {
    if (f->pos == f->len && !wb_fill(f)) return EOF;
    return f->buf[f->pos++];
}
static int fflush(FILE *f) {
    size_t at = 0;
    if (f->fd < 0) return EOF;
    while (at < f->len) {
        long put = wb_syscall6(WB_SYS_WRITE, f->fd, (long)(f->buf + at), (long)(f->len - at), 0, 0, 0);
        if (put <= 0) return EOF;
        at += (size_t)put;
    }
    f->len = 0; return 0;
}
static size_t fwrite(const void *p, size_t size, size_t count, FILE *f) {
    const unsigned char *s = p; size_t want = size * count, done = 0;
    while (done < want) {
        if (f->len == sizeof f->buf && fflush(f) != 0) break;
        size_t k = sizeof f->buf - f->len; if (k > want - done) k = want - done;
        memcpy(f->buf + f->len, s + done, k); f->len += k; done += k;
    }
    return size ? done / size : 0;
}
static void wb_put_u64(FILE *f, unsigned long long v) {
    static const unsigned long long tens[20] = {10000000000000000000ULL, 1000000000000000000ULL,
        100000000000000000ULL, 10000000000000000ULL, 1000000000000000ULL, 100000000000000ULL, 10000000000000ULL,
        1000000000000ULL, 100000000000ULL, 10000000000ULL, 1000000000ULL, 100000000ULL, 10000000ULL, 1000000ULL,
        100000ULL, 10000ULL, 1000ULL, 100ULL, 10ULL, 1ULL};
    int started = 0;
    for (int k = 0; k < 20; k++) {   /* no 64-bit division: the runtime has no libgcc */
        char digit = '0';
        while (v >= tens[k]) { v -= tens[k]; digit++; }
        if (digit != '0' || started || k == 19) { fwrite(&digit, 1, 1, f); started = 1; }
    }
}
static int fprintf(FILE *f, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') { fwrite(p, 1, 1, f); continue; }
        p++;
        if (*p == 's') { const char *s = va_arg(ap, const char *); while (*s) fwrite(s++, 1, 1, f); }
        else if (*p == 'd') { int v = va_arg(ap, int);
            if (v < 0) { fwrite("-", 1, 1, f); wb_put_u64(f, (unsigned long long)(-(long long)v)); }
            else wb_put_u64(f, (unsigned long long)v); }
        else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') { wb_put_u64(f, va_arg(ap, unsigned long long)); p += 2; }
        else if (*p == '%') fwrite("%", 1, 1, f);
        else if (*p == 0) break;
    }
    va_end(ap);
    if (f == stderr) fflush(f);
    return 0;
}
static void *aligned_alloc(size_t alignment, size_t size) {
    (void)alignment;                 /* mmap2 returns page-aligned memory: every HVX alignment holds */
    long p = wb_syscall6(WB_SYS_MMAP2, 0, (long)(size ? size : 1), 3 /* PROT_READ|WRITE */,
                         0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
    return (p < 0 && p > -4096) ? NULL : (void *)p;
}
int main(int argc, char **argv);
void wb_cstart(long *sp) {
    int argc = (int)sp[0];
    int code = main(argc, (char **)(sp + 1));
    fflush(stdout); fflush(stderr);
    wb_syscall6(WB_SYS_EXIT_GROUP, code, 0, 0, 0, 0, 0);
    for (;;) {}
}
__asm__(".text\n.globl _start\n.type _start,@function\n_start:\n"
        "  r0 = r29\n  r29 = and(r29, #-8)\n  call wb_cstart\n");
"""


def asm_operand(spec, value) -> str:
    """One operand in Hexagon syntax: an immediate's value (templates write the ``#``), an address
    as given, ``vN``/``qN``/``rN``."""
    if spec.is_imm:
        return str(int(value))
    if spec.is_mem:
        return str(value)
    return f"{spec.kind}{int(value)}"


TARGET = Target(
    name="hexagon_hvx",
    isa=ISA,
    description="Hexagon HVX 128-byte: C intrinsics, clang-19 freestanding, run under qemu-hexagon",
    c_prelude=C_PRELUDE,
    c_types={"v": "HVX_Vector", "q": "HVX_VectorPred", "r": "int32_t"},
    compilers=("clang-19",),
    measurement_compilers=("clang-19",),
    base_flags=BASE_FLAGS,
    extension_flags={},
    host_arches=("hexagon",),
    host_flags=(),
    asm_operand=asm_operand,
    emulator=("qemu-hexagon",),
    asm_comment="//",
    branch_prefixes=("jump", "endloop"),
    clock=None,
    runtime=RUNTIME,
    packet_asm=SYNTAX)      # `emit --lang asm`: the workbench's packets (kernels/codegen/packet_asm.py)
