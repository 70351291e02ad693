"""Structured register liveness for the Program IR: peak live virtual registers per register file.

Engine layer, run by `ProgramBuilder.build()` (DESIGN.md §3: "the builder reports the peak number
of live vector registers and refuses a program that needs more than the ISA has"). Instructions
are numbered in program order; a register lives from its first write to its last read, and loops
stretch that interval: a register read in a loop but written before it stays live to the loop's
end (every iteration reads it), and a loop-carried register (read in the loop before it is written
there, and written in it) is live across the whole loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from isa_models.core.program import Instr, Loop, Node, ProgramError, VReg

__all__ = ["LiveInterval", "live_intervals", "peak_live", "loop_carried"]


@dataclass
class LiveInterval:
    """Positions (instruction numbers in program order) where a register holds a needed value."""

    reg: VReg
    start: int
    end: int


@dataclass
class _LoopSpan:
    loop: Loop
    start: int          # first instruction number inside the loop
    end: int            # last instruction number inside the loop
    first_access: dict  # reg -> "r" or "w": the first access in body order
    written: set


def _number(body: list[Node]) -> tuple[list[tuple[int, Instr]], list[_LoopSpan]]:
    """Instructions numbered in program order, and the span of every loop."""
    instrs: list[tuple[int, Instr]] = []
    spans: list[_LoopSpan] = []

    def rec(nodes: list[Node]) -> None:
        for node in nodes:
            if isinstance(node, Loop):
                start = len(instrs)
                rec(node.body)
                span = _LoopSpan(node, start, len(instrs) - 1, {}, set())
                for _, ins in instrs[start:]:
                    for r in ins.ins:
                        if isinstance(r, VReg):
                            span.first_access.setdefault(r, "r")
                    for r in ins.outs:
                        if isinstance(r, VReg):
                            span.first_access.setdefault(r, "w")
                            span.written.add(r)
                if span.end >= span.start:
                    spans.append(span)
            else:
                instrs.append((len(instrs), node))
    rec(body)
    return instrs, spans


def loop_carried(loop: Loop) -> set[VReg]:
    """Registers read in `loop` before being written there, and written in it."""
    _, spans = _number([loop])
    return {r for r, kind in spans[-1].first_access.items() if kind == "r" and r in spans[-1].written}


def live_intervals(body: list[Node]) -> list[LiveInterval]:
    """One live interval per register (positions are instruction numbers in program order)."""
    instrs, spans = _number(body)
    first_write: dict[VReg, int] = {}
    last_read: dict[VReg, int] = {}
    for pos, ins in instrs:
        for r in ins.ins:
            if isinstance(r, VReg):
                last_read[r] = pos
        for r in ins.outs:
            if isinstance(r, VReg):
                first_write.setdefault(r, pos)
    intervals = {r: LiveInterval(r, first_write.get(r, 0), max(last_read.get(r, pos), pos))
                 for r, pos in first_write.items()}
    for r, pos in last_read.items():
        if r not in intervals:           # read but never written: counts from its first read
            intervals[r] = LiveInterval(r, 0, pos)
    # loops stretch intervals; repeat to a fixed point because outer loops see inner stretches
    changed = True
    while changed:
        changed = False
        for span in spans:
            for r, kind in span.first_access.items():
                iv = intervals[r]
                carried = kind == "r" and r in span.written
                read_from_outside = kind == "r" and iv.start < span.start
                new_start = min(iv.start, span.start) if carried else iv.start
                new_end = max(iv.end, span.end + 1) if (carried or read_from_outside) else iv.end
                if (new_start, new_end) != (iv.start, iv.end):
                    iv.start, iv.end = new_start, new_end
                    changed = True
    return list(intervals.values())


def peak_live(body: list[Node], classes: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """Peak number of simultaneously live registers per register file.

    A register defined at position p and last read at q occupies a register at positions
    p..q-1 (a read at q frees it for q's own result) and at least at p (a dead result still
    needs a register when written).
    """
    counts: dict[str, list[int]] = {}
    intervals = live_intervals(body)
    n = 1 + max((iv.end for iv in intervals), default=0)
    for iv in intervals:
        row = counts.setdefault(iv.reg.cls, [0] * (n + 1))
        stop = max(iv.end, iv.start + 1)
        row[iv.start] += 1
        row[stop] -= 1
    peaks = {cls: 0 for cls in classes}
    for cls, row in counts.items():
        live = best = 0
        for delta in row:
            live += delta
            best = max(best, live)
        peaks[cls] = best
    return peaks


def check_parallel_loops(program_name: str, body: list[Node]) -> None:
    """A parallel loop must not carry a register from one iteration to the next."""
    _, spans = _number(body)
    for span in spans:
        if span.loop.parallel:
            carried = sorted(str(r) for r, kind in span.first_access.items()
                             if kind == "r" and r in span.written)
            if carried:
                raise ProgramError(f"program {program_name}: parallel loop {span.loop.index!r} carries "
                                   f"register(s) {', '.join(carried)} across iterations (iterations "
                                   f"must be independent; initialise them inside the loop)")
