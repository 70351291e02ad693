"""The CPU engine sections, ``[ooo]`` and ``[inorder]``: core widths, ports, issue caps, classes.

Engine layer, one of the engine-section parsers `schema.py` dispatches to by table name. Both
kinds read the same keys (an in-order core's `dispatch_width` is its issue width); the section owns
three more top-level tables: ``[ports]`` (names, groups, load and store ports), ``[issue_caps.*]``
and ``[classes]`` (per scheduling class: latency, micro-ops and their ports, occupancy, operand
latency, and for in-order cores the issue-group rules: begin/end a group, complete out of order).
The result is a `CpuCore`, read by `isa_models.core.timing` (descriptors, ooo, inorder, bounds)
through the `Machine` that holds it. Schema: isa_models/machines/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from isa_models.core.machine.tables import MachineError, _Table, nonneg, positive

__all__ = ["ClassTiming", "IssueCap", "CpuCore", "parse_cpu", "CPU_TABLES"]

#: top-level tables a CPU engine section owns besides its own
CPU_TABLES = ("ports", "issue_caps", "classes")


@dataclass(frozen=True)
class ClassTiming:
    """Timing of one scheduling class.

    latency : cycles from issue of the (last) micro-op to the result being usable.
    ports : one entry per micro-op: the ports that micro-op may issue to (expanded groups).
    occupancy : cycles each micro-op holds its port (1 = fully pipelined).
    operand_latency : input operand index -> latency from that input to the result, when it
        differs from `latency` (a late-read accumulator, LLVM's ReadAdvance).
    source : provenance of the numbers.
    includes_load : the class is itself a memory access (pure loads, broadcast loads): its
        micro-ops and latency already cover the memory operand, so no folded load is added.
    begin_group, end_group : in-order issue groups (LLVM's BeginGroup / EndGroup): the
        instruction issues only as the first of its cycle / nothing issues after it in its cycle
        (both: it issues alone). Read by the in-order engine only.
    retire_ooo : the result may be written back before those of older instructions (LLVM's
        RetireOOO); only meaningful on an in-order core with ``writeback_in_order``.
    """

    name: str
    latency: int
    ports: tuple[tuple[str, ...], ...]
    occupancy: tuple[int, ...]
    operand_latency: Mapping[int, int]
    source: str
    includes_load: bool = False
    begin_group: bool = False
    end_group: bool = False
    retire_ooo: bool = False

    @property
    def uops(self) -> int:
        return len(self.ports)


@dataclass(frozen=True)
class IssueCap:
    """At most `per_cycle` micro-ops per cycle on the ports of `group` when more than one
    scheduling class issues there in the same cycle (`mixed_only`), or always.

    A fractional `per_cycle` (3.5) is a sustained rate: the group earns `per_cycle` issue
    credits per cycle, holds at most ceil(per_cycle), and each micro-op spends one (so 3.5
    alternates 3 and 4). An integer rate behaves exactly as a per-cycle count.
    """

    name: str
    group: str
    ports: tuple[str, ...]
    per_cycle: float
    mixed_only: bool
    source: str


@dataclass(frozen=True)
class CpuCore:
    """The engine section of an out-of-order (``ooo``) or in-order (``inorder``) core.

    Attributes
    ----------
    kind : "ooo" or "inorder".
    machine : the machine's name (for messages).
    dispatch_width : micro-ops dispatched (and retired) per cycle; in-order: instructions issued per cycle.
    rob_size, scheduler_size, vector_scheduler_size : window sizes in micro-ops (None: no own limit).
    load_to_use : latency of a folded load micro-op.
    ports, port_groups, load_ports, store_ports : port names, named unions (each port is its own
        group), the ports of folded loads and of stores.
    issue_caps : the `IssueCap` rules.
    classes : scheduling class -> `ClassTiming`.
    port_binding : "issue" or "dispatch".
    store_forward_latency, store_forward_fail_penalty : store-to-load forwarding (None: defaults).
    rename_registers : register class -> free physical registers.
    writeback_in_order : in-order cores: results are written back in program order, so an
        instruction whose result would be ready before an older one's waits (llvm-mca's in-order
        pipeline; classes with `retire_ooo` are exempt). False: results complete when ready.
    list_schedule : in-order cores: each simulated body is first list-scheduled (dependences and
        latencies, critical path first), as the compiler that feeds the core schedules it.
    """

    kind: str
    machine: str
    dispatch_width: int
    rob_size: int
    scheduler_size: int | None
    load_to_use: int
    ports: tuple[str, ...]
    port_groups: Mapping[str, tuple[str, ...]]
    load_ports: tuple[str, ...]
    store_ports: tuple[str, ...]
    issue_caps: tuple[IssueCap, ...]
    classes: Mapping[str, ClassTiming]
    port_binding: str = "issue"
    store_forward_latency: int | None = None
    store_forward_fail_penalty: int | None = None
    rename_registers: Mapping[str, int] = field(default_factory=dict)
    vector_scheduler_size: int | None = None
    writeback_in_order: bool = False
    list_schedule: bool = False

    def summary(self) -> dict:
        """The few figures a machine listing shows: issue width, window and ports."""
        return {"width": self.dispatch_width, "window": self.rob_size, "ports": "/".join(self.ports)}

    def timing(self, sched_class: str) -> ClassTiming:
        """The timing of `sched_class`; raises MachineError naming machine and class if absent."""
        try:
            return self.classes[sched_class]
        except KeyError:
            raise MachineError(f"machine {self.machine}: class {sched_class} has no timing") from None

    def to_json(self) -> dict:
        return {
            "dispatch_width": self.dispatch_width, "rob_size": self.rob_size,
            "scheduler_size": self.scheduler_size, "vector_scheduler_size": self.vector_scheduler_size,
            "rename_registers": dict(self.rename_registers), "load_to_use": self.load_to_use,
            "port_binding": self.port_binding, "store_forward_latency": self.store_forward_latency,
            "store_forward_fail_penalty": self.store_forward_fail_penalty,
            "writeback_in_order": self.writeback_in_order, "list_schedule": self.list_schedule,
            "ports": list(self.ports), "port_groups": {k: list(v) for k, v in self.port_groups.items()},
            "issue_caps": [{"name": c.name, "group": c.group, "per_cycle": c.per_cycle,
                            "mixed_only": c.mixed_only} for c in self.issue_caps],
            "classes": {k: {"latency": c.latency, "ports": [list(p) for p in c.ports],
                            "occupancy": list(c.occupancy),
                            "operand_latency": {str(i): v for i, v in c.operand_latency.items()},
                            "includes_load": c.includes_load, "begin_group": c.begin_group,
                            "end_group": c.end_group, "retire_ooo": c.retire_ooo,
                            "source": c.source} for k, c in self.classes.items()},
        }


def parse_cpu(path: Path, kind: str, tables: Mapping[str, object], sources: dict[str, str],
              machine: str) -> CpuCore:
    """Read the ``[<kind>]`` section and its ``[ports]``, ``[issue_caps.*]`` and ``[classes]`` tables.

    Parameters
    ----------
    tables : top-level table name -> parsed value (None when the file lacks it) for `kind` and
        `CPU_TABLES`.
    """
    core = _Table(path, kind, tables[kind], sources)
    width = core.get("dispatch_width", int, check=positive)
    rob = core.get("rob_size", int, check=positive)
    sched = core.get("scheduler_size", int, default=None, check=positive)
    vector_sched = core.get("vector_scheduler_size", int, default=None, check=positive)
    load_to_use = core.get("load_to_use", int, check=nonneg)
    binding = core.get("port_binding", str, default="issue", check=lambda v: v in ("issue", "dispatch"))
    forward = core.get("store_forward_latency", int, default=None, check=nonneg)
    forward_fail = core.get("store_forward_fail_penalty", int, default=None, check=nonneg)
    rename = core.get("rename_registers", dict, default={},
                      check=lambda v: all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                          for n in v.values()))
    writeback = core.get("writeback_in_order", bool, default=False)
    if writeback and kind != "inorder":
        core.fail("writeback_in_order", "is a rule of in-order cores ([inorder] machines) only")
    list_schedule = core.get("list_schedule", bool, default=False)
    if list_schedule and kind != "inorder":
        core.fail("list_schedule", "is for in-order cores ([inorder] machines) only; an out-of-order "
                  "core schedules itself")
    if "engine" in core.data:
        core.fail("engine", f"is not needed: the table's name [{kind}] is the engine kind")
    core.finish()

    for name in CPU_TABLES:
        if name != "issue_caps" and tables[name] is None:
            raise MachineError(f"{path}: an [{kind}] machine needs a [{name}] table")
    ports_t = _Table(path, "ports", tables["ports"], sources)
    port_names = tuple(ports_t.get("names", list))
    if len(set(port_names)) != len(port_names) or not port_names or \
            not all(isinstance(p, str) and p for p in port_names):
        raise MachineError(f"{path}: [ports] key 'names' must list distinct port names")
    raw_groups = ports_t.get("groups", dict, default={})
    groups: dict[str, tuple[str, ...]] = {p: (p,) for p in port_names}
    for g, members in raw_groups.items():
        if g in groups:
            raise MachineError(f"{path}: [ports.groups] key {g!r} repeats a port or group name")
        bad = [m for m in members if m not in port_names] if isinstance(members, list) else members
        if not isinstance(members, list) or not members or bad:
            raise MachineError(f"{path}: [ports.groups] key {g!r} names unknown port(s) {bad}")
        groups[g] = tuple(members)

    def expand(where: str, g) -> tuple[str, ...]:
        if not isinstance(g, str) or g not in groups:
            raise MachineError(f"{path}: {where} names unknown port or group {g!r}")
        return groups[g]

    load_ports = tuple(p for g in ports_t.get("load", list) for p in expand("[ports] key 'load'", g))
    store_ports = tuple(p for g in ports_t.get("store", list) for p in expand("[ports] key 'store'", g))
    ports_t.finish()

    caps = []
    caps_raw = tables["issue_caps"] or {}
    if not isinstance(caps_raw, dict):
        raise MachineError(f"{path}: [issue_caps] must be a table of named caps")
    for cap_name, raw in caps_raw.items():
        t = _Table(path, f"issue_caps.{cap_name}", raw, sources)
        group = t.get("group", str)
        cap_ports = expand(f"[issue_caps.{cap_name}] key 'group'", group)
        per_cycle = t.get("per_cycle", (int, float), check=positive)
        mixed = t.get("mixed_only", bool)
        t.finish()
        caps.append(IssueCap(cap_name, group, cap_ports, per_cycle, mixed, sources[f"issue_caps.{cap_name}"]))

    classes: dict[str, ClassTiming] = {}
    classes_raw = tables["classes"]
    if not isinstance(classes_raw, dict):
        raise MachineError(f"{path}: [classes] must be a table of scheduling classes")
    for cls, raw in classes_raw.items():
        tname = f"classes.{cls}"
        t = _Table(path, tname, raw, sources)
        latency = t.get("latency", int, check=nonneg)
        uops = t.get("uops", int, check=nonneg)   # 0: removed at rename (zero idioms)
        plist = t.get("ports", list)
        if len(plist) != uops:
            raise MachineError(f"{path}: [{tname}] key 'ports' lists {len(plist)} port groups for "
                               f"{uops} uops (one group per uop)")
        uports = tuple(expand(f"[{tname}] key 'ports'", g) for g in plist)
        occ = t.get("occupancy", (int, list), default=1)
        occ = tuple(occ) if isinstance(occ, list) else (occ,) * uops
        if len(occ) != uops or any(not isinstance(o, int) or isinstance(o, bool) or o <= 0 for o in occ):
            raise MachineError(f"{path}: [{tname}] key 'occupancy' needs one positive int per uop")
        oplat_raw = t.get("operand_latency", dict, default={})
        try:
            oplat = {int(k): int(v) for k, v in oplat_raw.items()}
        except (TypeError, ValueError):
            raise MachineError(f"{path}: [{tname}] key 'operand_latency' maps operand index -> cycles") from None
        includes_load = t.get("includes_load", bool, default=False)
        group = {key: t.get(key, bool, default=False) for key in ("begin_group", "end_group", "retire_ooo")}
        for key, value in group.items():
            if value and kind != "inorder":
                t.fail(key, "is an in-order issue rule, read only by [inorder] machines")
        t.finish()
        classes[cls] = ClassTiming(cls, latency, uports, occ, oplat, sources[tname], includes_load, **group)

    return CpuCore(kind=kind, machine=machine, dispatch_width=width, rob_size=rob, scheduler_size=sched,
                   load_to_use=load_to_use, ports=port_names, port_groups=groups, load_ports=load_ports,
                   store_ports=store_ports, issue_caps=tuple(caps), classes=classes, port_binding=binding,
                   store_forward_latency=forward, store_forward_fail_penalty=forward_fail,
                   rename_registers=dict(rename), vector_scheduler_size=vector_sched,
                   writeback_in_order=writeback, list_schedule=list_schedule)
