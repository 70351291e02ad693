"""The machine schema: the common part, the engine-section dispatch, and the `Machine` record.

Engine layer (DESIGN.md §3, §8). Every machine file has the common part: ``[machine]`` (name,
ISA, description, clock, cores, the ISA extensions of its core), ``[memory]`` (cache levels, DRAM
bandwidth) and an optional ``[host]`` (which real CPUs it stands for), and exactly one engine
section whose table name is the engine kind: ``[ooo]`` / ``[inorder]`` (`cpu.py`),
``[mac_array]`` (`mac_array.py`) or ``[vliw]`` (`vliw.py`). `ENGINE_SECTIONS` maps each kind to its parser and the further
top-level tables it owns, so a new engine (a VLIW core) is one module and one entry here.
Every table carries a ``source`` and per-key ``sources`` (`tables._Table`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from isa_models.core.machine.cpu import CPU_TABLES, parse_cpu
from isa_models.core.machine.extensions import check_program, missing_extensions
from isa_models.core.machine.mac_array import parse_mac_array
from isa_models.core.machine.tables import MachineError, _Table, positive
from isa_models.core.machine.vliw import VLIW_TABLES, parse_vliw

__all__ = ["Machine", "PublishedFigure", "MemoryLevel", "HostMatch", "EngineSection", "ENGINE_SECTIONS", "parse_machine",
           "machine_from_dict", "engine_kinds"]


@dataclass(frozen=True)
class EngineSection:
    """How one engine kind's section is read.

    kind : the section's table name, kept as `Machine.engine`.
    tables : further top-level tables the section owns (a CPU's ``ports``, ``issue_caps``, ``classes``).
    parse : ``(path, kind, tables, sources, machine_name) -> section record``; `tables` maps `kind`
        and each of `tables` to its parsed value (None when absent).
    """

    kind: str
    tables: tuple[str, ...]
    parse: Callable


#: engine kind -> how its section is read
ENGINE_SECTIONS: dict[str, EngineSection] = {
    "ooo": EngineSection("ooo", CPU_TABLES, parse_cpu),
    "inorder": EngineSection("inorder", CPU_TABLES, parse_cpu),
    "mac_array": EngineSection("mac_array", (), parse_mac_array),
    "vliw": EngineSection("vliw", VLIW_TABLES, parse_vliw),
}

#: the common tables of every machine file
COMMON_TABLES = ("machine", "memory", "host", "published")


def engine_kinds() -> list[str]:
    """The engine kinds a machine file may have a section for."""
    return sorted(ENGINE_SECTIONS)


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

    A CPU matches when its vendor string equals `vendor`, its family equals `family` (when the
    vendor numbers families; None: any), and either its model number is in `models` or it has
    every flag in `flags` (hypervisors may report a made-up model number but pass the feature
    flags through). `core` names the core for reports. The probe that reads the CPU
    (`kernels.codegen`) decides what the vendor string and numbers are on each architecture.
    """

    vendor: str
    family: int | None
    models: tuple[int, ...]
    flags: tuple[str, ...]
    core: str
    source: str

    def matches(self, *, vendor: str, family: int | None, model: int | None, flags) -> bool:
        if vendor != self.vendor or self.family is not None and family != self.family:
            return False
        return model in self.models or bool(self.flags) and set(self.flags) <= set(flags)


@dataclass(frozen=True)
class PublishedFigure:
    """A published end-to-end figure measured on the hardware this machine stands for (optional
    ``[[published]]`` tables), printed beside the workbench's own figure for the same model.

    what : who measured what ("T-MAN decode, BitNet-2B-4T, Snapdragon 8 Gen 3").
    model : the model preset it is for (`workbench models`).
    tokens_per_s : decode tokens per second as published.
    includes : what the published figure covers (whole decode step, threads, engine).
    """

    what: str
    model: str
    tokens_per_s: float
    includes: str
    source: str


@dataclass(frozen=True)
class Machine:
    """One core (or accelerator) plus its memory system, as the timing engines see it.

    The common part is attributes of the machine; the engine section is `section` (a
    `cpu.CpuCore` for ``ooo``/``inorder``, a `mac_array.MacArray` for ``mac_array``), and its
    attributes read through the machine too (``machine.rob_size``, ``machine.timing(cls)``,
    ``machine.rows``). Schema: isa_models/machines/README.md.

    Attributes
    ----------
    extensions : the ISA extensions the core has (/proc/cpuinfo flag names for CPUs).
    mca_cpu : the ``-mcpu`` of the LLVM scheduling model that stands for this core in llvm-mca
        (optional ``[machine] mca_cpu``; None when no LLVM model fits or the ISA has none).
    engine : the engine kind (the engine section's table name).
    sources : provenance by dotted key (see `source_of`).
    host : the real CPUs this machine models, or None.
    """

    name: str
    isa: str
    path: Path
    description: str
    clock_ghz: float
    cores: int
    extensions: tuple[str, ...]
    memory: tuple[MemoryLevel, ...]
    dram_gbps_core: float
    dram_gbps_chip: float
    engine: str
    section: object
    sources: Mapping[str, str] = field(default_factory=dict)
    host: HostMatch | None = None
    mca_cpu: str | None = None
    published: tuple[PublishedFigure, ...] = ()

    def __getattr__(self, name: str):
        # only reached when `name` is not an attribute of the machine: read it from the section
        if name.startswith("__"):
            raise AttributeError(name)
        section = self.__dict__.get("section")
        try:
            return getattr(section, name)
        except AttributeError:
            raise AttributeError(f"machine {self.__dict__.get('name')} (engine {self.__dict__.get('engine')}) "
                                 f"has no attribute {name!r}") from None

    def source_of(self, key: str) -> str:
        """Provenance of a value, by dotted key (``ooo.rob_size``, ``machine.extensions``,
        ``memory.levels[0]``, ``classes.avx2.vpshufb``, ``mac_array.rows``): the key's own
        ``sources`` entry, else its table's ``source``."""
        if key in self.sources:
            return self.sources[key]
        if key.startswith("classes.") and self.engine in ("ooo", "inorder"):
            return self.section.timing(key[len("classes."):]).source
        parts = key.split(".")
        for i in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:i])
            if prefix in self.sources:
                return self.sources[prefix]
        raise MachineError(f"machine {self.name}: no value {key!r}")

    @property
    def dram_bytes_per_cycle(self) -> float:
        """Single-core DRAM bandwidth in bytes per core cycle."""
        return self.dram_gbps_core / self.clock_ghz

    def missing_extensions(self, program) -> dict[str, tuple[str, ...]]:
        """Form name -> extensions it needs that this machine lacks (`extensions.missing_extensions`)."""
        return missing_extensions(self, program)

    def check_program(self, program) -> None:
        """Refuse (`MissingExtensionError`) a program needing an ISA extension this machine lacks."""
        check_program(self, program)

    def to_json(self) -> dict:
        """The resolved machine (for writing beside results): common part, then the section's keys."""
        return {
            "name": self.name, "isa": self.isa, "file": str(self.path), "description": self.description,
            "clock_ghz": self.clock_ghz, "cores": self.cores, "extensions": list(self.extensions),
            "mca_cpu": self.mca_cpu, "engine": self.engine, **self.section.to_json(),
            "memory": [{"name": m.name, "size_bytes": m.size_bytes, "bytes_per_cycle": m.bytes_per_cycle}
                       for m in self.memory],
            "dram_gbps_core": self.dram_gbps_core, "dram_gbps_chip": self.dram_gbps_chip,
            "sources": dict(self.sources),
            "published": [{"what": f.what, "model": f.model, "tokens_per_s": f.tokens_per_s,
                           "includes": f.includes, "source": f.source} for f in self.published],
            "host": None if self.host is None else {
                "vendor": self.host.vendor, "family": self.host.family, "models": list(self.host.models),
                "flags": list(self.host.flags), "core": self.host.core},
        }


def parse_machine(path: Path, data: dict) -> Machine:
    """Validate the parsed TOML `data` of machine file `path` (see the module doc)."""
    if not isinstance(data, dict):
        raise MachineError(f"{path}: a machine file is a set of tables")
    kinds = [k for k in ENGINE_SECTIONS if k in data]
    if not kinds:
        hint = (" ([core] became the engine section: name it [ooo] or [inorder] and drop its 'engine' key)"
                if "core" in data else "")
        raise MachineError(f"{path}: no engine section; a machine has one of "
                           f"{', '.join(f'[{k}]' for k in engine_kinds())}{hint}")
    if len(kinds) > 1:
        raise MachineError(f"{path}: {len(kinds)} engine sections ({', '.join(f'[{k}]' for k in kinds)}); "
                           f"a machine has exactly one")
    spec = ENGINE_SECTIONS[kinds[0]]
    sources: dict[str, str] = {}
    top = _Table(path, "(top level)", data, sources, needs_source=False)
    mach = _Table(path, "machine", top.get("machine", dict), sources)
    mem_t = _Table(path, "memory", top.get("memory", dict), sources)
    host_raw = top.get("host", dict, default=None)
    published_raw = top.get("published", list, default=[])
    owned = {spec.kind: top.get(spec.kind, dict)}
    for name in spec.tables:
        top.seen.add(name)
        owned[name] = data.get(name)
    top.finish()

    name = mach.get("name", str)
    isa = mach.get("isa", str, check=lambda v: bool(v))
    description = mach.get("description", str)
    clock = float(mach.get("clock_ghz", (int, float), check=positive))
    cores = mach.get("cores", int, check=positive)
    extensions = mach.get_strings("extensions")
    mca_cpu = mach.get("mca_cpu", str, default=None, check=lambda v: bool(v.strip()))
    mach.finish()
    if name != path.stem:
        raise MachineError(f"{path}: [machine] key 'name' is {name!r}, the file is named {path.stem!r}")

    section = spec.parse(path, spec.kind, owned, sources, name)

    levels = []
    raw_levels = mem_t.get("levels", list)
    for i, raw in enumerate(raw_levels):
        t = _Table(path, f"memory.levels[{i}]", raw, sources)
        levels.append(MemoryLevel(t.get("name", str), t.get("size_bytes", int, check=positive),
                                  float(t.get("bytes_per_cycle", (int, float), check=positive)),
                                  sources[f"memory.levels[{i}]"]))
        t.finish()
    if [lv.size_bytes for lv in levels] != sorted(lv.size_bytes for lv in levels):
        raise MachineError(f"{path}: [memory] levels must be listed smallest first")
    dram_core = float(mem_t.get("dram_gbps_core", (int, float), check=positive))
    dram_chip = float(mem_t.get("dram_gbps_chip", (int, float), check=positive))
    mem_t.finish()
    host = None if host_raw is None else _parse_host(path, host_raw, sources)
    published = tuple(_parse_published(path, i, raw, sources) for i, raw in enumerate(published_raw))

    return Machine(name=name, isa=isa, path=path, description=description, clock_ghz=clock, cores=cores,
                   extensions=extensions, memory=tuple(levels), dram_gbps_core=dram_core,
                   dram_gbps_chip=dram_chip, engine=spec.kind, section=section, sources=sources, host=host,
                   mca_cpu=mca_cpu, published=published)


def _parse_published(path: Path, i: int, raw, sources: dict[str, str]) -> PublishedFigure:
    t = _Table(path, f"published[{i}]", raw, sources)
    fig = PublishedFigure(t.get("what", str, check=lambda v: bool(v.strip())),
                          t.get("model", str, check=lambda v: bool(v.strip())),
                          float(t.get("tokens_per_s", (int, float), check=positive)),
                          t.get("includes", str, check=lambda v: bool(v.strip())),
                          sources[f"published[{i}]"])
    t.finish()
    return fig


def _parse_host(path: Path, raw, sources: dict[str, str]) -> HostMatch:
    t = _Table(path, "host", raw, sources)
    _ints = lambda v: all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)  # noqa: E731
    vendor = t.get("vendor", str, check=lambda v: bool(v.strip()))
    family = t.get("family", int, default=None, check=lambda v: v >= 0)
    models = tuple(t.get("models", list, default=[], check=_ints))
    flags = t.get_strings("flags", default=())
    core = t.get("core", str)
    t.finish()
    if not models and not flags:
        raise MachineError(f"{path}: [host] needs 'models' or 'flags' (how to recognise the CPU)")
    return HostMatch(vendor, family, models, flags, core, sources["host"])


def machine_from_dict(data: dict, *, path: str | Path = "<dict>.toml") -> Machine:
    """Validate a machine given as a parsed-TOML dict (tests, generated machines)."""
    return parse_machine(Path(path), data)
