"""The x86 clock: fenced rdtsc reads in C and the TSC -> core-cycle calibration.

Codegen target helper (`kernels.codegen.targets`; not a target itself: it defines no ``TARGET``).
`targets.x86_avx2` names `CLOCK`: the in-process runner brackets each kernel call with
``lfence; rdtsc; lfence`` ... ``rdtscp; lfence`` (`C_TIMING`), and `calibrate` converts ticks to
core cycles with a dependent chain of ``vpaddb`` (1-cycle latency on every AVX2 core,
research/isa.md §1.2) timed the same way. On this project's Zen 4 VM the TSC ticked ~0.707 times
per core cycle (isa.md §0). No perf counters are needed.
"""

from __future__ import annotations

import ctypes
import functools
import time

import numpy as np

from kernels.codegen.build import compile_shared
from kernels.codegen.timing import Calibration, Clock

__all__ = ["C_TIMING", "CLOCK", "calibrate", "tsc_hz", "vector_alu_throughput"]

#: Fenced TSC reads shared by the calibration, the kernel timing wrappers and the probes.
C_TIMING = """\
#include <x86intrin.h>
static inline uint64_t wb_tsc_begin(void) { _mm_lfence(); uint64_t t = __rdtsc(); _mm_lfence(); return t; }
static inline uint64_t wb_tsc_end(void) { unsigned aux; uint64_t t = __rdtscp(&aux); _mm_lfence(); return t; }
"""

_CALIBRATION_C = """\
#include <stdint.h>
""" + C_TIMING + """
/* 16 dependent vpaddb per iteration: 16 core cycles (vpaddb latency 1); loop control overlaps. */
uint64_t wb_vpaddb_chain(long iterations) {
    uint64_t t0 = wb_tsc_begin();
    __asm__ volatile(
        "vpxor %%xmm0, %%xmm0, %%xmm0\\n\\t"
        "vpcmpeqb %%ymm1, %%ymm1, %%ymm1\\n\\t"
        "mov %0, %%rcx\\n\\t"
        "1:\\n\\t"
        ".rept 16\\n\\t"
        "vpaddb %%ymm1, %%ymm0, %%ymm0\\n\\t"
        ".endr\\n\\t"
        "dec %%rcx\\n\\t"
        "jnz 1b\\n\\t"
        : : "r"(iterations) : "rcx", "xmm0", "xmm1", "cc");
    uint64_t t1 = wb_tsc_end();
    return t1 - t0;
}
/* 16 independent vpaddw per iteration over 8 registers (2 per register, the second reading the
   first's input only): limited by the FP pipes' throughput, not by latency. */
uint64_t wb_vpaddw_throughput(long iterations) {
    uint64_t t0 = wb_tsc_begin();
    __asm__ volatile(
        "vpcmpeqb %%ymm8, %%ymm8, %%ymm8\\n\\t"
        "vmovdqa %%ymm8, %%ymm9\\n\\t"
        "mov %0, %%rcx\\n\\t"
        "1:\\n\\t"
        ".irp r, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7\\n\\t"
        "vpaddw %%ymm8, %%ymm9, %%ymm\\\\r\\n\\t"
        ".endr\\n\\t"
        "dec %%rcx\\n\\t"
        "jnz 1b\\n\\t"
        : : "r"(iterations)
        : "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "cc");
    uint64_t t1 = wb_tsc_end();
    return t1 - t0;
}
uint64_t wb_empty_region(void) { uint64_t t0 = wb_tsc_begin(); uint64_t t1 = wb_tsc_end(); return t1 - t0; }
uint64_t wb_rdtsc(void) { return wb_tsc_begin(); }
"""


@functools.lru_cache(maxsize=None)
def _calibration_library():
    lib = ctypes.CDLL(str(compile_shared(_CALIBRATION_C, flags=("-O2", "-mavx2"), compiler="gcc")))
    lib.wb_vpaddb_chain.argtypes = [ctypes.c_long]
    lib.wb_vpaddb_chain.restype = ctypes.c_uint64
    lib.wb_empty_region.restype = ctypes.c_uint64
    lib.wb_vpaddw_throughput.argtypes = [ctypes.c_long]
    lib.wb_vpaddw_throughput.restype = ctypes.c_uint64
    lib.wb_rdtsc.restype = ctypes.c_uint64
    return lib


@functools.lru_cache(maxsize=None)
def calibrate(*, repeats: int = 15, iterations: int = 100_000) -> Calibration:
    """Measure TSC ticks per core cycle with a dependent vpaddb chain (cached per process)."""
    if repeats < 1 or iterations < 1:
        raise ValueError(f"calibrate: repeats {repeats} and iterations {iterations} must be positive")
    lib = _calibration_library()
    lib.wb_vpaddb_chain(iterations)                                     # warm up the clock
    ratios = np.array([lib.wb_vpaddb_chain(iterations) / (16.0 * iterations) for _ in range(repeats)])
    overhead = float(np.median([lib.wb_empty_region() for _ in range(101)]))
    median = float(np.median(ratios))
    return Calibration(median, float(np.median(np.abs(ratios - median)) / median), overhead, repeats)


@functools.lru_cache(maxsize=None)
def tsc_hz(*, seconds: float = 0.2) -> float:
    """TSC ticks per second, against the OS monotonic clock over `seconds` (cached per process).

    With `calibrate`'s ticks per core cycle this gives the core clock of the moment, so native
    cycles turn into seconds without assuming a machine file's clock (hosts change).
    """
    if seconds <= 0:
        raise ValueError(f"tsc_hz: seconds {seconds} must be positive")
    lib = _calibration_library()
    w0, t0 = time.perf_counter(), lib.wb_rdtsc()
    while time.perf_counter() - w0 < seconds:
        pass
    w1, t1 = time.perf_counter(), lib.wb_rdtsc()
    return (t1 - t0) / (w1 - w0)


def vector_alu_throughput(*, repeats: int = 9, iterations: int = 20_000) -> float:
    """Independent ``vpaddw`` per core cycle this core delivers right now (not cached).

    A host-disturbance probe: on an idle core it equals the number of vector ALU pipes (4 on Zen 4);
    when another thread shares the physical core (an SMT sibling in another VM) it drops (to
    ~2.4 measured here), and kernels bound by throughput slow alike. Each repeat times the
    independent-vpaddw loop right after the dependent vpaddb chain, and the best of each is used, so
    a core-clock change between the two barely matters.
    """
    if repeats < 1 or iterations < 1:
        raise ValueError(f"vector_alu_throughput: repeats {repeats} and iterations {iterations} must be positive")
    lib = _calibration_library()
    lib.wb_vpaddw_throughput(iterations)                                # warm up the clock
    chain = min(lib.wb_vpaddb_chain(iterations) for _ in range(repeats))
    wide = min(lib.wb_vpaddw_throughput(iterations) for _ in range(repeats))
    return (16.0 * iterations / wide) / (16.0 * iterations / chain)


#: The clock `targets.x86_avx2` names: the kernel wrappers call wb_clock_begin/end.
CLOCK = Clock(
    name="tsc",
    c_source=C_TIMING + "static inline uint64_t wb_clock_begin(void) { return wb_tsc_begin(); }\n"
                        "static inline uint64_t wb_clock_end(void) { return wb_tsc_end(); }\n",
    calibrate=calibrate,
    ticks_per_second=tsc_hz)
