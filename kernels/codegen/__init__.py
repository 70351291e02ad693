"""Code emission for Programs: C intrinsics, inner-loop assembly, native compile/run/timing.

Codegen layer (DESIGN.md §3, use 3). `emit_c` turns an AVX2 Program into a C function,
`emit_asm` cuts its innermost loops out of the compiler's assembly for llvm-mca, `NativeKernel`
compiles, runs (bit-exact against `isa_models.core.execute`) and times it with rdtsc calibrated
to core cycles (`calibrate`), `machine_info` names the CPU the numbers come from and
`host_machine` picks the machine description that models it.
"""

from kernels.codegen.build import compile_shared, describe_host, host_check, host_machine, machine_info
from kernels.codegen.c_emit import emit_asm, emit_c, render_asm, render_c
from kernels.codegen.native import NativeKernel
from kernels.codegen.timing import Calibration, TimingResult, calibrate

__all__ = ["emit_c", "emit_asm", "render_c", "render_asm", "NativeKernel", "calibrate", "Calibration",
           "TimingResult", "compile_shared", "machine_info",
           "host_machine", "host_check", "describe_host"]
