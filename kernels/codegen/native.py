"""Run an AVX2 Program natively: compile its emitted C, call it on numpy buffers, time it.

Codegen layer (`kernels.codegen`). `NativeKernel(program)` compiles `c_emit.emit_c(program)` plus
a timing wrapper with the system compiler (``-O2 -mavx2 -mfma``, and ``-mavx512vl -mavx512vnni``
when the program uses vpdpbusd), caches the ``.so`` by source hash (`build.compile_shared`), and
calls it through ctypes. Calling it mirrors the functional run (`isa_models.core.execute`):
buffers in, buffers out, byte for byte comparable. `time` returns median core cycles per call.
"""

from __future__ import annotations

import ctypes
from typing import Mapping

import numpy as np

from isa_models.core.program import Program
from kernels.codegen.build import compile_shared, flags_for, machine_info, missing_cpu_flags
from kernels.codegen.c_emit import emit_c, function_name, program_requirements
from kernels.codegen.timing import C_TIMING, TimingResult, calibrate

__all__ = ["NativeKernel"]


def _aligned(size: int, alignment: int = 64) -> np.ndarray:
    """A zeroed uint8 array of `size` bytes starting on a cache-line boundary (no split loads)."""
    raw = np.zeros(size + alignment, np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + size]


class NativeKernel:
    """A Program compiled for this CPU.

    Parameters
    ----------
    program : an AVX2 `Program`.
    compiler : "gcc" (default) or "clang".

    Raises
    ------
    OSError : the compiler is missing or fails, or this CPU lacks a feature the program needs.
    """

    def __init__(self, program: Program, *, compiler: str = "gcc"):
        self.program = program
        required = program_requirements(program)
        missing = missing_cpu_flags(("avx2", *required))
        if missing:
            raise OSError(f"native: program {program.name!r} needs CPU features {', '.join(missing)} "
                          f"this machine lacks")
        self.flags = flags_for(required)
        self.compiler = compiler
        self.source = emit_c(program) + self._timing_wrapper()
        self.library_path = compile_shared(self.source, flags=self.flags, compiler=compiler)
        self._lib = ctypes.CDLL(str(self.library_path))
        nbuf = len(program.buffers)
        self._kernel = getattr(self._lib, function_name(program))
        self._kernel.argtypes = [ctypes.c_void_p] * nbuf
        self._kernel.restype = None
        self._timer = getattr(self._lib, function_name(program) + "_timed")
        self._timer.argtypes = [ctypes.c_void_p] * nbuf + [ctypes.c_long, ctypes.c_void_p]
        self._timer.restype = None

    def _timing_wrapper(self) -> str:
        names = [f"p{k}" for k in range(len(self.program.buffers))]
        params = ", ".join(f"uint8_t *{n}" for n in names) + (", " if names else "")
        return (C_TIMING + f"void {function_name(self.program)}_timed({params}long reps, uint64_t *ticks)\n"
                "{\n    for (long r = 0; r < reps; r++) {\n"
                "        uint64_t t0 = wb_tsc_begin();\n"
                f"        {function_name(self.program)}({', '.join(names)});\n"
                "        ticks[r] = wb_tsc_end() - t0;\n    }\n}\n")

    def _prepare(self, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        unknown = set(buffers) - set(self.program.buffers)
        if unknown:
            raise ValueError(f"native: program {self.program.name!r} has no buffer {sorted(unknown)[0]!r}")
        arrays = {}
        for name, buf in self.program.buffers.items():
            if name in buffers:
                given = np.asarray(buffers[name])
                if given.nbytes != buf.size:
                    raise ValueError(f"native: buffer {name!r} of program {self.program.name!r} has "
                                     f"{given.nbytes} bytes, expected {buf.size}")
                arrays[name] = _aligned(buf.size)
                arrays[name][:] = np.ascontiguousarray(given).view(np.uint8).reshape(-1)
            elif buf.role in ("output", "scratch"):
                arrays[name] = _aligned(buf.size)
            else:
                raise ValueError(f"native: {buf.role} buffer {name!r} of program {self.program.name!r} "
                                 f"was not given")
        return arrays

    def __call__(self, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once on copies of `buffers` (name -> bytes); return every buffer afterwards (uint8).

        Output and scratch buffers that are not given start zeroed.
        """
        arrays = self._prepare(buffers)
        self._kernel(*[a.ctypes.data for a in arrays.values()])
        return arrays

    def equals_functional(self, buffers: Mapping[str, np.ndarray]) -> bool:
        """Whether one native run leaves every buffer `isa_models.core.execute` returns equal, byte
        for byte, to the functional run on the same `buffers`."""
        from isa_models.core.execute import execute

        out = self(buffers)
        return all(np.array_equal(out[name], np.asarray(value).view(np.uint8).reshape(-1))
                   for name, value in execute(self.program, buffers).items())

    def time(self, buffers: Mapping[str, np.ndarray], *, repeats: int = 101, warmup: int = 10) -> TimingResult:
        """Median core cycles per call over `repeats` calls (after `warmup` untimed-for-result calls).

        Ticks come from fenced rdtsc/rdtscp around each call, minus the empty-region overhead, and
        are converted to core cycles with `timing.calibrate` (a dependent vpaddb chain).
        """
        if repeats < 1 or warmup < 0:
            raise ValueError(f"native.time: repeats {repeats} must be >= 1 and warmup {warmup} >= 0")
        arrays = self._prepare(buffers)
        ptrs = [a.ctypes.data for a in arrays.values()]
        ticks = np.zeros(repeats + warmup, np.uint64)
        self._timer(*ptrs, repeats + warmup, ticks.ctypes.data)
        cal = calibrate()
        median_ticks = float(np.median(ticks[warmup:]))
        cycles = max(median_ticks - cal.overhead_ticks, 0.0) / cal.tsc_per_cycle
        return TimingResult(cycles=cycles, ticks=median_ticks, overhead_ticks=cal.overhead_ticks,
                            tsc_per_cycle=cal.tsc_per_cycle, repeats=repeats, machine=machine_info())
