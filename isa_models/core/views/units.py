"""Unit pressure view: per loop, packets and cycles per iteration and how busy each slot and unit is.

Engine layer, a listener over `time_program` on an engine that issues packets (the ``vliw``
engine reports, per loop, ``extra["loops"][loop]`` with ``packets_per_iteration``,
``cycles_per_iteration``, ``contexts_used`` and ``unit_utilization``: the fraction of the loop's
steady-state cycles each slot ``S0..`` and each unit holds an instruction). A Hexagon engineer
reads it as "how close is each HVX resource to one instruction per cycle"; the busiest unit is
named per loop. Engines without those figures render one line saying so.
"""

from __future__ import annotations

from isa_models.core.timing.events import Listener

__all__ = ["UnitPressureView"]


class UnitPressureView(Listener):
    """Slot and unit utilisation per loop, from the engine's `TimingResult.extra` (module doc)."""

    #: engine kinds whose runs it renders (`isa_models.core.views.views_for`): those issuing packets
    engines = ("vliw",)

    def __init__(self):
        self.result = None

    def on_program_end(self, result) -> None:
        self.result = result

    def rows(self) -> list[dict]:
        """One row per loop with figures, innermost first (deepest, then program order)."""
        if self.result is None:
            raise ValueError("UnitPressureView: no timing run yet")
        loops = self.result.extra.get("loops") or {}
        depth = {lr.loop: lr.depth for lr in self.result.loops}
        order = {lr.loop: k for k, lr in enumerate(self.result.loops)}
        out = []
        for name in sorted(loops, key=lambda n: (-depth.get(n, 0), order.get(n, 0))):
            rec = loops[name]
            util = rec.get("unit_utilization") or {}
            if not util:
                continue
            busiest = max(util, key=util.get)
            out.append({"loop": name, "packets_per_iteration": rec.get("packets_per_iteration"),
                        "cycles_per_iteration": rec.get("cycles_per_iteration"),
                        "contexts_used": rec.get("contexts_used"), "utilization": dict(util),
                        "busiest": busiest})
        return out

    def render_text(self) -> str:
        rows = self.rows()
        if not rows:
            return (f"Unit pressure: engine {self.result.machine.engine} reports no per-unit utilisation "
                    f"(packet engines only)")
        lines = [f"Unit pressure of {self.result.program} on {self.result.machine.name} "
                 f"(fraction of each loop's steady-state cycles a slot or unit is busy, one context):"]
        for r in rows:
            names = list(r["utilization"])
            lines.append(f"loop {r['loop']}: {r['packets_per_iteration']} packets, "
                         f"{r['cycles_per_iteration']:.2f} cycles per iteration, {r['contexts_used']} "
                         f"context(s); busiest {r['busiest']}")
            lines.append("".join(f"{n:>7}" for n in names))
            lines.append("".join(f"{r['utilization'][n]:>7.2f}" if r["utilization"][n] else f"{'-':>7}"
                                 for n in names))
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"view": "unit_pressure", "loops": self.rows()}
