"""The standalone runner: a Program's emitted C plus a ``main()``, run as a subprocess.

Codegen runner (`kernels.codegen.run`). `StandaloneKernel(program)` compiles the emitted C and a
generated ``main`` (`emit_main`) into a cached executable (`build.compile_executable`) and runs
it behind a command prefix: none when the target runs on this host, the target's emulator
otherwise (``qemu-aarch64 -L <sysroot>``), or any prefix the caller gives. It returns every
buffer name -> ``uint8`` array, as `isa_models.core.execute.execute` does.

Framing (both directions, buffers in the Program's declaration order, every buffer present)::

    repeat for each buffer:  size  (8 bytes, unsigned little-endian)  then  size bytes

The executable reads this from the file named by its only argument, or from stdin when it has
none; checks every size against the declaration and that nothing follows the last buffer (else
exit code 2 with a line on stderr naming the buffer); runs the kernel once; writes every buffer,
framed the same way, to stdout and exits 0.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import numpy as np

from isa_models.core.program import Program
from kernels.codegen.build import compile_executable
from kernels.codegen.c_emit import c_identifier, emit_c, function_name, program_requirements
from kernels.codegen.run.buffers import functional_mismatches, prepare_buffers
from kernels.codegen.targets import Target, resolve_target
from workbench.errors import UserError

__all__ = ["RunError", "StandaloneKernel", "run_standalone", "emit_main", "encode_buffers", "decode_buffers"]

#: bytes of each buffer's size field (unsigned little-endian)
SIZE_BYTES = 8


class RunError(RuntimeError):
    """The executable failed: a crash (signal), a non-zero exit, a timeout or malformed output.
    The message names the program, the command and the executable's stderr."""


#: the C library a hosted target's standalone main uses (a freestanding target supplies
#: `Target.runtime` instead: the same subset of functions, on system calls)
_HOSTED = """
#include <stdio.h>
#include <stdlib.h>
"""

_MAIN = """
/* ---- standalone main (kernels.codegen.run.standalone): buffers framed as
   [8-byte little-endian size][bytes] in declaration order, from argv[1] or stdin, back on stdout */
{runtime}
static int wb_read_exact(FILE *f, uint8_t *p, size_t n) {{
    while (n > 0) {{ size_t got = fread(p, 1, n, f); if (got == 0) return 0; p += got; n -= got; }}
    return 1;
}}
static int wb_read_size(FILE *f, uint64_t *n) {{
    uint8_t b[{size_bytes}]; if (!wb_read_exact(f, b, {size_bytes})) return 0;
    *n = 0; for (int k = {size_bytes} - 1; k >= 0; k--) *n = (*n << 8) | b[k];
    return 1;
}}
static int wb_write_size(FILE *f, uint64_t n) {{
    uint8_t b[{size_bytes}]; for (int k = 0; k < {size_bytes}; k++) {{ b[k] = (uint8_t)(n & 0xff); n >>= 8; }}
    return fwrite(b, 1, {size_bytes}, f) == {size_bytes};
}}
int main(int argc, char **argv)
{{
    static const char *names[{dim}] = {{{names}}};
    static const uint64_t sizes[{dim}] = {{{sizes}}};
    uint8_t *bufs[{dim}];
    if (argc > 2) {{ fprintf(stderr, "wb_main: usage: %s [input-file] (else stdin)\\n", argv[0]); return 2; }}
    FILE *in = argc == 2 ? fopen(argv[1], "rb") : stdin;
    if (in == NULL) {{ fprintf(stderr, "wb_main: cannot open %s\\n", argv[1]); return 2; }}
    for (int k = 0; k < {count}; k++) {{
        uint64_t n;
        if (!wb_read_size(in, &n)) {{ fprintf(stderr, "wb_main: input ends before buffer %s\\n", names[k]); return 2; }}
        if (n != sizes[k]) {{
            fprintf(stderr, "wb_main: buffer %s has %llu bytes, expected %llu\\n", names[k],
                    (unsigned long long)n, (unsigned long long)sizes[k]);
            return 2;
        }}
        bufs[k] = aligned_alloc(64, (sizes[k] + 63) / 64 * 64 + 64);
        if (bufs[k] == NULL) {{ fprintf(stderr, "wb_main: out of memory for buffer %s\\n", names[k]); return 2; }}
        if (!wb_read_exact(in, bufs[k], n)) {{ fprintf(stderr, "wb_main: input ends inside buffer %s\\n", names[k]); return 2; }}
    }}
    if (fgetc(in) != EOF) {{ fprintf(stderr, "wb_main: bytes after the last buffer\\n"); return 2; }}
    {call}
    for (int k = 0; k < {count}; k++)
        if (!wb_write_size(stdout, sizes[k]) || fwrite(bufs[k], 1, sizes[k], stdout) != sizes[k]) {{
            fprintf(stderr, "wb_main: cannot write buffer %s\\n", names[k]); return 3;
        }}
    return fflush(stdout) == 0 ? 0 : 3;
}}
"""


def emit_main(program: Program, *, target: Target | str | None = None) -> str:
    """C ``main()`` for `program`'s kernel function under the module's framing (appended to
    `c_emit.emit_c`'s output). A freestanding target (`Target.runtime`) gets its runtime in
    place of the hosted C library headers."""
    t = resolve_target(target, program.isa.name)
    count = len(program.buffers)
    names = ", ".join(f'"{c_identifier(n, "")}"' for n in program.buffers) or '""'
    sizes = ", ".join(f"{b.size}ULL" for b in program.buffers.values()) or "0"
    args = ", ".join(f"bufs[{k}]" for k in range(count))
    return _MAIN.format(runtime=t.runtime if t.runtime is not None else _HOSTED, size_bytes=SIZE_BYTES,
                        count=count, dim=max(count, 1), names=names, sizes=sizes,
                        call=f"{function_name(program)}({args});")


def encode_buffers(program: Program, arrays: Mapping[str, np.ndarray]) -> bytes:
    """Every buffer of `program` framed in declaration order (`arrays` holds each one's bytes)."""
    parts = []
    for name in program.buffers:
        data = np.ascontiguousarray(arrays[name]).view(np.uint8).reshape(-1)
        parts += [len(data).to_bytes(SIZE_BYTES, "little"), data.tobytes()]
    return b"".join(parts)


def decode_buffers(program: Program, payload: bytes, *, what: str = "output") -> dict[str, np.ndarray]:
    """The framed buffers of `payload` as name -> ``uint8`` array; a RunError names the first
    buffer that is missing, of the wrong size or cut short, or bytes after the last one."""
    out, at = {}, 0
    for name, buf in program.buffers.items():
        if at + SIZE_BYTES > len(payload):
            raise RunError(f"standalone: {what} of program {program.name!r} ends before buffer {name!r}")
        size = int.from_bytes(payload[at:at + SIZE_BYTES], "little")
        at += SIZE_BYTES
        if size != buf.size:
            raise RunError(f"standalone: {what} of program {program.name!r}: buffer {name!r} has {size} "
                           f"bytes, expected {buf.size}")
        if at + size > len(payload):
            raise RunError(f"standalone: {what} of program {program.name!r} ends inside buffer {name!r}")
        out[name] = np.frombuffer(payload, np.uint8, size, at).copy()
        at += size
    if at != len(payload):
        raise RunError(f"standalone: {what} of program {program.name!r} has {len(payload) - at} bytes after "
                       f"the last buffer")
    return out


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class StandaloneKernel:
    """A Program compiled into an executable fed its buffers through stdin or a file.

    Parameters
    ----------
    program : the Program.
    target : a `Target` or its name (default: the target of the Program's ISA).
    compiler : the compiler (default: the target's first).
    prefix : the command prefix (an emulator and its options, a wrapper; ``()`` for none).
        Default: ``()`` when this host runs the target natively, else the target's emulator
        (`Target.run_prefix`: a UserError when it names none).
    timeout : seconds one run may take before it is a RunError.

    Attributes
    ----------
    program, target, compiler, flags, prefix, timeout, source (the compiled C, main included),
    executable (the cached executable's path).

    Raises
    ------
    UserError : the compiler is not on PATH, a needed feature has no flag, or the host cannot
        run the target and no prefix is known.
    BuildError : the compiler rejects the emitted C.
    """

    def __init__(self, program: Program, *, target: Target | str | None = None, compiler: str | None = None,
                 prefix=None, timeout: float = 120.0):
        if timeout <= 0:
            raise UserError(f"standalone: timeout {timeout} must be positive")
        self.program = program
        self.target = resolve_target(target, program.isa.name)
        self.compiler = compiler or self.target.compilers[0]
        required = program_requirements(program)
        self.flags = self.target.flags_for(required, self.compiler)
        self.prefix = tuple(prefix) if prefix is not None else self.target.run_prefix(required)
        self.timeout = timeout
        self.source = emit_c(program, target=self.target) + emit_main(program, target=self.target)
        self.executable = compile_executable(self.source, flags=self.flags, compiler=self.compiler)

    def command(self, input_path: str | Path | None = None) -> list[str]:
        """The command line of one run (reading `input_path`, else stdin)."""
        return [*self.prefix, str(self.executable), *([str(input_path)] if input_path is not None else [])]

    def _run(self, cmd: list[str], stdin: bytes | None) -> bytes:
        try:
            proc = subprocess.run(cmd, input=stdin if stdin is not None else b"", capture_output=True,
                                  timeout=self.timeout)
        except FileNotFoundError:
            raise UserError(f"standalone: cannot run {cmd[0]!r} (command prefix {' '.join(self.prefix) or 'none'}): "
                            f"not found") from None
        except subprocess.TimeoutExpired:
            raise RunError(f"standalone: program {self.program.name!r} did not finish within {self.timeout} s "
                           f"({' '.join(cmd)})") from None
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()[-2000:]
            raise RunError(f"standalone: program {self.program.name!r} {_describe_exit(proc.returncode)} "
                           f"({' '.join(cmd)})" + (f": {err}" if err else ""))
        return proc.stdout

    def __call__(self, buffers: Mapping[str, np.ndarray], *, via: str = "stdin") -> dict[str, np.ndarray]:
        """Run once on `buffers` (name -> bytes); return every buffer afterwards (uint8).

        Output and scratch buffers that are not given start zeroed. `via`: "stdin" pipes the
        framed buffers in, "file" writes them to a temporary file named as the argument.
        """
        if via not in ("stdin", "file"):
            raise UserError(f"standalone: via {via!r} is not stdin or file")
        payload = encode_buffers(self.program, prepare_buffers(self.program, buffers, who="standalone"))
        if via == "stdin":
            return decode_buffers(self.program, self._run(self.command(), payload))
        with tempfile.TemporaryDirectory(prefix="wb_run_") as tmp:
            path = Path(tmp) / "buffers.bin"
            path.write_bytes(payload)
            return decode_buffers(self.program, self._run(self.command(path), None))

    def equals_functional(self, buffers: Mapping[str, np.ndarray]) -> bool:
        """Whether one run leaves every buffer equal, byte for byte, to the functional run
        (`isa_models.core.execute`) on the same `buffers`."""
        return not functional_mismatches(self.program, buffers, self(buffers))


def run_standalone(program: Program, buffers: Mapping[str, np.ndarray], *, target: Target | str | None = None,
                   compiler: str | None = None, prefix=None, via: str = "stdin",
                   timeout: float = 120.0) -> dict[str, np.ndarray]:
    """Compile `program` with a ``main`` (cached) and run it once as a subprocess on `buffers`
    (behind `prefix`, see `StandaloneKernel`); every buffer name -> its ``uint8`` contents."""
    return StandaloneKernel(program, target=target, compiler=compiler, prefix=prefix,
                            timeout=timeout)(buffers, via=via)
