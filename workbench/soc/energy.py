"""The energy model: per-event energies scaled by process node, plus static power times time.

Data layer of the projection, next to the SoC descriptions: `workbench.projection` counts a token's
events (int8 and floating-point operations, vector and scalar instructions, bytes read from each
cache level, local memory and DRAM) into an `EnergyEvents`, and `EnergyModel.estimate` turns them
into joules with a low-high range from the sources' spread. Every per-event energy, every DRAM
pJ/bit and every node factor is one sourced row of ``workbench/soc/energy.toml`` (schema in its
header); ``model.table()`` lists them for docs/energy.md. Bad input is one `UserError` line.
"""

from __future__ import annotations

import functools
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import UnknownNameError, UserError

__all__ = ["EnergyEvents", "EnergyEstimate", "EnergyModel", "EnergyModelError", "EventEnergy", "NodeFactor",
           "EVENT_KINDS", "DEFAULT_PATH", "scaling_factor"]

DEFAULT_PATH = Path(__file__).resolve().parent / "energy.toml"
#: the event kinds, in `EnergyEvents` field order; DRAM bytes are the one kind not node-scaled
EVENT_KINDS = ("int8_ops", "int32_ops", "fp16_ops", "fp32_ops", "vector_instructions", "scalar_instructions",
               "bytes_l1", "bytes_l2", "bytes_llc", "bytes_vtcm", "dram_bytes")
_PJ = 1e-12


class EnergyModelError(UserError):
    """A malformed energy table (names the file, the table and the key)."""


# --- events and estimates -------------------------------------------------------------------------

@dataclass(frozen=True)
class EnergyEvents:
    """Counts of the events a piece of work causes (any non-negative float; a count may be fractional
    after scaling).

    int8_ops : int8 lane operations, an add or a multiply-accumulate each; int32_ops : 32-bit integer
    adds (accumulations, shifts, compares); fp16_ops, fp32_ops : floating-point adds, multiplies, FMAs
    or conversions; vector_instructions, scalar_instructions : instructions issued (their fetch,
    decode, scheduling, register-file and control overhead, not the lane arithmetic); bytes_l1,
    bytes_l2, bytes_llc, bytes_vtcm : bytes read from each level (a byte from DRAM that passes
    through L2 and L1 is counted at each); dram_bytes : bytes moved to or from DRAM.

    ``a + b`` adds two event sets; ``a * k`` and ``k * a`` scale every count by the number k >= 0.
    """

    int8_ops: float = 0.0
    int32_ops: float = 0.0
    fp16_ops: float = 0.0
    fp32_ops: float = 0.0
    vector_instructions: float = 0.0
    scalar_instructions: float = 0.0
    bytes_l1: float = 0.0
    bytes_l2: float = 0.0
    bytes_llc: float = 0.0
    bytes_vtcm: float = 0.0
    dram_bytes: float = 0.0

    def __post_init__(self):
        for kind in EVENT_KINDS:
            v = getattr(self, kind)
            if not _is_count(v):
                raise UserError(f"EnergyEvents.{kind} must be a finite number >= 0, got {v!r}")

    def as_dict(self) -> dict[str, float]:
        """The counts by event kind, in `EVENT_KINDS` order."""
        return {k: float(getattr(self, k)) for k in EVENT_KINDS}

    def __add__(self, other: "EnergyEvents") -> "EnergyEvents":
        if not isinstance(other, EnergyEvents):
            return NotImplemented
        return EnergyEvents(**{k: getattr(self, k) + getattr(other, k) for k in EVENT_KINDS})

    def __mul__(self, k: float) -> "EnergyEvents":
        _check_scale(k, "EnergyEvents")
        return EnergyEvents(**{kind: getattr(self, kind) * k for kind in EVENT_KINDS})

    __rmul__ = __mul__


def _is_count(v) -> bool:
    """A finite real number >= 0 (numpy scalars included, bools not)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def _check_scale(k, what: str) -> None:
    if not _is_count(k):
        raise UserError(f"{what} can only be scaled by a finite number >= 0, got {k!r}")


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of some work: ``joules`` (central), ``low`` and ``high`` (the range from the sources'
    spread), and ``breakdown`` (central joules per event kind with a non-zero count, and ``"static"``).

    ``sum(breakdown.values()) == joules``; ``low <= joules <= high``. ``a + b`` adds two estimates
    (the ranges add: the same sources err the same way on both), ``a * k`` scales one.
    """

    joules: float = 0.0
    low: float = 0.0
    high: float = 0.0
    breakdown: dict = field(default_factory=dict)

    def __add__(self, other: "EnergyEstimate") -> "EnergyEstimate":
        if not isinstance(other, EnergyEstimate):
            return NotImplemented
        keys = list(dict.fromkeys([*self.breakdown, *other.breakdown]))
        return EnergyEstimate(self.joules + other.joules, self.low + other.low, self.high + other.high,
                              {k: self.breakdown.get(k, 0.0) + other.breakdown.get(k, 0.0) for k in keys})

    def __mul__(self, k: float) -> "EnergyEstimate":
        _check_scale(k, "EnergyEstimate")
        return EnergyEstimate(self.joules * k, self.low * k, self.high * k,
                              {name: v * k for name, v in self.breakdown.items()})

    __rmul__ = __mul__

    def to_json(self) -> dict:
        """``{"joules", "low", "high", "breakdown"}``, plain floats."""
        return {"joules": self.joules, "low": self.low, "high": self.high,
                "breakdown": {k: float(v) for k, v in self.breakdown.items()}}


# --- the sourced values ----------------------------------------------------------------------------

@dataclass(frozen=True)
class EventEnergy:
    """One per-event energy: low, central and high in ``unit`` at the source node ``node_nm``
    (None for a DRAM type: not node-scaled), with its ``source``. ``per_event_pj`` converts the
    central value to pJ per event (a DRAM pJ/bit becomes pJ/byte)."""

    event: str
    low: float
    central: float
    high: float
    unit: str
    node_nm: float | None
    source: str

    @property
    def to_pj(self) -> float:
        """Factor from ``unit`` to pJ per counted event (8 for pJ/bit of a byte count)."""
        return 8.0 if self.unit == "pJ/bit" else 1.0


@dataclass(frozen=True)
class NodeFactor:
    """Energy per event at a process node relative to the reference node: low, central, high."""

    nm: float
    low: float
    central: float
    high: float
    source: str


def _num(path: Path, table: str, data: dict, key: str, *, positive: bool = True) -> float:
    if key not in data:
        raise EnergyModelError(f"{path}: [{table}] missing key {key!r}")
    v = data[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (positive and v <= 0):
        raise EnergyModelError(f"{path}: [{table}] key {key!r} must be a positive number, got {v!r}")
    return float(v)


def _text(path: Path, table: str, data: dict, key: str) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v.strip():
        raise EnergyModelError(f"{path}: [{table}] missing key {key!r} (a non-empty string)")
    return v


def _check_keys(path: Path, table: str, data, allowed: set[str]) -> dict:
    if not isinstance(data, dict):
        raise EnergyModelError(f"{path}: [{table}] must be a table")
    extra = sorted(set(data) - allowed)
    if extra:
        raise EnergyModelError(f"{path}: [{table}] unknown key {extra[0]!r}; valid: {', '.join(sorted(allowed))}")
    return data


def _range(path: Path, table: str, data: dict) -> tuple[float, float, float]:
    """low, central, high of a table; central defaults to the geometric mean of low and high."""
    low, high = _num(path, table, data, "low"), _num(path, table, data, "high")
    central = _num(path, table, data, "central") if "central" in data else math.sqrt(low * high)
    if not low <= central <= high:
        raise EnergyModelError(f"{path}: [{table}] needs low <= central <= high, got {low}, {central}, {high}")
    return low, central, high


_EVENT_KEYS = {"low", "central", "high", "unit", "node_nm", "source"}
_DRAM_KEYS = {"low", "central", "high", "source"}
_NODE_KEYS = {"nm", "low", "central", "high", "source"}


def _parse(path: Path) -> "EnergyModel":
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise EnergyModelError(f"energy table {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise EnergyModelError(f"{path}: not valid TOML: {e}") from None
    _check_keys(path, "top level", raw, {"model", "scaling", "events", "dram"})
    model = _check_keys(path, "model", raw.get("model", {}), {"source", "description"})
    _text(path, "model", model, "source")
    scaling = _check_keys(path, "scaling", raw.get("scaling", {}), {"source", "reference_nm", "nodes"})
    ref = _num(path, "scaling", scaling, "reference_nm")
    nodes = []
    for i, n in enumerate(scaling.get("nodes", [])):
        name = f"scaling.nodes[{i}]"
        _check_keys(path, name, n, _NODE_KEYS)
        nodes.append(NodeFactor(_num(path, name, n, "nm"), *_range(path, name, n), _text(path, name, n, "source")))
    nodes.sort(key=lambda f: -f.nm)
    if len({f.nm for f in nodes}) != len(nodes):
        raise EnergyModelError(f"{path}: [scaling] lists a node twice")
    if not any(f.nm == ref for f in nodes):
        raise EnergyModelError(f"{path}: [scaling] reference_nm {ref:g} is not one of its nodes")
    events = {}
    raw_events = _check_keys(path, "events", raw.get("events", {}), set(EVENT_KINDS) - {"dram_bytes"})
    for kind in EVENT_KINDS[:-1]:
        if kind not in raw_events:
            raise EnergyModelError(f"{path}: [events] missing table [events.{kind}]")
        name = f"events.{kind}"
        t = _check_keys(path, name, raw_events[kind], _EVENT_KEYS)
        node = _num(path, name, t, "node_nm")
        events[kind] = EventEnergy(kind, *_range(path, name, t), _text(path, name, t, "unit"), node,
                                   _text(path, name, t, "source"))
        if not any(f.nm == node for f in nodes):
            raise EnergyModelError(f"{path}: [{name}] node_nm {node:g} is not a node of [scaling]")
    dram = {}
    for dtype, t in _check_keys(path, "dram", raw.get("dram", {}), set(raw.get("dram", {}))).items():
        name = f"dram.{dtype}"
        _check_keys(path, name, t, _DRAM_KEYS)
        dram[dtype] = EventEnergy(f"dram_bytes ({dtype})", *_range(path, name, t), "pJ/bit", None,
                                  _text(path, name, t, "source"))
    if not dram:
        raise EnergyModelError(f"{path}: [dram] lists no DRAM type")
    return EnergyModel(path, model["source"], ref, tuple(nodes), events, dram)


# --- the model -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnergyModel:
    """The sourced per-event energies, DRAM energies per type and process-node factors.

    Build with `EnergyModel.load`; `estimate` prices an `EnergyEvents`; `table` lists every value
    with its source; `scaling_factor` and `node_factor` expose the node scaling.
    """

    path: Path
    source: str
    reference_nm: float
    nodes: tuple[NodeFactor, ...]
    events: dict = field(repr=False)
    dram: dict = field(repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "EnergyModel":
        """Read and validate the energy table (``workbench/soc/energy.toml`` when `path` is None)."""
        return _load(Path(path).resolve() if path is not None else DEFAULT_PATH)

    @property
    def dram_types(self) -> list[str]:
        return list(self.dram)

    @property
    def node_nms(self) -> list[float]:
        """The nodes of the scaling table, largest first."""
        return [f.nm for f in self.nodes]

    def node_factor(self, nm: float) -> NodeFactor:
        """The energy factor of node `nm` relative to the reference node (UserError for a node the
        table lacks: it names the valid ones)."""
        if isinstance(nm, bool) or not isinstance(nm, numbers.Real) or not math.isfinite(nm):
            raise UserError(f"process node must be a number of nm, got {nm!r}")
        for f in self.nodes:
            if math.isclose(f.nm, nm, rel_tol=1e-9):
                return f
        raise UnknownNameError(f"process node {nm:g} nm is not in the energy model's scaling table; valid: "
                               + ", ".join(f"{n:g}" for n in self.node_nms))

    def scaling_factor(self, from_nm: float, to_nm: float, *, which: str = "central") -> float:
        """Energy of one event at `to_nm` over its energy at `from_nm`.

        which : "central"; "low" or "high" give the extremes of the range (the low factor of the
        target over the high of the source, and the reverse), both equal to 1 for a node to itself.
        """
        a, b = self.node_factor(from_nm), self.node_factor(to_nm)
        if a.nm == b.nm:
            return 1.0
        if which == "central":
            return b.central / a.central
        if which == "low":
            return b.low / a.high
        if which == "high":
            return b.high / a.low
        raise UnknownNameError(f"unknown scaling bound {which!r}; valid: central, low, high")

    def dram_energy(self, dram_type: str) -> EventEnergy:
        """The pJ/bit of one DRAM type (UnknownNameError naming the valid types)."""
        if dram_type not in self.dram:
            raise UnknownNameError(f"unknown DRAM type {dram_type!r} for the energy model; valid: "
                                   + ", ".join(self.dram))
        return self.dram[dram_type]

    def per_event(self, kind: str, *, node_nm: float, dram_type: str) -> tuple[float, float, float]:
        """(low, central, high) joules of one event of `kind` at `node_nm` with `dram_type`."""
        if kind == "dram_bytes":
            e, lo_s, c_s, hi_s = self.dram_energy(dram_type), 1.0, 1.0, 1.0
        elif kind in self.events:
            e = self.events[kind]
            lo_s, c_s, hi_s = (self.scaling_factor(e.node_nm, node_nm, which=w) for w in ("low", "central", "high"))
        else:
            raise UnknownNameError(f"unknown energy event {kind!r}; valid: {', '.join(EVENT_KINDS)}")
        k = e.to_pj * _PJ
        return e.low * lo_s * k, e.central * c_s * k, e.high * hi_s * k

    def estimate(self, events: EnergyEvents, *, node_nm: float, dram_type: str, static_w: float = 0.0,
                 seconds: float = 0.0) -> EnergyEstimate:
        """Energy of `events` on a chip of process node `node_nm` with DRAM `dram_type`.

        Dynamic energy is the sum over event kinds of count x per-event energy (scaled from the
        source node to `node_nm`; DRAM bytes are not node-scaled); static energy is
        ``static_w * seconds`` (power the events do not explain: leakage, clocks, idle units, the
        uncore; the same in low, central and high).

        Returns
        -------
        EnergyEstimate with the breakdown per event kind with a non-zero count, and "static".

        Raises
        ------
        UserError : an unknown DRAM type or a node outside the scaling table (naming the valid
            ones), negative or non-finite power or time, `events` not an EnergyEvents.
        """
        if not isinstance(events, EnergyEvents):
            raise UserError(f"estimate needs an EnergyEvents, got {type(events).__name__}")
        for name, v in (("static_w", static_w), ("seconds", seconds)):
            if not _is_count(v):
                raise UserError(f"energy estimate: {name} must be a finite number >= 0, got {v!r}")
        self.node_factor(node_nm)
        self.dram_energy(dram_type)
        low = central = high = 0.0
        breakdown: dict[str, float] = {}
        for kind, count in events.as_dict().items():
            if count == 0:
                continue
            lo, c, hi = self.per_event(kind, node_nm=node_nm, dram_type=dram_type)
            low, central, high = low + count * lo, central + count * c, high + count * hi
            breakdown[kind] = count * c
        static = float(static_w) * float(seconds)
        breakdown["static"] = static
        return EnergyEstimate(central + static, low + static, high + static, breakdown)

    def table(self) -> list[dict]:
        """Every value with its source, for docs: rows of event, low, central, high, unit, node, source
        (per-event energies, then DRAM types, then the node factors)."""
        rows = [{"event": e.event, "low": e.low, "central": e.central, "high": e.high, "unit": e.unit,
                 "node": e.node_nm, "source": e.source} for e in self.events.values()]
        rows += [{"event": e.event, "low": e.low, "central": e.central, "high": e.high, "unit": e.unit,
                  "node": None, "source": e.source} for e in self.dram.values()]
        rows += [{"event": f"node factor {f.nm:g} nm", "low": f.low, "central": f.central, "high": f.high,
                  "unit": f"x energy at {self.reference_nm:g} nm", "node": f.nm, "source": f.source}
                 for f in self.nodes]
        return rows


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> EnergyModel:
    return _parse(path)


def scaling_factor(from_nm: float, to_nm: float, *, which: str = "central") -> float:
    """Energy of one event at `to_nm` over its energy at `from_nm`, by the default energy table's
    node factors (see `EnergyModel.scaling_factor`)."""
    return EnergyModel.load().scaling_factor(from_nm, to_nm, which=which)

