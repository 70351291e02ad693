"""Summary view: total cycles, time at clock, IPC, and per loop cycles/iteration with its bounds.

Engine layer, a listener over `time_program`: it keeps the final `TimingResult` and renders one
table of loops plus a bound table per loop with the binding bound marked `*`.
"""

from __future__ import annotations

from isa_models.core.timing.events import Listener

__all__ = ["SummaryView"]


class SummaryView(Listener):
    """Cycles, cycles/iteration of each loop, IPC, time at clock, bounds with the binding one marked."""

    def __init__(self):
        self.result = None

    def on_program_end(self, result) -> None:
        self.result = result

    def _need(self):
        if self.result is None:
            raise ValueError("SummaryView: no timing run yet (pass it in time_program(listeners=[...]))")
        return self.result

    def render_text(self) -> str:
        r = self._need()
        m = r.machine
        lines = [f"Program {r.program} on {m.name} ({m.description}) @ {m.clock_ghz:g} GHz",
                 f"Instructions:   {r.instructions}",
                 f"Total cycles:   {r.cycles:.0f}",
                 f"IPC:            {r.ipc:.2f}",
                 f"Time at clock:  {r.seconds * 1e6:.3f} us",
                 f"Binding bound:  {r.binding}",
                 "",
                 f"{'loop':<14}{'depth':>5}{'trip':>8}{'instrs':>7}{'uops/it':>8}{'body c/it':>10}"
                 f"{'c/it':>11}{'cycles':>13}{'memory':>8}  binding"]
        for lr in r.loops:
            name = ("  " * lr.depth + lr.loop + (" (par)" if lr.parallel else ""))[:14]
            lines.append(f"{name:<14}{lr.depth:>5}{lr.trip:>8}{lr.n_instructions:>7}{lr.uops_per_iteration:>8}"
                         f"{lr.body_cycles_per_iteration:>10.2f}{lr.cycles_per_iteration:>11.2f}"
                         f"{lr.cycles:>13.0f}{lr.memory_level:>8}  {lr.binding}")
        for lr in r.loops:
            if not lr.bounds:
                continue
            lines += ["", f"Bounds for loop {lr.loop} (cycles per iteration; * = largest)"]
            top = max(lr.bounds, key=lambda b: b.cycles)
            for b in lr.bounds:
                mark = "*" if b is top else " "
                lines.append(f" {mark} {b.name:<11}{b.cycles:>10.2f}  {b.detail}")
            if lr.n_instructions:
                lines.append(f"   {'simulated':<11}{lr.body_cycles_per_iteration:>10.2f}  "
                             f"steady state of the loop's own instructions over {lr.simulated_iterations} iterations")
        return "\n".join(lines)

    def to_json(self) -> dict:
        r = self._need()
        return {"view": "summary", **r.to_json()}
