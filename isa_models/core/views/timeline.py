"""Timeline view: llvm-mca style D/e/E/R rows for the first iterations of one loop body.

Engine layer, a listener. One row per instruction instance ``[iteration,index]``; one column per
cycle: ``D`` dispatched, ``=`` waiting for operands or a port, ``e`` executing, ``E`` executed
(result available), ``-`` executed and waiting to retire, ``R`` retired. By default it records
the innermost simulated loop (the deepest one seen) and its first 3 iterations; rows that start
after the last cycle shown (a long command stream) are counted, not drawn.
"""

from __future__ import annotations

from isa_models.core.timing.events import Dispatched, Executed, Issued, Listener, Retired

__all__ = ["TimelineView"]


class TimelineView(Listener):
    """Cycle-by-cycle rows for the first `iterations` iterations of loop `loop` (default: deepest)."""

    def __init__(self, *, loop: str | None = None, iterations: int = 3, max_cycles: int = 120):
        self.want, self.iterations, self.max_cycles = loop, iterations, max_cycles
        self.loop = None
        self.depth = -1
        self.texts: tuple[str, ...] = ()
        self.rows: dict = {}
        self._active = False

    def on_loop_begin(self, info) -> None:
        take = info.loop == self.want if self.want is not None else info.depth > self.depth
        self._active = take
        if take:
            self.loop, self.depth, self.texts, self.rows = info.loop, info.depth, info.instructions, {}

    def on_event(self, event) -> None:
        if not self._active or event.iteration >= self.iterations:
            return
        row = self.rows.setdefault((event.iteration, event.instr), {})
        if isinstance(event, Dispatched):
            row["D"] = event.cycle
        elif isinstance(event, Issued):
            row["e"] = min(row.get("e", event.cycle), event.cycle)
        elif isinstance(event, Executed):
            row["E"] = event.cycle
        elif isinstance(event, Retired):
            row["R"] = event.cycle

    def _line(self, row: dict, width: int) -> str:
        cells = [" "] * width
        d, e, x, r = row.get("D"), row.get("e", row.get("D")), row.get("E"), row.get("R")
        if d is None or r is None:
            return "".join(cells)
        for c in range(d, min(r + 1, width)):
            if c == d:
                ch = "D"
            elif c < e:
                ch = "="
            elif x is not None and c < x:
                ch = "e"
            elif x is not None and c == x:
                ch = "E"
            else:
                ch = "-"
            cells[c] = ch
        if x is not None and x < width and x > d:
            cells[x] = "E"
        if r < width:
            cells[r] = "R"
        return "".join(cells)

    def render_text(self) -> str:
        if self.loop is None:
            raise ValueError("TimelineView: no loop recorded (run time_program with this view)")
        last = max((v.get("R", 0) for v in self.rows.values()), default=0)
        width = min(last + 1, self.max_cycles)
        ruler = "".join("." if c % 10 else str((c // 10) % 10) for c in range(width))
        out = [f"Timeline of loop {self.loop}, first {self.iterations} iterations (cycles 0..{width - 1})",
               f"{'[it,i]':<8}{ruler}"]
        late = 0
        for (it, i) in sorted(self.rows):
            if self.rows[(it, i)].get("D", 0) >= width:      # starts right of the window: a blank row
                late += 1
                continue
            out.append(f"[{it},{i}]".ljust(8) + self._line(self.rows[(it, i)], width) + f"   {self.texts[i]}")
        if late:
            out.append(f"({late} more instruction instances start after cycle {width - 1}: not shown)")
        return "\n".join(out)

    def to_json(self) -> dict:
        return {"view": "timeline", "loop": self.loop,
                "rows": [{"iteration": it, "instr": i, "text": self.texts[i], **self.rows[(it, i)]}
                         for (it, i) in sorted(self.rows)]}
