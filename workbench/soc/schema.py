"""The SoC schema: read and validate one ``workbench/soc/socs/<name>.toml`` into a `SoC` record.

Data layer of the projection (workbench/soc/README.md). A SoC file names its CPU clusters and
accelerators by machine file (``isa_models/machines/<isa>/<name>.toml``, loaded through
`isa_models.core.machine.load_machine`), its DRAM, caches, process node and power figures. Every
key is known, typed and range-checked; every table has a ``source`` and per-key ``sources``
(provenance as in isa_models/machines/README.md). Any problem is one `SoCError` line naming the
file, the table and the key; a referenced machine that is missing or of another ISA names the
SoC and the cluster.
"""

from __future__ import annotations

import functools
import math
import tomllib
import types
from pathlib import Path

from workbench.errors import UnknownNameError, UserError
from workbench.soc.records import (DRAM_TYPES, PHASES, Accelerator, Cluster, Dram, Published, SoC,
                                   SoCError)

__all__ = ["SoCError", "SoC", "Cluster", "Accelerator", "Dram", "Published", "DRAM_TYPES", "SOCS_DIR",
           "soc_names", "load_soc", "parse_soc", "walk_values"]

SOCS_DIR = Path(__file__).resolve().parent / "socs"


class _Table:
    """One TOML table: typed, range-checked keys, unknown and missing keys refused, provenance kept.

    The table's ``source`` is stored under `name` in `sources`, each ``sources = {key = ...}``
    entry under ``name.key``.
    """

    def __init__(self, path: Path, name: str, data, sources: dict[str, str]):
        if not isinstance(data, dict):
            raise SoCError(f"{path}: [{name}] must be a table")
        self.path, self.name, self.data, self.seen = path, name, data, {"source", "sources"}
        src = data.get("source")
        if not isinstance(src, str) or not src.strip():
            raise SoCError(f"{path}: [{name}] missing key 'source' (the provenance of its values)")
        sources[name] = src
        extra = data.get("sources", {})
        if not isinstance(extra, dict):
            raise SoCError(f"{path}: [{name}] key 'sources' must be a table of key = \"source\"")
        for key, text in extra.items():
            if key not in data or key in ("source", "sources"):
                raise SoCError(f"{path}: [{name}].sources names unknown key {key!r}")
            if not isinstance(text, str) or not text.strip():
                raise SoCError(f"{path}: [{name}].sources key {key!r} must be a non-empty string")
            sources[f"{name}.{key}"] = text

    def fail(self, key: str, why: str):
        raise SoCError(f"{self.path}: [{self.name}] key {key!r} {why}")

    def _raw(self, key: str, default):
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise SoCError(f"{self.path}: [{self.name}] missing key {key!r}")
            return default, False
        return self.data[key], True

    def text(self, key: str, *, default=..., choices: tuple[str, ...] | None = None) -> str:
        value, given = self._raw(key, default)
        if not given:
            return value
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            self.fail(key, f"is {value!r}; valid: {', '.join(choices)}")
        return value

    def number(self, key: str, lo: float, hi: float, *, default=..., integer: bool = False,
               low_open: bool = False):
        """A number in [lo, hi] (``(lo, hi]`` with `low_open`); `integer` refuses floats."""
        value, given = self._raw(key, default)
        if not given:
            return value
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            self.fail(key, f"has the wrong type ({type(value).__name__}; expected "
                           f"{'an integer' if integer else 'a number'})")
        if not math.isfinite(value) or value < lo or value > hi or low_open and value == lo:
            self.fail(key, f"is {value!r}, outside {'(' if low_open else '['}{lo:g}, {hi:g}]")
        return value if integer else float(value)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise SoCError(f"{self.path}: [{self.name}] unknown key {unknown[0]!r}")


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SoCError(f"{path}: not valid TOML: {str(exc).splitlines()[0]}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SoCError(f"{path}: cannot read SoC file: {exc}") from None


def _tables(path: Path, data: dict, key: str, *, required: bool) -> list:
    if key not in data:
        if required:
            raise SoCError(f"{path}: missing [[{key}]] (at least one)")
        return []
    value = data[key]
    if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
        raise SoCError(f"{path}: [[{key}]] must be one or more tables")
    return value


def _isa_names() -> list[str]:
    from isa_models.registry import isa_names

    return isa_names()


def _unit_names(path: Path, table: str, names: list[str]) -> None:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise SoCError(f"{path}: [[{table}]] name {dup[0]!r} is used twice")


def _load_checked(soc: str, table: str, name: str, isa: str, machine: str):
    """`load_machine(machine, isa=isa)`, its errors re-raised as a SoCError naming the SoC and the unit."""
    from isa_models.core.machine import load_machine

    try:
        m = load_machine(machine, isa=isa)
    except UserError as exc:
        raise SoCError(f"SoC {soc}: [{table}] {name!r}: machine {machine!r} of ISA {isa!r}: {exc}") from None
    if m.isa != isa:
        raise SoCError(f"SoC {soc}: [{table}] {name!r}: machine {machine!r} is of ISA {m.isa!r}, not {isa!r}")
    return m


def _parse_cluster(path: Path, soc: str, i: int, raw, sources: dict, peak: float) -> Cluster:
    name_t = f"clusters[{i}]"
    t = _Table(path, name_t, raw, sources)
    name = t.text("name")
    isa = t.text("isa", choices=tuple(_isa_names()))
    machine = t.text("machine")
    count = t.number("count", 1, 1024, integer=True)
    clock = t.number("clock_ghz", 0.0, 10.0, low_open=True)
    active = t.number("active_power_w", 0.0, 500.0, low_open=True)
    idle = t.number("idle_power_w", 0.0, 500.0)
    dram_core = t.number("dram_gbps_core", 0.0, peak, default=None, low_open=True)
    boost = t.number("boost_ghz", clock, 10.0, default=None, low_open=True)
    boost_cores = t.number("boost_cores", 1, count, default=0, integer=True)
    boost_power = t.number("boost_power_w", active, 500.0, default=None)
    t.finish()
    if idle > active:
        t.fail("idle_power_w", f"is {idle:g} W, above active_power_w {active:g} W")
    given = [k for k, v in (("boost_ghz", boost), ("boost_cores", boost_cores or None),
                            ("boost_power_w", boost_power)) if v is not None]
    if given and len(given) != 3:
        missing = next(k for k in ("boost_ghz", "boost_cores", "boost_power_w") if k not in given)
        raise SoCError(f"{path}: [{name_t}] missing key {missing!r} (boost_ghz, boost_cores and boost_power_w "
                       f"go together)")
    m = _load_checked(soc, name_t, name, isa, machine)
    if dram_core is None:
        dram_core = m.dram_gbps_core
        sources[f"{name_t}.dram_gbps_core"] = (f"the machine {isa}/{machine}'s memory.dram_gbps_core: "
                                               f"{m.source_of('memory.dram_gbps_core')}")
    return Cluster(name, isa, machine, count, clock, active, idle, float(dram_core), boost, boost_cores,
                   boost_power, m)


def _parse_accelerator(path: Path, soc: str, i: int, raw, sources: dict, peak: float) -> Accelerator:
    name_t = f"accelerators[{i}]"
    t = _Table(path, name_t, raw, sources)
    name = t.text("name")
    kind = t.text("kind", choices=tuple(_isa_names()))
    machine = t.text("machine")
    clock = t.number("clock_ghz", 0.0, 10.0, low_open=True)
    active = t.number("active_power_w", 0.0, 500.0, low_open=True)
    idle = t.number("idle_power_w", 0.0, 500.0)
    dram = t.number("dram_gbps", 0.0, peak, low_open=True)
    t.finish()
    if idle > active:
        t.fail("idle_power_w", f"is {idle:g} W, above active_power_w {active:g} W")
    m = _load_checked(soc, name_t, name, kind, machine)
    return Accelerator(name, kind, machine, clock, active, idle, dram, m)


def _parse_dram(path: Path, raw, sources: dict) -> Dram:
    t = _Table(path, "dram", raw, sources)
    dram = Dram(type=t.text("type", choices=DRAM_TYPES),
                mt_s=t.number("mt_s", 100.0, 20000.0),
                bus_bits=t.number("bus_bits", 16, 2048, integer=True),
                efficiency=t.number("efficiency", 0.0, 1.0, low_open=True),
                capacity_gb=t.number("capacity_gb", 0.0, 16384.0, low_open=True),
                background_power_w=t.number("background_power_w", 0.0, 200.0))
    t.finish()
    if dram.bus_bits % 16:
        t.fail("bus_bits", f"is {dram.bus_bits}, not a multiple of 16")
    src = lambda k: sources.get(f"dram.{k}", sources["dram"])  # noqa: E731
    given = (f"mt_s and bus_bits: {src('mt_s')}" if src("mt_s") == src("bus_bits")
             else f"mt_s: {src('mt_s')}; bus_bits: {src('bus_bits')}")
    sources["dram.peak_gbps"] = (f"derived: mt_s {dram.mt_s:g} MT/s x bus_bits {dram.bus_bits} / 8 = "
                                 f"{dram.peak_gbps:.1f} GB/s ({given})")
    sources["dram.sustained_gbps"] = (f"derived: peak_gbps {dram.peak_gbps:.1f} x efficiency {dram.efficiency:g} = "
                                      f"{dram.sustained_gbps:.1f} GB/s (efficiency: {src('efficiency')})")
    return dram


def _parse_published(path: Path, i: int, raw, sources: dict, engines: tuple[str, ...]) -> Published:
    name_t = f"published[{i}]"
    t = _Table(path, name_t, raw, sources)
    what, model = t.text("what"), t.text("model")
    tps = t.number("tokens_per_s", 0.0, 1e6, default=None, low_open=True)
    jpt = t.number("joules_per_token", 0.0, 1e6, default=None, low_open=True)
    threads = t.number("threads", 1, 1024, integer=True)
    engine = t.text("engine", choices=engines)
    includes = t.text("includes")
    phase = t.text("phase", default="decode", choices=PHASES)
    kernel = t.text("kernel", default=None)
    context = t.number("context", 1, 1 << 20, integer=True, default=None)
    weight_format = t.text("weight_format", default=None)
    t.finish()
    if (tps is None) == (jpt is None):
        raise SoCError(f"{path}: [{name_t}] needs exactly one of 'tokens_per_s' and 'joules_per_token'")
    return Published(what, model, tps, jpt, threads, engine, includes, sources[name_t], phase, kernel, context, weight_format)


def parse_soc(path: Path, data: dict) -> SoC:
    """Validate the parsed TOML `data` of SoC file `path` (schema: workbench/soc/README.md)."""
    known = ("soc", "dram", "clusters", "accelerators", "published")
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SoCError(f"{path}: unknown table {unknown[0]!r}; valid: {', '.join(known)}")
    sources: dict[str, str] = {}
    if "soc" not in data:
        raise SoCError(f"{path}: missing table [soc]")
    if "dram" not in data:
        raise SoCError(f"{path}: missing table [dram]")
    t = _Table(path, "soc", data["soc"], sources)
    name = t.text("name")
    head = dict(description=t.text("description"), device=t.text("device"), process=t.text("process"),
                node_nm=t.number("node_nm", 1.0, 250.0),
                system_cache_bytes=t.number("system_cache_bytes", 0, 1 << 40, integer=True),
                uncore_power_w=t.number("uncore_power_w", 0.0, 500.0))
    t.finish()
    if name != path.stem:
        t.fail("name", f"is {name!r}, the file is named {path.stem!r}")
    dram = _parse_dram(path, data["dram"], sources)
    clusters = tuple(_parse_cluster(path, name, i, raw, sources, dram.peak_gbps)
                     for i, raw in enumerate(_tables(path, data, "clusters", required=True)))
    accelerators = tuple(_parse_accelerator(path, name, i, raw, sources, dram.peak_gbps)
                         for i, raw in enumerate(_tables(path, data, "accelerators", required=False)))
    _unit_names(path, "clusters", [c.name for c in clusters])
    _unit_names(path, "accelerators", [a.name for a in accelerators])
    for i in range(1, len(clusters)):
        if clusters[i].clock_ghz > clusters[i - 1].clock_ghz:
            raise SoCError(f"{path}: [clusters[{i}]] key 'clock_ghz' {clusters[i].clock_ghz:g} is above the "
                           f"previous cluster's {clusters[i - 1].clock_ghz:g}: list clusters biggest first")
    engines = ("cpu", *dict.fromkeys(a.kind for a in accelerators))
    published = tuple(_parse_published(path, i, raw, sources, engines)
                      for i, raw in enumerate(_tables(path, data, "published", required=False)))
    return SoC(name=name, path=path, clusters=clusters, accelerators=accelerators, dram=dram,
               published=published, sources=types.MappingProxyType(sources), **head)


def soc_names() -> list[str]:
    """Names of the SoC files in ``workbench/soc/socs/``."""
    return sorted(p.stem for p in SOCS_DIR.glob("*.toml"))


def load_soc(name_or_path: str | Path) -> SoC:
    """Load and validate a SoC description by name (``"snapdragon-8-gen-3"``) or path (``*.toml``).

    Raises
    ------
    UnknownNameError : no SoC of that name (the message lists the valid ones).
    SoCError : a malformed file, naming the file, the table and the key; a machine that is
        missing or of another ISA, naming the SoC and the cluster.
    """
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise SoCError(f"SoC file {path} does not exist")
    else:
        path = SOCS_DIR / f"{text}.toml"
        if not path.is_file():
            raise UnknownNameError(f"unknown SoC {text!r}; valid: {', '.join(soc_names()) or '(none)'}")
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise SoCError(f"{path}: cannot read SoC file: {exc}") from None
    return _load_cached(str(path), str(path.resolve()), stamp)


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, resolved: str, mtime_ns: int) -> SoC:
    """`parse_soc` of one file version (keyed by where it is and its modification time): a SoC
    and its machines are immutable records, so projections and claims share one load (~50 ms).
    A machine file edited while the process runs is read again only with its SoC file."""
    del resolved, mtime_ns
    p = Path(path)
    return parse_soc(p, _read_toml(p))


def walk_values(data: dict, prefix: str = "") -> list[str]:
    """Dotted keys of every value of a parsed SoC TOML (``soc.node_nm``, ``clusters[0].count``),
    provenance keys excluded: what `SoC.source_of` answers for."""
    keys = []
    for k, v in data.items():
        if k in ("source", "sources"):
            continue
        dotted = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            keys += walk_values(v, dotted)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                keys += walk_values(x, f"{dotted}[{i}]")
        else:
            keys.append(dotted)
    return keys

