"""The AVX2 `ISA` object, operand shorthands, the C prelude and helpers that register forms.

Semantics layer (`isa_models.avx2`). The family modules (arith, madd, logic, shift, shuffle,
convert, loadstore, floatops) register their instruction forms on `AVX2` through
`isa.instruction` or the helpers below, which stamp out the usual trio of a VEX binary op: the
ymm register form ``<mn>_ymm``, the form with a memory second source ``<mn>_ymm_m`` (same
scheduling class: the timing engine adds the load micro-op) and, where kernels need it, the xmm
form ``<mn>_xmm``.

Register files: ``ymm`` (16 x 32 bytes) and ``gpr`` (16 x 8 bytes). An xmm operand is a ymm
register used at width 16; VEX xmm results zero the upper half (the executor zero-extends narrow
outputs, and the C templates use `WB_ZEXT128`). C templates rely on the macros in `C_PRELUDE`.
"""

from __future__ import annotations

from typing import Callable

from isa_models.core.isa import ISA, InstrDef, imm, mem, reg

__all__ = ["AVX2", "Y", "X", "G", "I8", "I1", "C_PRELUDE", "binary",
           "unary", "mem_form", "vnni_required"]

#: VEX encoding: an xmm result zeroes bits 255:128 of its ymm register (Intel SDM vol. 1 §14.1.2);
#: the AT&T templates leave an immediate's ``$`` to the operand
AVX2 = ISA("avx2", register_files={"ymm": (16, 32), "gpr": (16, 8)}, narrow_write="zero_extend",
           asm_immediate="${}")

Y = reg("ymm", 32)   # a full ymm register
X = reg("ymm", 16)   # the low 128 bits of a ymm register (an xmm operand)
G = reg("gpr", 8)    # a 64-bit general-purpose register
I8 = imm(8)          # an 8-bit immediate
I1 = imm(1)          # a 1-bit immediate (vextracti128 / vinserti128 lane select)

#: Macros every C template may use; the x86_avx2 codegen target (kernels/codegen/targets/x86_avx2.py)
#: emits them once at the top of each generated C file.
C_PRELUDE = """\
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#define WB_LO128(v) _mm256_castsi256_si128(v)
#define WB_ZEXT128(v) _mm256_zextsi128_si256(v)
#define WB_LOAD256(p) _mm256_loadu_si256((const __m256i *)(p))
#define WB_LOAD128(p) _mm_loadu_si128((const __m128i *)(p))
static inline int8_t wb_load8(const void *p) { int8_t v; memcpy(&v, p, 1); return v; }
static inline int16_t wb_load16(const void *p) { int16_t v; memcpy(&v, p, 2); return v; }
static inline int32_t wb_load32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline int64_t wb_load64(const void *p) { int64_t v; memcpy(&v, p, 8); return v; }
/* fp32 ops as inline asm (see floatops.py): the Program's exact instruction and operand order;
   intrinsics would let gcc fuse vmulps + vaddps into an FMA (-mfma with its default
   -ffp-contract=fast), let either compiler swap the sources, which changes the NaN kept, and let
   clang load an integer-typed broadcast with vpbroadcastd. */
#define WB_FP_BINARY(mn) \
  static inline __m256i wb_##mn(__m256i a, __m256i b) { \
    __m256i r; __asm__(#mn " %t2, %t1, %t0" : "=x"(r) : "x"(a), "x"(b)); return r; } \
  static inline __m256i wb_##mn##_m(__m256i a, const void *p) { \
    __m256i r; __asm__(#mn " %2, %t1, %t0" : "=x"(r) : "x"(a), "m"(*(const uint8_t (*)[32])p)); return r; }
WB_FP_BINARY(vaddps)
WB_FP_BINARY(vsubps)
WB_FP_BINARY(vmulps)
static inline __m256i wb_vbroadcastss(const void *p) {
  __m256i r; __asm__("vbroadcastss %1, %t0" : "=x"(r) : "m"(*(const uint8_t (*)[4])p)); return r; }
"""

#: attrs of the EVEX AVX512-VNNI forms (this ISA model's only non-AVX2 extension).
vnni_required = ("avx512vl", "avx512_vnni")


def mem_form(c_template: str, operand: int, width: int = 32) -> str:
    """Rewrite a register C template so input `operand` is loaded from a pointer expression."""
    load = "WB_LOAD256" if width == 32 else "WB_LOAD128"
    return c_template.replace(f"{{i{operand}}}", f"{load}({{i{operand}}})")


def binary(intrinsic: str, *, memory: bool = True, xmm: str | None = None,
           xmm_sched_distinct: bool = False, **attrs) -> Callable[[Callable], Callable]:
    """Register ``fn`` (named ``<mn>_ymm``) as a two-source VEX op ``dst = op(src1, src2)``.

    Parameters
    ----------
    intrinsic : the ``_mm256_`` intrinsic suffix, e.g. ``"add_epi8"``.
    memory : also register ``<mn>_ymm_m`` with src2 from a 32-byte memory operand.
    xmm : if given, the ``_mm_`` intrinsic suffix of the xmm form ``<mn>_xmm``.
    xmm_sched_distinct : give the xmm form its own class ``avx2.<mn>.x`` (its timing differs).
    """
    def wrap(fn: Callable) -> Callable:
        name = fn.__name__
        mn = name.split("_")[0]
        c = f"{{o0}} = _mm256_{intrinsic}({{i0}}, {{i1}});"
        asm = f"{mn} {{i1}}, {{i0}}, {{o0}}"
        sched = f"avx2.{mn}"
        AVX2.define(InstrDef(name, mn, (Y,), (Y, Y), sched, fn, asm, c, attrs=dict(attrs)))
        if memory:
            AVX2.define(InstrDef(f"{name}_m", mn, (Y,), (Y, mem(32)), sched, fn, asm,
                                 mem_form(c, 1), attrs=dict(attrs)))
        if xmm:
            cx = f"{{o0}} = WB_ZEXT128(_mm_{xmm}(WB_LO128({{i0}}), WB_LO128({{i1}})));"
            AVX2.define(InstrDef(f"{mn}_xmm", mn, (X,), (X, X),
                                 f"{sched}.x" if xmm_sched_distinct else sched, fn, asm, cx,
                                 attrs=dict(attrs)))
        return fn
    return wrap


def unary(intrinsic: str, *, memory: bool = True, **attrs) -> Callable[[Callable], Callable]:
    """Register ``fn`` (named ``<mn>_ymm``) as a one-source VEX op, plus ``<mn>_ymm_m``."""
    def wrap(fn: Callable) -> Callable:
        name = fn.__name__
        mn = name.split("_")[0]
        c = f"{{o0}} = _mm256_{intrinsic}({{i0}});"
        asm = f"{mn} {{i0}}, {{o0}}"
        AVX2.define(InstrDef(name, mn, (Y,), (Y,), f"avx2.{mn}", fn, asm, c, attrs=dict(attrs)))
        if memory:
            AVX2.define(InstrDef(f"{name}_m", mn, (Y,), (mem(32),), f"avx2.{mn}", fn, asm,
                                 mem_form(c, 0), attrs=dict(attrs)))
        return fn
    return wrap
