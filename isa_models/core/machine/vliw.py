"""The VLIW engine section, ``[vliw]``: slots, threads, contexts, units, resource groups, classes, memory.

Engine layer, one of the engine-section parsers `schema.py` dispatches to by table name. A VLIW
vector core (docs: isa_models/machines/README.md, "[vliw]") issues one packet of up to `slots`
instructions per context cycle; each instruction needs one of its slot alternatives and, for each
of its resource requirements, one of the requirement's alternative unit sets. Results are defined
at a pipeline stage and read at per-operand stages (LLVM's itineraries). The section owns two more
top-level tables: ``[resource_groups]`` (named alternatives of unit sets) and ``[classes]``
(per scheduling class: slots, resources, def_stage, use_stages). Memory facts (VTCM, L2 fetch,
DMA from DDR) sit in the section itself; L2 is a ``[memory]`` level and DDR the DRAM share. Read by `isa_models.core.timing.vliw` and the packetizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from isa_models.core.machine.tables import MachineError, _Table, nonneg, positive

__all__ = ["VliwClass", "VliwCore", "parse_vliw", "VLIW_TABLES"]

#: top-level tables a VLIW engine section owns besides its own
VLIW_TABLES = ("resource_groups", "classes")


@dataclass(frozen=True)
class VliwClass:
    """Slots, resources and operand stages of one scheduling class.

    slots : alternatives; each is the set of slots the instruction occupies together
        (``({2}, {3})``: slot 2 or slot 3; ``({0, 1},)``: slots 0 and 1 both).
    resources : one entry per requirement; each is the alternative unit sets that satisfy it
        (a VA-class op: ``({XLANE}, {SHIFT}, {MPY0}, {MPY1})``; a double op: ``({MPY0, MPY1},)``).
    def_stage : the pipeline stage its results are written at (LLVM itinerary operand cycle).
    use_stages : one stage per input operand of the instruction form, in the form's input order.
    source : provenance.
    resource_names : the requirement names as the file gives them (``("LOAD", "VA")``).
    """

    name: str
    slots: tuple[frozenset[int], ...]
    resources: tuple[tuple[frozenset[str], ...], ...]
    def_stage: int
    use_stages: tuple[int, ...]
    source: str
    resource_names: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"slots": [sorted(s) for s in self.slots],
                "resources": [[sorted(u) for u in alt] for alt in self.resources],
                "resource_names": list(self.resource_names), "def_stage": self.def_stage,
                "use_stages": list(self.use_stages), "source": self.source}


@dataclass(frozen=True)
class VliwCore:
    """The engine section of a VLIW vector core (``[vliw]``).

    Attributes
    ----------
    machine : the machine's name (for messages).
    version : the architecture version (HVX: 69, 73, 75, 79).
    slots : instruction slots per packet.
    threads : hardware threads of the core (scalar contexts).
    contexts : vector contexts that run at once, time-interleaved on the vector units.
    units : the vector functional units, in the file's order.
    groups : resource-group name -> alternatives of unit sets (each unit is also its own group).
    classes : scheduling class -> `VliwClass`.
    vtcm_bytes : tightly coupled vector memory per core.
    vtcm_loads_per_packet, vtcm_stores_per_packet : vector accesses VTCM serves per packet without stalls.
    l2_latency_cycles : cycles a vector load waits when its line is not in L2 ahead of use (no l2fetch).
    dma_bytes_per_cycle : peak DDR -> VTCM rate of the DMA engine in bytes per core cycle (the
        effective rate is also bounded by the machine's DDR share, ``[memory] dram_gbps_core``).
    dma_latency_cycles : cycles from a DMA descriptor to its first bytes in VTCM.
    """

    machine: str
    version: int
    slots: int
    threads: int
    contexts: int
    units: tuple[str, ...]
    groups: Mapping[str, tuple[frozenset[str], ...]]
    classes: Mapping[str, VliwClass]
    vtcm_bytes: int
    vtcm_loads_per_packet: int
    vtcm_stores_per_packet: int
    l2_latency_cycles: int
    dma_bytes_per_cycle: float
    dma_latency_cycles: int

    kind = "vliw"

    def vliw_class(self, sched_class: str) -> VliwClass:
        """The slots, resources and stages of `sched_class`; MachineError naming machine and class."""
        try:
            return self.classes[sched_class]
        except KeyError:
            raise MachineError(f"machine {self.machine}: class {sched_class} has no timing") from None

    def summary(self) -> dict:
        """The few figures a machine listing shows: version, slots, contexts, units."""
        return {"version": f"v{self.version}", "slots": self.slots, "contexts": self.contexts,
                "units": "/".join(self.units), "vtcm": f"{self.vtcm_bytes // 1024} KiB"}

    def to_json(self) -> dict:
        return {"version": self.version, "slots": self.slots, "threads": self.threads,
                "contexts": self.contexts, "units": list(self.units),
                "resource_groups": {k: [sorted(a) for a in v] for k, v in self.groups.items()
                                    if k not in self.units},
                "vtcm_bytes": self.vtcm_bytes, "vtcm_loads_per_packet": self.vtcm_loads_per_packet,
                "vtcm_stores_per_packet": self.vtcm_stores_per_packet,
                "l2_latency_cycles": self.l2_latency_cycles,
                "dma_bytes_per_cycle": self.dma_bytes_per_cycle, "dma_latency_cycles": self.dma_latency_cycles,
                "classes": {k: c.to_json() for k, c in self.classes.items()}}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_vliw(path: Path, kind: str, tables: Mapping[str, object], sources: dict[str, str],
               machine: str) -> VliwCore:
    """Read the ``[vliw]`` section and its ``[resource_groups]`` and ``[classes]`` tables.

    Parameters
    ----------
    tables : top-level table name -> parsed value (None when absent) for `kind` and `VLIW_TABLES`.
    """
    t = _Table(path, kind, tables[kind], sources)
    version = t.get("version", int, check=positive)
    slots = t.get("slots", int, check=positive)
    threads = t.get("threads", int, check=positive)
    contexts = t.get("contexts", int, check=positive)
    units = t.get_strings("units")
    if not units:
        t.fail("units", "must list at least one unit")
    vtcm = t.get("vtcm_bytes", int, check=positive)
    vtcm_ld = t.get("vtcm_loads_per_packet", int, check=positive)
    vtcm_st = t.get("vtcm_stores_per_packet", int, check=positive)
    l2_lat = t.get("l2_latency_cycles", int, check=nonneg)
    dma = float(t.get("dma_bytes_per_cycle", (int, float), check=positive))
    dma_lat = t.get("dma_latency_cycles", int, check=nonneg)
    if contexts > threads:
        t.fail("contexts", f"= {contexts} exceeds threads = {threads} (a context runs on a hardware thread)")
    t.finish()

    for name in VLIW_TABLES:
        if tables[name] is None:
            raise MachineError(f"{path}: a [{kind}] machine needs a [{name}] table")
    groups: dict[str, tuple[frozenset[str], ...]] = {u: (frozenset({u}),) for u in units}
    g = _Table(path, "resource_groups", tables["resource_groups"], sources)
    for name in [k for k in g.data if k not in ("source", "sources")]:
        raw = g.get(name, list)
        if name in groups:
            g.fail(name, "repeats a unit or group name")
        alts = []
        for alt in raw:
            members = [alt] if isinstance(alt, str) else alt
            if not isinstance(members, list) or not members or \
                    any(not isinstance(u, str) or u not in units for u in members):
                g.fail(name, f"lists {alt!r}; each alternative is a unit or a list of units of "
                             f"[{kind}] units ({', '.join(units)})")
            alts.append(frozenset(members))
        if not alts:
            g.fail(name, "must list at least one alternative")
        groups[name] = tuple(alts)
    g.finish()

    classes: dict[str, VliwClass] = {}
    raw_classes = tables["classes"]
    if not isinstance(raw_classes, dict):
        raise MachineError(f"{path}: [classes] must be a table of scheduling classes")
    for cls, raw in raw_classes.items():
        classes[cls] = _parse_class(path, cls, raw, sources, slots=slots, groups=groups)

    return VliwCore(machine=machine, version=version, slots=slots, threads=threads, contexts=contexts,
                    units=units, groups=groups, classes=classes, vtcm_bytes=vtcm,
                    vtcm_loads_per_packet=vtcm_ld, vtcm_stores_per_packet=vtcm_st, l2_latency_cycles=l2_lat,
                    dma_bytes_per_cycle=dma, dma_latency_cycles=dma_lat)


def _parse_class(path: Path, cls: str, raw, sources: dict[str, str], *, slots: int,
                 groups: Mapping[str, tuple[frozenset[str], ...]]) -> VliwClass:
    """One ``[classes."<class>"]`` entry.

    ``slots`` lists alternatives: an int is one slot, a list is slots taken together
    (``[2, 3]``: slot 2 or 3; ``[[0, 1]]``: slots 0 and 1). ``resources`` lists requirement
    names, each a unit or a ``[resource_groups]`` name.
    """
    tname = f"classes.{cls}"
    t = _Table(path, tname, raw, sources)
    raw_slots = t.get("slots", list)
    alts = []
    for alt in raw_slots:
        members = [alt] if _is_int(alt) else alt
        if not isinstance(members, list) or not members or \
                any(not _is_int(s) or not 0 <= s < slots for s in members):
            t.fail("slots", f"lists {alt!r}; each alternative is a slot 0..{slots - 1} or a list of slots")
        alts.append(frozenset(members))
    if not alts:
        t.fail("slots", "must list at least one slot alternative")
    names = tuple(t.get("resources", list, default=[]))
    if not all(isinstance(n, str) and n for n in names):
        t.fail("resources", "must list resource names")
    resources = []
    for n in names:
        if n not in groups:
            t.fail("resources", f"names unknown unit or group {n!r} (known: {', '.join(groups)})")
        resources.append(groups[n])
    def_stage = t.get("def_stage", int, check=nonneg)
    uses = t.get("use_stages", list)
    if not all(_is_int(u) and u >= 0 for u in uses):
        t.fail("use_stages", "must list one non-negative stage per input operand")
    t.finish()
    return VliwClass(cls, tuple(alts), tuple(resources), def_stage, tuple(uses), sources[tname], tuple(names))
