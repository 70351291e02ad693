"""Memory model: a loop's footprint from affine ranges, placed in the level that holds it.

Engine layer (DESIGN.md §3). For one execution of a loop (all its iterations, outer indices
fixed), every memory operand in its subtree touches at most ``min(range, points * width)`` bytes
of its buffer, where ``range`` spans the affine offset over the loop's own and inner indices and
``points`` is the number of distinct index combinations it depends on; a buffer's footprint is
the smaller of the union of ranges and the sum over operands, capped at the buffer size. The
working set (all buffers) sits in the smallest level that holds it (or DRAM); moving it at that
level's bandwidth per core gives the memory bound in cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from isa_models.core.machine import Machine
from isa_models.core.program import Instr, Loop, Mem, Program

__all__ = ["Footprint", "footprint", "memory_cycles"]


@dataclass(frozen=True)
class Footprint:
    """Bytes touched per buffer by one execution of a loop (or of the whole program)."""

    per_buffer: dict
    level: str
    bytes_per_cycle: float

    @property
    def total(self) -> int:
        return sum(self.per_buffer.values())

    @property
    def cycles(self) -> float:
        return self.total / self.bytes_per_cycle if self.total else 0.0


def _accesses(program: Program, nodes, trips: dict):
    for node in nodes:
        if isinstance(node, Loop):
            inner = dict(trips)
            inner[node.index] = node.trip
            yield from _accesses(program, node.body, inner)
        elif isinstance(node, Instr):
            d = program.isa[node.op]
            for spec, x in zip((*d.outs, *d.ins), (*node.outs, *node.ins)):
                if isinstance(x, Mem):
                    yield x, spec.width, trips


def footprint(program: Program, nodes, *, outer: tuple[str, ...] = (), machine: Machine,
              from_dram: bool = False) -> Footprint:
    """Footprint of executing `nodes` once with the indices in `outer` fixed.

    Parameters
    ----------
    nodes : a list of nodes (a loop's ``[loop]`` or the program body).
    outer : names of enclosing loop indices (held at 0: only the span matters).
    from_dram : place the working set in DRAM whatever its size (a cold, streaming run).
    """
    ranges: dict[str, list[tuple[int, int]]] = {}
    sums: dict[str, int] = {}
    for m, width, trips in _accesses(program, nodes, {k: 1 for k in outer}):
        lo, hi = m.offset.bounds(trips)
        points = 1
        for name in m.offset.indices:
            points *= trips[name]
        ranges.setdefault(m.buffer, []).append((lo, hi + width))
        sums[m.buffer] = sums.get(m.buffer, 0) + min(hi + width - lo, points * width)
    per_buffer = {}
    for buf, spans in ranges.items():
        spans.sort()
        union, cur_lo, cur_hi = 0, None, None
        for lo, hi in spans:
            if cur_hi is None or lo > cur_hi:
                if cur_hi is not None:
                    union += cur_hi - cur_lo
                cur_lo, cur_hi = lo, hi
            else:
                cur_hi = max(cur_hi, hi)
        union += cur_hi - cur_lo
        per_buffer[buf] = min(union, sums[buf], program.buffers[buf].size)
    total = sum(per_buffer.values())
    level, bw = "DRAM", machine.dram_bytes_per_cycle
    if not from_dram:
        for lv in machine.memory:
            if total <= lv.size_bytes:
                level, bw = lv.name, lv.bytes_per_cycle
                break
    return Footprint(per_buffer, level, bw)


def memory_cycles(fp: Footprint) -> float:
    """Cycles to move the footprint at its level's bandwidth."""
    return fp.cycles
