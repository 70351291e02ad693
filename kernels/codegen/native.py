"""Run a Program natively in this process and time it with its target's clock.

Codegen layer (`kernels.codegen`), on top of the in-process runner (`run.inprocess`).
`NativeKernel(program)` compiles the emitted C plus a timing wrapper that brackets each kernel
call with the target's clock (`Target.clock`: ``wb_clock_begin``/``wb_clock_end``), caches the
``.so`` by source hash and calls it through ctypes. Calling it mirrors the functional run
(`isa_models.core.execute`): buffers in, every buffer out, byte for byte comparable. `time`
returns median core cycles per call, converted from clock ticks by the clock's calibration.
"""

from __future__ import annotations

import ctypes
from typing import Mapping

import numpy as np

from isa_models.core.program import Program
from kernels.codegen.c_emit import function_name
from kernels.codegen import host
from kernels.codegen.run.inprocess import InProcessKernel
from kernels.codegen.targets import Target, resolve_target
from kernels.codegen.timing import TimingResult

__all__ = ["NativeKernel"]


def _timing_wrapper(program: Program, clock) -> str:
    if clock is None:
        return ""
    names = [f"p{k}" for k in range(len(program.buffers))]
    params = ", ".join(f"uint8_t *{n}" for n in names) + (", " if names else "")
    return ("\n" + clock.c_source + f"void {function_name(program)}_timed({params}long reps, uint64_t *ticks)\n"
            "{\n    for (long r = 0; r < reps; r++) {\n"
            "        uint64_t t0 = wb_clock_begin();\n"
            f"        {function_name(program)}({', '.join(names)});\n"
            "        ticks[r] = wb_clock_end() - t0;\n    }\n}\n")


class NativeKernel(InProcessKernel):
    """A Program compiled for this CPU, callable and timed (an `InProcessKernel` with a clock).

    Parameters
    ----------
    program : a `Program` of an ISA with a codegen target.
    compiler : the compiler (default: the target's first, e.g. "gcc"; "clang" where listed).
    target : a `Target` or its name (default: the target of the Program's ISA).

    Raises
    ------
    UserError : this CPU cannot run the program (another architecture, a missing feature), or
        the compiler is not on PATH.
    BuildError : the compiler rejects the emitted C.
    """

    def __init__(self, program: Program, *, compiler: str | None = None, target: Target | str | None = None):
        resolved = resolve_target(target, program.isa.name)
        super().__init__(program, target=resolved, compiler=compiler,
                         extra_source=_timing_wrapper(program, resolved.clock))
        nbuf = len(program.buffers)
        self._timer = None if resolved.clock is None else self.function(
            function_name(program) + "_timed", [ctypes.c_void_p] * nbuf + [ctypes.c_long, ctypes.c_void_p])

    def time(self, buffers: Mapping[str, np.ndarray], *, repeats: int = 101, warmup: int = 10) -> TimingResult:
        """Median core cycles per call over `repeats` calls (after `warmup` untimed-for-result calls).

        Ticks come from the target's clock around each call, minus the empty-region overhead, and
        are converted to core cycles with the clock's calibration (`Clock.calibrate`).
        """
        if repeats < 1 or warmup < 0:
            raise ValueError(f"native.time: repeats {repeats} must be >= 1 and warmup {warmup} >= 0")
        if self._timer is None:
            raise ValueError(f"native.time: codegen target {self.target.name} names no clock")
        arrays = self.prepare(buffers)
        ptrs = [a.ctypes.data for a in arrays.values()]
        ticks = np.zeros(repeats + warmup, np.uint64)
        self._timer(*ptrs, repeats + warmup, ticks.ctypes.data)
        cal = self.target.clock.calibrate()
        median_ticks = float(np.median(ticks[warmup:]))
        cycles = max(median_ticks - cal.overhead_ticks, 0.0) / cal.tsc_per_cycle
        return TimingResult(cycles=cycles, ticks=median_ticks, overhead_ticks=cal.overhead_ticks,
                            tsc_per_cycle=cal.tsc_per_cycle, repeats=repeats, machine=host.machine_info())
