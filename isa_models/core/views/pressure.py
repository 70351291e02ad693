"""Port pressure view: cycles each port is busy per iteration of each simulated loop body.

Engine layer, a listener: it sums `Issued` events (occupancy) over the steady-state half of the
simulated iterations, per loop and per instruction, llvm-mca "Resource pressure" style.
"""

from __future__ import annotations

from isa_models.core.timing.events import Issued, Listener

__all__ = ["PortPressureView"]


class PortPressureView(Listener):
    """Per port, per iteration busy cycles, per loop and per instruction."""

    def __init__(self):
        self.loops: dict[str, dict] = {}
        self._cur = None

    def on_loop_begin(self, info) -> None:
        self._cur = {"info": info, "per_instr": [dict() for _ in info.instructions],
                     "from": info.iterations // 2 if info.iterations > 1 else 0}
        self.loops[info.loop] = self._cur

    def on_event(self, event) -> None:
        cur = self._cur
        if isinstance(event, Issued) and cur is not None and event.iteration >= cur["from"]:
            row = cur["per_instr"][event.instr]
            row[event.port] = row.get(event.port, 0) + event.occupancy

    def _table(self, name: str) -> tuple[list[str], list[list[float]], list[float]]:
        cur = self.loops[name]
        info = cur["info"]
        n = max(1, info.iterations - cur["from"])
        rows = [[row.get(p, 0) / n for p in info.ports] for row in cur["per_instr"]]
        totals = [sum(col) for col in zip(*rows)] if rows else [0.0] * len(info.ports)
        return list(info.ports), rows, totals

    def render_text(self) -> str:
        if not self.loops:
            raise ValueError("PortPressureView: no timing run yet")
        out = []
        for name, cur in self.loops.items():
            ports, rows, totals = self._table(name)
            info = cur["info"]
            out.append(f"Resource pressure per iteration, loop {name} (cycles each port is busy):")
            out.append("".join(f"{p:>7}" for p in ports))
            out.append("".join(f"{v:>7.2f}" if v else f"{'-':>7}" for v in totals))
            out.append("")
            out.append("".join(f"{p:>7}" for p in ports) + "  instruction")
            for text, row in zip(info.instructions, rows):
                out.append("".join(f"{v:>7.2f}" if v else f"{'-':>7}" for v in row) + f"  {text}")
            out.append("")
        return "\n".join(out).rstrip()

    def to_json(self) -> dict:
        res = {}
        for name, cur in self.loops.items():
            ports, rows, totals = self._table(name)
            res[name] = {"ports": ports, "per_iteration": dict(zip(ports, totals)),
                         "per_instruction": [{"instruction": t, "ports": dict(zip(ports, r))}
                                             for t, r in zip(cur["info"].instructions, rows)]}
        return {"view": "port_pressure", "loops": res}
