"""The "native" cross-check: each unique shape's Program compiled for this CPU, run and timed here.

Cross-check plug-in (`workbench.flow.crosscheck`), ``simulate --native``. The ISA's codegen target
(`kernels.codegen.targets`) emits the Program as C, the in-process runner calls it through ctypes
on the same buffers as the functional run (`kernels.codegen.NativeKernel`), `kernels.verify`
compares every buffer byte for byte, and the target's clock times it: the least of a few medians
of repeated warm calls, in core cycles, beside the model's cycles. Native cycles check a model
only on the core it models, so the machine must be the one modelling this CPU (`--machine host`,
the default on such a host).
"""

from __future__ import annotations

import shutil

from kernels.codegen import NativeKernel, host
from kernels.codegen.c_emit import program_requirements
from kernels.codegen.targets import target_for_isa
from kernels.verify import compare_buffers
from workbench.errors import UserError
from workbench.flow.crosscheck import CrossCheck, CrossCheckContext, CrossCheckRecord, CrossCheckResult

__all__ = ["NativeCheck", "CROSSCHECK", "REPEATS", "PASSES", "native_refusal", "native_setup", "requirements"]

#: calls per timed median and medians per shape
REPEATS, PASSES = 21, 3


def requirements(programs) -> tuple[str, ...]:
    """CPU features `programs` need beyond their target's base (first-use order)."""
    return tuple(dict.fromkeys(f for program in programs for f in program_requirements(program)))


def native_refusal(isa: str, machine_name: str, programs=()) -> str | None:
    """Why `programs` of `isa` cannot be run and timed here against machine `machine_name`'s model,
    or None: no codegen target, a CPU that cannot run it or lacks a feature they need, a target
    with no clock, a machine that does not model this CPU, a measurement compiler not on PATH."""
    try:
        target = target_for_isa(isa)
    except UserError as exc:
        return str(exc).splitlines()[0]
    problem = target.native_problem(requirements(programs))
    if problem is not None:
        return problem
    if target.clock is None:
        return f"codegen target {target.name} names no clock: its native runs cannot be timed"
    _, reason = host.host_check(machine_name, isa)
    if reason is not None:
        return f"{reason}, not {machine_name}: its cycles cannot check that model (use --machine host)"
    compiler = target.measurement_compiler()
    if shutil.which(compiler) is None:
        return f"compiler {compiler} (codegen target {target.name}) is not on PATH"
    return None


def native_setup(target, compiler: str, *, interleaved: bool = False) -> tuple[str, dict]:
    """The line saying how native cycles were measured, and its record (host, compiler, target,
    repeats, passes); `interleaved`: the passes alternate between several configurations."""
    how = "interleaved medians" if interleaved else "medians"
    setup = (f"{host.describe_host()}: emitted C ({compiler} {' '.join(target.base_flags)}), least of "
             f"{PASSES} {how} of {REPEATS} warm calls, core cycles ({target.clock.name} calibrated); every "
             f"buffer compared with the functional run byte for byte")
    return setup, {"host": host.describe_host(), "compiler": compiler, "target": target.name,
                   "repeats": REPEATS, "passes": PASSES}


class NativeCheck(CrossCheck):
    name = "native"
    title = "compiled and run on this CPU, timed with the target's clock"
    measures = True

    def refusal(self, ctx: CrossCheckContext) -> str | None:
        if ctx.cold:
            return "native runs time repeated (warm) calls; they cannot check a --cold prediction"
        return native_refusal(ctx.plugin.name, ctx.machine.name, ctx.programs)

    def run(self, ctx: CrossCheckContext, *, on_done=lambda: None) -> CrossCheckResult:
        target = target_for_isa(ctx.plugin.name)
        compiler = target.measurement_compiler()
        records = []
        for case in ctx.cases:
            kernel = NativeKernel(case.program, compiler=compiler, target=target)
            check = compare_buffers(case.functional, kernel(case.inputs))
            cycles = min(kernel.time(case.inputs, repeats=REPEATS, warmup=3).cycles for _ in range(PASSES))
            records.append(CrossCheckRecord(case.M, case.K, case.projections, check, case.model_cycles,
                                            measured_cycles=cycles,
                                            detail={"compiler": compiler, "flags": list(kernel.flags)}))
            on_done()
        setup, info = native_setup(target, compiler)
        return CrossCheckResult(self.name, setup, records, info=info)


CROSSCHECK = NativeCheck()
