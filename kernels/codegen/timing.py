"""What a target's clock is and what a native timing returns.

Codegen layer (`kernels.codegen`). A target that can time its code natively names a `Clock`: C
source defining ``uint64_t wb_clock_begin(void)`` and ``uint64_t wb_clock_end(void)`` (fenced
reads of a tick counter, bracketed around each kernel call by the in-process runner), a
calibration from ticks to core cycles and the tick rate in Hz. The x86 clock (fenced rdtsc, a
dependent vpaddb chain as the cycle reference) is `kernels.codegen.targets.x86_tsc`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Clock", "Calibration", "TimingResult"]


@dataclass(frozen=True)
class Calibration:
    """Clock ticks per core cycle (median over repeats), its spread, and the region overhead.

    tsc_per_cycle : median ticks per core cycle over the repeats (the target clock's ticks; on
        x86 the time-stamp counter's).
    spread : median absolute deviation / median of the repeat ratios (robust to a preempted run).
    overhead_ticks : median ticks of an empty bracketed region (subtracted from kernel timings).
    repeats : how many ratios the median is over.
    """

    tsc_per_cycle: float
    spread: float
    overhead_ticks: float
    repeats: int


@dataclass(frozen=True)
class TimingResult:
    """A kernel timing: median core cycles per call with how it was obtained."""

    cycles: float                 # median core cycles per call (overhead removed)
    ticks: float                  # median clock ticks per call (raw, overhead included)
    overhead_ticks: float
    tsc_per_cycle: float
    repeats: int
    machine: dict = field(default_factory=dict)

    def describe(self) -> str:
        m = self.machine
        return (f"{self.cycles:.1f} core cycles (median of {self.repeats}; {self.ticks:.0f} clock ticks, "
                f"{self.tsc_per_cycle:.3f} ticks/cycle) on {m.get('model_name')} "
                f"(family {m.get('family')}, model {m.get('model')})")


@dataclass(frozen=True)
class Clock:
    """How a target measures native code.

    name : a short name for reports ("tsc").
    c_source : C (after the target's prelude) defining ``static inline uint64_t
        wb_clock_begin(void)`` and ``wb_clock_end(void)``; the timed region is between them.
    calibrate : ``() -> Calibration`` (cached by the clock's module).
    ticks_per_second : ``() -> float``, the tick rate against the OS clock.
    """

    name: str
    c_source: str
    calibrate: Callable[[], Calibration]
    ticks_per_second: Callable[[], float]
