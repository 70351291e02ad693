"""Compute rates of one core (or one accelerator) from machine facts, for the roofline of the ops
that are not simulated.

Projection layer (`workbench.projection`), used by `engines`. Each ISA plug-in names, per work
kind (`dense_formats.WORK_KINDS`), the scheduling class of the instruction that does that work
and how many operations one instruction does (`IsaPlugin.roofline_classes`). The rate is

    operations/s = operations per instruction / reciprocal throughput (cycles) x clock x units

where the reciprocal throughput comes from the machine's class table: on a CPU core the port
bound of the class's micro-ops (Hall's condition over port subsets, occupancy counted) and the
dispatch width; on a VLIW core one packet per cycle per vector context holding as many of the
instruction as its slot and unit alternatives allow, times the contexts. A kind without a class
has no rate: that work cannot run on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

__all__ = ["Rate", "reciprocal_throughput", "machine_rates"]


@dataclass(frozen=True)
class Rate:
    """The rate of one work kind on one core (CPU) or one whole accelerator (all its contexts).

    ops_per_s : operations per second; sched_class, lanes : the instruction standing for the kind
    and its operations per instruction; rthr : reciprocal throughput in cycles per instruction
    (per core or per context); units : contexts used (1 for a CPU core); source : the class's provenance.
    """

    kind: str
    ops_per_s: float
    sched_class: str
    lanes: int
    rthr: float
    units: int
    source: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "ops_per_s": self.ops_per_s, "class": self.sched_class, "lanes": self.lanes,
                "rthr_cycles": self.rthr, "units": self.units, "source": self.source}


def _port_rthr(timing) -> float:
    """Cycles per instruction from port capacity: max over port subsets S of the micro-op cycles
    that can only issue on S, divided by |S|."""
    demand: dict[frozenset, float] = {}
    for ports, occ in zip(timing.ports, timing.occupancy):
        key = frozenset(ports)
        demand[key] = demand.get(key, 0.0) + occ
    if not demand:
        return 0.0
    used = sorted(set().union(*demand))
    best = 0.0
    for k in range(1, len(used) + 1):
        for subset in combinations(used, k):
            s = set(subset)
            best = max(best, sum(v for g, v in demand.items() if g <= s) / k)
    return best


def _disjoint(alternatives) -> int:
    """How many of `alternatives` (sets) can be taken together without sharing an element (greedy,
    smallest first)."""
    taken: set = set()
    n = 0
    for alt in sorted(alternatives, key=len):
        if not taken & set(alt):
            taken |= set(alt)
            n += 1
    return n


def reciprocal_throughput(machine, sched_class: str) -> tuple[float, int, str]:
    """(cycles per instruction, units, source) of `sched_class` on `machine`.

    CPU cores: max(port bound, micro-ops / dispatch width) (in-order: 1 / issue width at least);
    units 1. VLIW cores: 1 / (instructions of the class one packet holds), per context; units =
    the machine's vector contexts. MachineError when the machine has no timing for the class.
    """
    section = machine.section
    if hasattr(section, "vliw_class"):
        cls = section.vliw_class(sched_class)
        per_packet = _disjoint(cls.slots)
        for requirement in cls.resources:
            per_packet = min(per_packet, _disjoint(requirement))
        return 1.0 / max(per_packet, 1), int(section.contexts), cls.source
    timing = section.timing(sched_class)
    width = section.dispatch_width
    issue = (1.0 if section.kind == "inorder" else timing.uops) / width
    return max(_port_rthr(timing), issue), 1, timing.source


def machine_rates(machine, plugin, *, clock_ghz: float | None = None) -> dict[str, Rate]:
    """Work kind -> `Rate` of one core of `machine` (ISA `plugin`) at `clock_ghz` (default the
    machine's clock), for every kind the plug-in names a class for."""
    clock = machine.clock_ghz if clock_ghz is None else clock_ghz
    out = {}
    for kind, (sched_class, lanes) in sorted(plugin.roofline_classes.items()):
        rthr, units, source = reciprocal_throughput(machine, sched_class)
        out[kind] = Rate(kind, lanes / rthr * clock * 1e9 * units, sched_class, int(lanes), rthr, units, source)
    return out
