"""Machine descriptions: the TOML schema, its validating loader and the `Machine` records.

Engine layer (DESIGN.md §3, §7). A machine file `isa_models/machines/<isa>/<name>.toml` holds the
microarchitecture facts the timing engines need (clock, engine kind, widths, ports and port
groups, issue caps, per-scheduling-class timing, memory levels, DRAM) and nothing else; every
table carries a `source` string and may override it per key in a `sources` table, so each value
has a provenance (`Machine.source_of`). Unknown or missing keys are errors naming file and key.
The schema is documented in isa_models/machines/README.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

__all__ = ["Machine", "ClassTiming", "IssueCap", "MemoryLevel", "HostMatch", "MachineError", "load_machine",
           "machine_names", "MACHINES_DIR"]

MACHINES_DIR = Path(__file__).resolve().parent.parent / "machines"


class MachineError(ValueError):
    """A malformed or incomplete machine description, or a class the machine has no timing for."""


class UnknownMachineError(MachineError, LookupError):
    """No machine file of that name."""


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
    """

    name: str
    latency: int
    ports: tuple[tuple[str, ...], ...]
    occupancy: tuple[int, ...]
    operand_latency: Mapping[int, int]
    source: str
    includes_load: bool = False

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
class MemoryLevel:
    """A cache level: capacity available to one core and sustained bytes/cycle per core."""

    name: str
    size_bytes: int
    bytes_per_cycle: float
    source: str


@dataclass(frozen=True)
class HostMatch:
    """Which real CPUs this machine's core stands for (optional ``[host]`` table).

    A CPU matches when its /proc/cpuinfo `vendor` and `family` are these and either its model
    number is in `models` or it has every flag in `flags` (hypervisors may report a made-up model
    number but pass the feature flags through). `core` names the core for reports.
    """

    vendor: str
    family: int
    models: tuple[int, ...]
    flags: tuple[str, ...]
    core: str
    source: str

    def matches(self, *, vendor: str, family: int | None, model: int | None, flags) -> bool:
        if vendor != self.vendor or family != self.family:
            return False
        return model in self.models or bool(self.flags) and set(self.flags) <= set(flags)


@dataclass(frozen=True)
class Machine:
    """One core (plus its memory system) as the timing engines see it. See machines/README.md."""

    name: str
    isa: str
    path: Path
    description: str
    clock_ghz: float
    engine: str
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
    memory: tuple[MemoryLevel, ...]
    dram_gbps_core: float
    dram_gbps_chip: float
    cores: int
    sources: Mapping[str, str] = field(default_factory=dict)
    port_binding: str = "issue"
    store_forward_latency: int | None = None
    store_forward_fail_penalty: int | None = None
    rename_registers: Mapping[str, int] = field(default_factory=dict)
    vector_scheduler_size: int | None = None
    host: HostMatch | None = None

    def timing(self, sched_class: str) -> ClassTiming:
        """The timing of `sched_class`; raises MachineError naming machine and class if absent."""
        try:
            return self.classes[sched_class]
        except KeyError:
            raise MachineError(f"machine {self.name}: class {sched_class} has no timing") from None

    def source_of(self, key: str) -> str:
        """Provenance of a value, by dotted key (``core.rob_size``, ``classes.avx2.vpshufb``)."""
        if key in self.sources:
            return self.sources[key]
        if key.startswith("classes."):
            return self.timing(key[len("classes."):]).source
        table = key.split(".")[0]
        if table in self.sources:
            return self.sources[table]
        raise MachineError(f"machine {self.name}: no value {key!r}")

    @property
    def dram_bytes_per_cycle(self) -> float:
        """Single-core DRAM bandwidth in bytes per core cycle."""
        return self.dram_gbps_core / self.clock_ghz

    def to_json(self) -> dict:
        """The resolved machine (for writing beside results)."""
        return {
            "name": self.name, "isa": self.isa, "file": str(self.path), "clock_ghz": self.clock_ghz,
            "engine": self.engine, "dispatch_width": self.dispatch_width, "rob_size": self.rob_size,
            "scheduler_size": self.scheduler_size, "vector_scheduler_size": self.vector_scheduler_size,
            "rename_registers": dict(self.rename_registers), "load_to_use": self.load_to_use,
            "port_binding": self.port_binding, "store_forward_latency": self.store_forward_latency,
            "store_forward_fail_penalty": self.store_forward_fail_penalty,
            "ports": list(self.ports), "port_groups": {k: list(v) for k, v in self.port_groups.items()},
            "issue_caps": [{"name": c.name, "group": c.group, "per_cycle": c.per_cycle,
                            "mixed_only": c.mixed_only} for c in self.issue_caps],
            "classes": {k: {"latency": c.latency, "ports": [list(p) for p in c.ports],
                            "occupancy": list(c.occupancy),
                            "operand_latency": {str(i): v for i, v in c.operand_latency.items()},
                            "includes_load": c.includes_load,
                            "source": c.source} for k, c in self.classes.items()},
            "memory": [{"name": m.name, "size_bytes": m.size_bytes, "bytes_per_cycle": m.bytes_per_cycle}
                       for m in self.memory],
            "dram_gbps_core": self.dram_gbps_core, "dram_gbps_chip": self.dram_gbps_chip,
            "cores": self.cores, "sources": dict(self.sources),
            "host": None if self.host is None else {
                "vendor": self.host.vendor, "family": self.host.family, "models": list(self.host.models),
                "flags": list(self.host.flags), "core": self.host.core},
        }


# --------------------------------------------------------------------------------------------
# loading


def machine_names(isa: str | None = None) -> list[str]:
    """Machine names available, as ``<name>`` for one ISA or ``<isa>/<name>`` for all."""
    if isa is not None:
        return sorted(p.stem for p in (MACHINES_DIR / isa).glob("*.toml"))
    return sorted(f"{p.parent.name}/{p.stem}" for p in MACHINES_DIR.glob("*/*.toml"))


def load_machine(name_or_path: str | Path, *, isa: str | None = None) -> Machine:
    """Load and validate a machine description.

    Parameters
    ----------
    name_or_path : a machine name (``"zen4"``), ``"<isa>/<name>"``, or a path to a TOML file.
    isa : the ISA folder to look in when `name_or_path` is a bare name (default: search all).

    Raises
    ------
    UnknownMachineError (a LookupError) listing valid names; MachineError naming file and key for
    unknown, missing or ill-typed keys; OSError for an unreadable file.
    """
    path = _resolve(str(name_or_path), isa)
    return _parse(path, _read_with_base(path))


def _read_toml(path: Path) -> dict:
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise MachineError(f"{path}: not valid TOML: {exc}") from None


def _read_with_base(path: Path) -> dict:
    """The file's tables; with a top-level ``based_on = "<name>"``, every table of facts the file
    lacks is the named machine's (same folder, one level: the base may not itself be based on
    another). Identity never carries over: [machine] is the file's own, and without a [host] of
    its own a machine claims no CPU (two files claiming one CPU would make host_machine ambiguous).
    A machine that shares a core with another (graniterapids: alderlake-p's ports and classes)
    keeps one copy of those facts."""
    data = _read_toml(path)
    base = data.pop("based_on", None)
    if base is None:
        return data
    if not isinstance(base, str) or not (path.parent / f"{base}.toml").is_file():
        raise MachineError(f"{path}: key 'based_on' names no machine file {base!r} in {path.parent}")
    inherited = _read_toml(path.parent / f"{base}.toml")
    if "based_on" in inherited:
        raise MachineError(f"{path}: based_on {base!r}, which is itself based on another machine")
    return {**{k: v for k, v in inherited.items() if k not in _IDENTITY_TABLES}, **data}


#: tables a `based_on` machine never takes from its base
_IDENTITY_TABLES = ("machine", "host")


def _resolve(name: str, isa: str | None) -> Path:
    if name.endswith(".toml") or "/" in name and Path(name).exists():
        path = Path(name)
        if not path.exists():
            raise OSError(f"machine file {path} does not exist")
        return path
    if "/" in name:
        isa, name = name.split("/", 1)
    folders = [MACHINES_DIR / isa] if isa else sorted(p for p in MACHINES_DIR.iterdir() if p.is_dir())
    hits = [f / f"{name}.toml" for f in folders if (f / f"{name}.toml").exists()]
    if len(hits) == 1:
        return hits[0]
    valid = machine_names(isa) if isa else machine_names()
    if not hits:
        where = f" for ISA {isa}" if isa else ""
        raise UnknownMachineError(f"unknown machine {name!r}{where}; valid: {', '.join(valid) or '(none)'}")
    raise UnknownMachineError(f"machine name {name!r} is ambiguous: {', '.join(str(h) for h in hits)}; "
                              f"pass isa=")


class _Table:
    """Reads one TOML table, checking types, unknown and missing keys, and collecting sources."""

    def __init__(self, path: Path, name: str, data, sources: dict[str, str], *, needs_source: bool = True):
        if not isinstance(data, dict):
            raise MachineError(f"{path}: [{name}] must be a table")
        self.path, self.name, self.data, self.seen = path, name, data, {"source", "sources"}
        if needs_source:
            src = data.get("source")
            if not isinstance(src, str) or not src.strip():
                raise MachineError(f"{path}: [{name}] missing key 'source' (the provenance of its values)")
            sources[name] = src
            extra = data.get("sources", {})
            if not isinstance(extra, dict):
                raise MachineError(f"{path}: [{name}].sources must be a table of key = \"source\"")
            for key, text in extra.items():
                if key not in data:
                    raise MachineError(f"{path}: [{name}].sources names unknown key {key!r}")
                sources[f"{name}.{key}"] = str(text)

    def get(self, key: str, types, *, default=..., check=None):
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise MachineError(f"{self.path}: [{self.name}] missing key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
            raise MachineError(f"{self.path}: [{self.name}] key {key!r} has the wrong type "
                               f"({type(value).__name__})")
        if check is not None and not check(value):
            raise MachineError(f"{self.path}: [{self.name}] key {key!r} has an invalid value {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise MachineError(f"{self.path}: [{self.name}] unknown key {unknown[0]!r}")


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


_positive = lambda v: v > 0  # noqa: E731


def _parse(path: Path, data: dict) -> Machine:
    sources: dict[str, str] = {}
    top = _Table(path, "(top level)", data, sources, needs_source=False)
    top.seen.discard("source"); top.seen.discard("sources")
    mach = _Table(path, "machine", top.get("machine", dict), sources)
    core = _Table(path, "core", top.get("core", dict), sources)
    ports_t = _Table(path, "ports", top.get("ports", dict), sources)
    caps_raw = top.get("issue_caps", dict, default={})
    classes_raw = top.get("classes", dict)
    mem_t = _Table(path, "memory", top.get("memory", dict), sources)
    host_raw = top.get("host", dict, default=None)
    top.finish()

    name = mach.get("name", str)
    isa = mach.get("isa", str)
    description = mach.get("description", str)
    clock = float(mach.get("clock_ghz", (int, float), check=_positive))
    cores = mach.get("cores", int, check=_positive)
    mach.finish()
    if name != path.stem:
        raise MachineError(f"{path}: [machine] key 'name' is {name!r}, the file is named {path.stem!r}")

    engine = core.get("engine", str, check=lambda v: v in ("ooo", "inorder"))
    width = core.get("dispatch_width", int, check=_positive)
    rob = core.get("rob_size", int, check=_positive)
    sched = core.get("scheduler_size", int, default=None, check=_positive)
    vector_sched = core.get("vector_scheduler_size", int, default=None, check=_positive)
    load_to_use = core.get("load_to_use", int, check=lambda v: v >= 0)
    binding = core.get("port_binding", str, default="issue", check=lambda v: v in ("issue", "dispatch"))
    forward = core.get("store_forward_latency", int, default=None, check=lambda v: v >= 0)
    forward_fail = core.get("store_forward_fail_penalty", int, default=None, check=lambda v: v >= 0)
    rename = core.get("rename_registers", dict, default={},
                      check=lambda v: all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                          for n in v.values()))
    core.finish()

    port_names = tuple(ports_t.get("names", list))
    if len(set(port_names)) != len(port_names) or not port_names:
        raise MachineError(f"{path}: [ports] key 'names' must list distinct port names")
    raw_groups = ports_t.get("groups", dict, default={})
    groups: dict[str, tuple[str, ...]] = {p: (p,) for p in port_names}
    for g, members in raw_groups.items():
        if g in groups:
            raise MachineError(f"{path}: [ports.groups] key {g!r} repeats a port or group name")
        bad = [m for m in members if m not in port_names]
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
    for cap_name, raw in caps_raw.items():
        t = _Table(path, f"issue_caps.{cap_name}", raw, sources)
        group = t.get("group", str)
        cap_ports = expand(f"[issue_caps.{cap_name}] key 'group'", group)
        per_cycle = t.get("per_cycle", (int, float), check=_positive)
        mixed = t.get("mixed_only", bool)
        t.finish()
        caps.append(IssueCap(cap_name, group, cap_ports, per_cycle, mixed, sources[f"issue_caps.{cap_name}"]))

    classes: dict[str, ClassTiming] = {}
    for cls, raw in classes_raw.items():
        tname = f"classes.{cls}"
        t = _Table(path, tname, raw, sources)
        latency = t.get("latency", int, check=lambda v: v >= 0)
        uops = t.get("uops", int, check=lambda v: v >= 0)   # 0: removed at rename (zero idioms)
        plist = t.get("ports", list)
        if len(plist) != uops:
            raise MachineError(f"{path}: [{tname}] key 'ports' lists {len(plist)} port groups for "
                               f"{uops} uops (one group per uop)")
        uports = tuple(expand(f"[{tname}] key 'ports'", g) for g in plist)
        occ = t.get("occupancy", (int, list), default=1)
        occ = tuple(occ) if isinstance(occ, list) else (occ,) * uops
        if len(occ) != uops or any(not isinstance(o, int) or o <= 0 for o in occ):
            raise MachineError(f"{path}: [{tname}] key 'occupancy' needs one positive int per uop")
        oplat_raw = t.get("operand_latency", dict, default={})
        try:
            oplat = {int(k): int(v) for k, v in oplat_raw.items()}
        except (TypeError, ValueError):
            raise MachineError(f"{path}: [{tname}] key 'operand_latency' maps operand index -> cycles") from None
        includes_load = t.get("includes_load", bool, default=False)
        t.finish()
        classes[cls] = ClassTiming(cls, latency, uports, occ, oplat, sources[tname], includes_load)

    levels = []
    raw_levels = mem_t.get("levels", list)
    for i, raw in enumerate(raw_levels):
        t = _Table(path, f"memory.levels[{i}]", raw, sources, needs_source=True)
        levels.append(MemoryLevel(t.get("name", str), t.get("size_bytes", int, check=_positive),
                                  float(t.get("bytes_per_cycle", (int, float), check=_positive)),
                                  sources[f"memory.levels[{i}]"]))
        t.finish()
    if [lv.size_bytes for lv in levels] != sorted(lv.size_bytes for lv in levels):
        raise MachineError(f"{path}: [memory] levels must be listed smallest first")
    dram_core = float(mem_t.get("dram_gbps_core", (int, float), check=_positive))
    dram_chip = float(mem_t.get("dram_gbps_chip", (int, float), check=_positive))
    mem_t.finish()
    host = None if host_raw is None else _parse_host(path, host_raw, sources)

    return Machine(name=name, isa=isa, path=path, description=description, clock_ghz=clock,
                   engine=engine, dispatch_width=width, rob_size=rob, scheduler_size=sched,
                   load_to_use=load_to_use, ports=port_names, port_groups=groups,
                   load_ports=load_ports, store_ports=store_ports, issue_caps=tuple(caps),
                   classes=classes, memory=tuple(levels), dram_gbps_core=dram_core,
                   dram_gbps_chip=dram_chip, cores=cores, sources=sources, port_binding=binding,
                   store_forward_latency=forward, store_forward_fail_penalty=forward_fail,
                   rename_registers=dict(rename), vector_scheduler_size=vector_sched, host=host)


def _parse_host(path: Path, raw, sources: dict[str, str]) -> HostMatch:
    t = _Table(path, "host", raw, sources)
    _ints = lambda v: all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)  # noqa: E731
    vendor = t.get("vendor", str, check=lambda v: v in ("AuthenticAMD", "GenuineIntel"))
    family = t.get("family", int, check=_positive)
    models = tuple(t.get("models", list, default=[], check=_ints))
    flags = tuple(t.get("flags", list, default=[], check=lambda v: all(isinstance(f, str) and f for f in v)))
    core = t.get("core", str)
    t.finish()
    if not models and not flags:
        raise MachineError(f"{path}: [host] needs 'models' or 'flags' (how to recognise the CPU)")
    return HostMatch(vendor, family, models, flags, core, sources["host"])


def machine_from_dict(data: dict, *, path: str | Path = "<dict>.toml") -> Machine:
    """Validate a machine given as a parsed-TOML dict (tests, generated machines)."""
    return _parse(Path(path), data)


__all__.append("machine_from_dict")
