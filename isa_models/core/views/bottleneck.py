"""Bottleneck view: which resource binds each loop, and by how much it leads the next bound.

Engine layer, a listener over the final `TimingResult` (uiCA/Facile style: the simulated figure
next to every analytic bound; every bound within 2% of the largest is reported as binding too).
"""

from __future__ import annotations

from isa_models.core.timing.events import Listener

__all__ = ["BottleneckView"]


class BottleneckView(Listener):
    """Per loop: the binding bound, its margin over the runner-up, and the simulated figure."""

    def __init__(self):
        self.result = None

    def on_program_end(self, result) -> None:
        self.result = result

    def analyse(self) -> list[dict]:
        if self.result is None:
            raise ValueError("BottleneckView: no timing run yet")
        out = []
        for lr in self.result.loops:
            if not lr.bounds:
                continue
            ranked = sorted(lr.bounds, key=lambda b: -b.cycles)
            top = ranked[0]
            nxt = ranked[1] if len(ranked) > 1 else None
            out.append({
                "loop": lr.loop, "binding": lr.binding, "top_bound": top.name, "top_detail": top.detail,
                "top_cycles": top.cycles, "runner_up": nxt.name if nxt else None,
                "runner_up_cycles": nxt.cycles if nxt else 0.0,
                "margin": (top.cycles / nxt.cycles if nxt and nxt.cycles else None),
                "co_binding": [b.name for b in ranked[1:] if b.cycles >= 0.98 * top.cycles],
                "simulated": lr.body_cycles_per_iteration if lr.n_instructions else None,
                "cycles_per_iteration": lr.cycles_per_iteration,
            })
        return out

    def render_text(self) -> str:
        lines = [f"Bottlenecks of {self.result.program if self.result else '?'} "
                 f"(cycles per iteration of each loop's own body)"]
        for a in self.analyse():
            margin = f"{a['margin']:.2f}x over {a['runner_up']}" if a["margin"] else "no other bound"
            sim = f"simulated {a['simulated']:.2f}" if a["simulated"] is not None else "no own instructions"
            co = f"; within 2%: {', '.join(a['co_binding'])}" if a["co_binding"] else ""
            lines.append(f"loop {a['loop']}: {a['binding']}")
            lines.append(f"    largest bound {a['top_bound']} = {a['top_cycles']:.2f} ({a['top_detail']}), "
                         f"{margin}{co}; {sim}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"view": "bottleneck", "loops": self.analyse()}
