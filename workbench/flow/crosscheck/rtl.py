"""The "rtl" cross-check: each unique shape's command stream played on the generated RTL.

Cross-check plug-in (`workbench.flow.crosscheck`), ``simulate --rtl``. `sims.cosim.cosimulate`
lowers every unique shape's Program, plays the streams on the Amaranth RTL in cocotb (Icarus by
default, or Verilator) and reads the output buffers back from its DRAM; `kernels.verify`
compares them with the functional run byte for byte (the int32 accumulators, as the array writes
them), and the RTL's cycle count must equal the model's, command issue cycles included. The RTL
is the ISA's own (the plug-in declares "rtl"); the simulator's log is kept in the build folder.
"""

from __future__ import annotations

from kernels.verify import compare_buffers
from sims.cosim import cosimulate
from sims.runner import simulator_available
from workbench.flow.crosscheck import CrossCheck, CrossCheckContext, CrossCheckRecord, CrossCheckResult

__all__ = ["RtlCheck", "CROSSCHECK", "SIMULATORS"]

SIMULATORS = ("icarus", "verilator")


class RtlCheck(CrossCheck):
    name = "rtl"
    title = "RTL co-simulation (cocotb): integers and cycle counts equal to the model's"
    measures = True

    def refusal(self, ctx: CrossCheckContext) -> str | None:
        return simulator_available(ctx.options.get("simulator") or SIMULATORS[0])

    def run(self, ctx: CrossCheckContext, *, on_done=lambda: None) -> CrossCheckResult:
        sim = ctx.options.get("simulator") or SIMULATORS[0]
        streams = [(f"L{c.layer}.{c.projections[0]}", c.program, c.inputs) for c in ctx.cases]
        results, info = cosimulate(ctx.machine, streams, sim=sim)
        records = []
        for case, res in zip(ctx.cases, results):
            check = compare_buffers(case.functional, res["outputs"], names=case.output_names)
            problems = []
            if not res["completed"]:
                problems.append("the RTL did not finish the stream within its cycle budget")
            if res["refused_beat"] is not None:
                problems.append(f"the RTL refused a DMA beat at cycle {res['refused_beat']}")
            if not res["issue_cycles_identical"]:
                problems.append(f"issue cycles differ from command {res['first_issue_difference']}")
            records.append(CrossCheckRecord(
                case.M, case.K, case.projections, check, case.model_cycles, measured_cycles=res["rtl_cycles"],
                cycles_must_equal=True, problems=tuple(problems),
                detail={"commands": res["commands"], "issue_cycles_identical": res["issue_cycles_identical"],
                        "first_issue_difference": res["first_issue_difference"],
                        "cycle_model_cycles": res["model_cycles"], "completed": res["completed"],
                        "sim_seconds": res["sim_seconds"]}))
            on_done()
        setup = (f"{sim} (cocotb) on the RTL of {ctx.machine.name}: each unique shape's full command stream "
                 f"(inputs of its first projection); output buffers compared with the functional run byte "
                 f"for byte, cycles with the model's")
        return CrossCheckResult(self.name, setup, records,
                                info={"simulator": sim, "build_seconds": info["build_seconds"], "log": info["log"]})

    def render(self, result: CrossCheckResult) -> str:
        lines = [f"Cross-check rtl: {result.setup}",
                 f"{'M':>6} {'K':>6} {'projections':<16} {'cmds':>6} {'model cyc':>10} {'RTL cyc':>10} "
                 f"{'sim s':>7}  integers identical, cycles equal"]
        for r in result.records:
            ident = "yes" if r.check.status == "VERIFIED" else f"NO: {r.check.describe()}"
            equal = "yes" if r.cycles_equal and not r.problems else "NO" + (f": {'; '.join(r.problems)}"
                                                                            if r.problems else "")
            lines.append(f"{r.M:>6} {r.K:>6} {','.join(r.projections):<16} {r.detail['commands']:>6} "
                         f"{r.model_cycles:>10,.0f} {r.measured_cycles:>10,} {r.detail['sim_seconds']:>7.1f}  "
                         f"{ident}, {equal}")
        lines.append(f"simulator log: {result.info['log']}")
        lines.append("co-simulation: " + ("integers and cycle counts identical" if result.ok else "MISMATCH"))
        return "\n".join(lines)


CROSSCHECK = RtlCheck()
