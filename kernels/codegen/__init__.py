"""Code generation for Programs: C for a codegen target, assembly for llvm-mca, native and
standalone runs.

Codegen layer (DESIGN.md §3, use 3; §8). A target (`targets/<name>.py`, found by
`target_for_isa`) holds what one toolchain and host kind need: C prelude and register types,
compilers and flags, whether this host runs its code (else the emulator prefix that does), its
assembly syntax and its clock. `emit_c` turns a Program into C for its target, `emit_asm` cuts its
innermost loops out of the compiler's assembly; the runners (`run`) return every buffer like the
functional executor: `InProcessKernel` (ctypes), `StandaloneKernel` (a subprocess behind an
optional emulator prefix), and `NativeKernel` (in-process, timed in core cycles by the target's
clock). `host` describes the CPU underneath and `host_machine` picks the machine file modelling it.
"""

from kernels.codegen.build import BuildError
from kernels.codegen.c_emit import emit_asm, emit_c, program_requirements, render_asm, render_c
from kernels.codegen.host import (cpu_flags, describe_host, host_check, host_machine, host_machines, machine_info,
                                  missing_cpu_flags)
from kernels.codegen.native import NativeKernel
from kernels.codegen.run import (InProcessKernel, RunError, StandaloneKernel, functional_mismatches,
                                 run_inprocess, run_standalone)
from kernels.codegen.targets import Target, get_target, target_for_isa, target_names
from kernels.codegen.timing import Calibration, Clock, TimingResult

__all__ = ["emit_c", "emit_asm", "render_c", "render_asm", "program_requirements", "NativeKernel",
           "InProcessKernel", "StandaloneKernel", "run_inprocess", "run_standalone", "functional_mismatches",
           "RunError", "BuildError", "Target", "target_names", "get_target", "target_for_isa", "Clock",
           "Calibration", "TimingResult", "machine_info", "cpu_flags", "missing_cpu_flags",
           "host_machine", "host_machines", "host_check", "describe_host"]
