"""The "emulator" cross-check: each unique shape's Program as a standalone executable, run under
the codegen target's emulator (or natively when this host runs the target).

Cross-check plug-in (`workbench.flow.crosscheck`). The ISA's codegen target emits the Program as
C with a ``main`` that reads its buffers from stdin and writes them back on stdout
(`kernels.codegen.run.standalone`); the command runs behind the target's emulator prefix
(qemu-aarch64, qemu-hexagon) on a host that cannot run it, with no prefix on one that can. Every
buffer is compared with the functional run byte for byte (`kernels.verify`); an emulator's time
says nothing about the core, so no cycles are measured: the wall time of each emulated run is
reported as what it is (seconds under the emulator, build excluded). It applies to every ISA with a codegen
target, and to any ISA whose plug-in declares it.
"""

from __future__ import annotations

import time

from kernels.codegen.run.standalone import StandaloneKernel
from kernels.codegen.targets import target_for_isa
from kernels.verify import compare_buffers
from workbench.errors import UserError
from workbench.flow.crosscheck import (CrossCheck, CrossCheckContext, CrossCheckRecord, CrossCheckResult,
                                       render_table)
from workbench.flow.crosscheck.native import requirements

__all__ = ["EmulatorCheck", "CROSSCHECK"]


class EmulatorCheck(CrossCheck):
    name = "emulator"
    title = "standalone executable under the target's emulator (none when this host runs it)"

    def applies_to(self, plugin) -> bool:
        return self.name in plugin.crosschecks or plugin.codegen_target is not None

    def refusal(self, ctx: CrossCheckContext) -> str | None:
        try:
            target_for_isa(ctx.plugin.name).run_prefix(requirements(ctx.programs))
        except UserError as exc:
            return str(exc)
        return None

    def run(self, ctx: CrossCheckContext, *, on_done=lambda: None) -> CrossCheckResult:
        target = target_for_isa(ctx.plugin.name)
        prefix = target.run_prefix(requirements(ctx.programs))
        records = []
        for case in ctx.cases:
            kernel = StandaloneKernel(case.program, target=target, prefix=prefix)
            start = time.perf_counter()
            outputs = kernel(case.inputs)
            wall = time.perf_counter() - start
            check = compare_buffers(case.functional, outputs)
            records.append(CrossCheckRecord(case.M, case.K, case.projections, check, case.model_cycles,
                                            detail={"command": kernel.command(), "wall_seconds": wall}))
            on_done()
        how = f"under {' '.join(prefix)}" if prefix else "natively (this host runs the target; no emulator prefix)"
        setup = (f"standalone executables of codegen target {target.name} ({target.compilers[0]}), run {how}; "
                 f"every buffer compared with the functional run byte for byte; no cycles (an emulator's "
                 f"time is not the core's)")
        return CrossCheckResult(self.name, setup, records, info={"target": target.name, "prefix": list(prefix)})

    def render(self, result: CrossCheckResult) -> str:
        """The generic table plus the wall time of each run under the emulator (not cycles)."""
        lines = render_table(result).splitlines()
        lines[1] += f"  {'emulated wall s':>15}"
        for k, r in enumerate(result.records, start=2):
            lines[k] = f"{lines[k]}  {r.detail['wall_seconds']:>15.3f}"
        return "\n".join(lines)


CROSSCHECK = EmulatorCheck()
