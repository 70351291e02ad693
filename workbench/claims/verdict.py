"""Verdicts: a claimed range against what a projection and the hardware's limits allow.

Claims layer (`workbench.claims`), between `schema` (the `Claim`) and `evaluate` (which projects
it and builds the `Figures` read here). Pure logic on numbers, the same for every claim: the
workbench's figure for the claim's quantity; the physical limit no implementation can pass (a
token must read its weights from DRAM once: bytes per token / sustained bandwidth; the DRAM
energy of those bytes; the densest packing's footprint); the "levers" that move the figure (a
denser packing of a weight tensor, a shorter context) and the device's RAM. Verdict: "consistent",
"possible only if <levers>", or "impossible because <limit>".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

__all__ = ["OpTime", "Part", "Figures", "Scenario", "Verdict", "judge", "scenario", "KINDS"]

#: the three verdict kinds, in the order of how much the claim holds
KINDS = ("consistent", "possible only if", "impossible")


@dataclass(frozen=True)
class OpTime:
    """The timing of one op of the token (all its `count` instances): enough to rescale its DRAM part.

    seconds : one instance; compute_s, cache_s, dram_s : its compute, cache and DRAM times.
    """

    count: int
    seconds: float
    compute_s: float
    cache_s: float
    dram_s: float

    def saving(self, ratio: float) -> float:
        """Seconds saved over all instances when the op's DRAM bytes shrink by `ratio` (new/old):
        the DRAM time shrinks, and the op then takes the largest of its bounds."""
        cut = self.dram_s * (1.0 - ratio)
        other = max(self.compute_s, self.cache_s, self.dram_s * ratio)
        return self.count * max(0.0, min(cut, self.seconds - other))


@dataclass(frozen=True)
class Part:
    """A weight tensor (or group) a denser format could shrink.

    name : "ternary weights", "embedding + lm_head (tied)", "lm_head", "embedding".
    format, bits : its format now and bits per weight; densest, densest_bits : the densest
        format the workbench knows for it.
    memory_bytes : its bytes in memory; dram_bytes : bytes it reads from DRAM per token;
    ops : the timing of the ops that read it.
    """

    name: str
    format: str
    bits: float
    densest: str
    densest_bits: float
    memory_bytes: float
    dram_bytes: float
    ops: tuple[OpTime, ...] = ()

    @property
    def ratio(self) -> float:
        return min(1.0, self.densest_bits / self.bits) if self.bits > 0 else 1.0

    def lever_text(self) -> str:
        return (f"the {self.name} in {self.densest} ({self.densest_bits:.3g} bits/weight, "
                f"not {self.format}'s {self.bits:.3g})")


@dataclass(frozen=True)
class Figures:
    """What the verdict reads of one projection (see `workbench.claims.evaluate.figures`).

    seconds : one decode token; bound : what binds it, in words; joules, joules_low, joules_high :
    J per token; dram_joules, static_joules : the DRAM-traffic and static parts of `joules`;
    memory_bytes : the footprint; dram_bytes : read per token; kv_dram_bytes, kv_memory_bytes :
    the KV cache's share of both at `context`; kv_ops : the timing of the ops reading the cache;
    sustained_gbps, peak_gbps, dram_type, capacity_gb, device : the SoC's memory; parts : the
    weight tensors a denser format could shrink; energy_parts : (part, joules) of the breakdown.
    """

    soc: str
    model: str
    seconds: float
    bound: str
    joules: float
    joules_low: float
    joules_high: float
    dram_joules: float
    static_joules: float
    memory_bytes: float
    dram_bytes: float
    kv_dram_bytes: float
    kv_memory_bytes: float
    context: int
    sustained_gbps: float
    peak_gbps: float
    dram_type: str
    capacity_gb: float
    device: str = ""
    parts: tuple[Part, ...] = ()
    kv_ops: tuple[OpTime, ...] = ()
    engine: str = ""
    threads: int = 0
    energy_parts: tuple[tuple[str, float], ...] = ()

    def largest_energy_part(self) -> str:
        """``"static 86% of the J/token"``: the largest part of the energy breakdown, in words."""
        if not self.energy_parts or not self.joules:
            return "no breakdown"
        name, j = max(self.energy_parts, key=lambda kv: kv[1])
        return f"{name} {100 * j / self.joules:.0f}% of the J/token"

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.seconds

    def describe(self) -> str:
        """``"snapdragon-8-gen-3, cpu x8"``: where it ran."""
        return f"{self.soc}, {self.engine or '?'}" + (f" x{self.threads}" if self.threads else "")


@dataclass(frozen=True)
class Scenario:
    """The figures of a token under some levers (denser parts, a shorter context), analytically."""

    seconds: float
    joules: float
    joules_low: float
    joules_high: float
    memory_bytes: float
    dram_bytes: float
    levers: tuple[str, ...] = ()

    @property
    def tokens_per_s(self) -> float:
        return 1.0 / self.seconds


def scenario(fig: Figures, *, denser: tuple[str, ...] = (), context: int | None = None) -> Scenario:
    """`fig` with the parts named in `denser` in their densest format and the KV cache cut to
    `context` positions: DRAM bytes and footprint shrink, the DRAM-bound time shrinks (`OpTime.saving`),
    the DRAM energy with the bytes and the static energy with the time."""
    dram_saved = mem_saved = time_saved = 0.0
    levers = []
    for part in fig.parts:
        if part.name in denser and part.ratio < 1.0:
            r = part.ratio
            dram_saved += part.dram_bytes * (1 - r)
            mem_saved += part.memory_bytes * (1 - r)
            time_saved += sum(o.saving(r) for o in part.ops)
            levers.append(part.lever_text())
    if context is not None and context < fig.context:
        r = context / fig.context
        dram_saved += fig.kv_dram_bytes * (1 - r)
        mem_saved += fig.kv_memory_bytes * (1 - r)
        time_saved += sum(o.saving(r) for o in fig.kv_ops)
        levers.append(f"at a context <= {context} (not {fig.context})")
    seconds = max(fig.seconds - time_saved, 1e-12)
    j_saved = (fig.dram_joules * dram_saved / fig.dram_bytes if fig.dram_bytes else 0.0) \
        + (fig.static_joules * time_saved / fig.seconds if fig.seconds else 0.0)
    joules = max(fig.joules - j_saved, 0.0)
    scale = joules / fig.joules if fig.joules else 1.0
    return Scenario(seconds, joules, fig.joules_low * scale, fig.joules_high * scale,
                    fig.memory_bytes - mem_saved, fig.dram_bytes - dram_saved, tuple(levers))


@dataclass(frozen=True)
class Verdict:
    """The verdict on one claim.

    kind : one of `KINDS`; text : the whole verdict in words; figure : the workbench's value
    (low, high: its uncertainty range, equal to it when there is none); limit : the best value the
    hardware's limit allows and limit_text what that limit is; bound : what binds the token;
    conditions : the levers of a "possible only if".
    """

    kind: str
    text: str
    figure: float
    low: float
    high: float
    limit: float
    limit_text: str
    bound: str
    conditions: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"kind": self.kind, "text": self.text, "figure": self.figure, "low": self.low, "high": self.high,
                "limit": self.limit, "limit_text": self.limit_text, "bound": self.bound,
                "conditions": list(self.conditions)}


# --- the quantity of a scenario ---------------------------------------------------------------------

def _value(quantity: str, s: Scenario, base: Scenario | None, *, end: str = "central") -> float:
    """The claim's quantity of scenario `s` (and the baseline's `base` for a reduction). `end`:
    "central", or "best": the end of the energy model's range most favourable to the claim (for a
    reduction both sides at the same end, the model's errors being shared by them)."""
    best = end == "best"
    if quantity == "decode_tokens_per_s":
        return s.tokens_per_s
    if quantity == "memory_gb":
        return s.memory_bytes / 1e9
    if quantity == "joules_per_token":
        return s.joules_low if best else s.joules
    if quantity == "memory_reduction_pct":
        return 100.0 * (1.0 - s.memory_bytes / base.memory_bytes)
    if quantity == "energy_reduction_pct":
        pairs = [(s.joules, base.joules)]
        if best:
            pairs += [(s.joules_low, base.joules_low), (s.joules_high, base.joules_high)]
        return max(100.0 * (1.0 - t / b) for t, b in pairs if b > 0)
    raise ValueError(f"no verdict rule for quantity {quantity!r}")


def _value_words(quantity: str, s: Scenario, base: Scenario | None, unit: str) -> str:
    """``"83.8 %"``, or ``"83.8 % (92 % at the energy model's favourable end)"`` when the ends differ."""
    central, best = _value(quantity, s, base), _value(quantity, s, base, end="best")
    words = f"{_fmt(central)} {unit}"
    if abs(best - central) > 1e-9 * max(1.0, abs(central)):
        words += f" ({_fmt(best)} {unit} at the energy model's favourable end)"
    return words


def _reaches(value: float, needed: float, harder: str) -> bool:
    tol = 1e-9 * max(1.0, abs(needed))
    return value >= needed - tol if harder == "higher" else value <= needed + tol


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"


# --- the physical limit -------------------------------------------------------------------------------

def _floor_scenario(fig: Figures) -> Scenario:
    """Every part at its densest format and no KV cache: the least a token must read and hold."""
    return scenario(fig, denser=tuple(p.name for p in fig.parts), context=0)


def _densest_list(fig: Figures) -> str:
    """``"the ternary weights in tl2, the lm_head in q4_0"``: every part at its densest format."""
    return ", ".join(f"the {p.name} in {p.densest}" for p in fig.parts if p.ratio < 1.0)


def _densest_words(fig: Figures) -> str:
    parts = _densest_list(fig)
    return f" ({parts})" if parts else ""


def _limit(quantity: str, fig: Figures, base: Figures | None) -> tuple[float, str]:
    """The best value of `quantity` any implementation on this hardware reaches, and why."""
    floor = _floor_scenario(fig)
    gb = floor.dram_bytes / 1e9
    if quantity == "decode_tokens_per_s":
        best = fig.sustained_gbps / gb if gb > 0 else math.inf
        at_peak = fig.peak_gbps / gb if gb > 0 else math.inf
        dense = _densest_list(fig)
        ms = 1000 * gb / fig.sustained_gbps
        return best, (f"a token reads at least {gb:.3g} GB from DRAM (its weights once"
                      f"{', ' + dense if dense else ''}): {gb:.3g} GB / {fig.sustained_gbps:.3g} GB/s sustained = "
                      f"{ms:.3g} ms per token, at most {_fmt(best)} tok/s ({_fmt(at_peak)} at the "
                      f"{fig.peak_gbps:.3g} GB/s peak)")
    if quantity in ("memory_gb", "memory_reduction_pct"):
        mem = floor.memory_bytes / 1e9
        if quantity == "memory_gb":
            return mem, f"the weights alone take at least {mem:.3g} GB{_densest_words(fig)}"
        b = base.memory_bytes / 1e9
        best = 100.0 * (1.0 - mem / b)
        return best, (f"the weights alone take at least {mem:.3g} GB{_densest_words(fig)} against the "
                      f"baseline's {b:.3g} GB: at most {_fmt(best)} % less")
    # energy: the DRAM traffic of the least bytes, at the low end of the energy model's sources (the
    # DRAM part scaled by the token's low/central ratio: the breakdown is given at the central value)
    per_byte_low = (fig.dram_joules / fig.dram_bytes) * (fig.joules_low / fig.joules) if fig.dram_bytes and fig.joules \
        else 0.0
    floor_j = floor.dram_bytes * per_byte_low
    words = (f"reading the token's {gb:.3g} GB{_densest_words(fig)} from {fig.dram_type} costs at least "
             f"{_fmt(floor_j)} J (DRAM traffic alone, the energy model's low end)")
    if quantity == "joules_per_token":
        return floor_j, words
    best = 100.0 * (1.0 - floor_j / base.joules_low) if base.joules_low > 0 else 100.0
    return best, (f"{words} against the baseline's {_fmt(base.joules_low)} J at the same end: at most "
                  f"{_fmt(best)} % less")


# --- the verdict --------------------------------------------------------------------------------------

def _identity(fig: Figures) -> Scenario:
    return Scenario(fig.seconds, fig.joules, fig.joules_low, fig.joules_high, fig.memory_bytes, fig.dram_bytes)


def _lever_scenarios(fig: Figures):
    """Scenarios with ever more levers: every non-empty set of denser parts (fewest first), then a
    shorter context alone, then all parts denser with a shorter context (`context` filled later)."""
    names = [p.name for p in fig.parts if p.ratio < 1.0]
    for k in range(1, len(names) + 1):
        for subset in combinations(names, k):
            yield subset, False
    yield (), True
    if names:
        yield tuple(names), True


def _longest_context(fig: Figures, denser: tuple[str, ...], ok) -> int | None:
    """The longest context (< fig.context) at which `ok(scenario)` holds, or None (monotone search)."""
    lo, hi = 1, fig.context - 1
    if hi < 1 or not ok(scenario(fig, denser=denser, context=1)):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(scenario(fig, denser=denser, context=mid)):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _ram_condition(fig: Figures, s: Scenario) -> str | None:
    if s.memory_bytes <= fig.capacity_gb * 1e9:
        return None
    need = math.ceil(s.memory_bytes / 1e9)
    device = f"the {fig.soc}'s device" + (f" ({fig.device})" if fig.device else "")
    return f"on a device with >= {need} GB of RAM (the footprint is {s.memory_bytes / 1e9:.3g} GB; " \
           f"{device} has {fig.capacity_gb:g} GB)"


def judge(claim, fig: Figures, base: Figures | None = None) -> Verdict:
    """The verdict on `claim` (a `workbench.claims.schema.Claim`) given the projection `fig` on the
    named hardware and, for a reduction, the baseline's `base`.

    Rules, in order:
    1. the limit (`_limit`) cannot reach the claimed end -> "impossible because <limit>";
    2. the figure (or the favourable end of its uncertainty range) reaches it -> "consistent",
       unless the footprint exceeds the device's RAM -> "possible only if on a device with >= N GB";
    3. the fewest levers whose scenario reaches it -> "possible only if <levers>" (plus RAM);
    4. else the limit allows it but nothing modelled does -> "possible only if" the token ran
       N x better than modelled, naming the bound that binds it.
    """
    q, need, harder = claim.quantity, claim.needed, claim.harder
    if q.endswith("_reduction_pct") and base is None:
        raise ValueError(f"claim {claim.id}: a reduction needs the baseline's figures")
    b = _identity(base) if base is not None else None
    now = _identity(fig)
    value = _value(q, now, b)
    best_end = _value(q, now, b, end="best")
    low, high = sorted((value, best_end))
    limit, limit_text = _limit(q, fig, base)
    claimed = claim.claimed_text()
    common = dict(figure=value, low=low, high=high, limit=limit, limit_text=limit_text, bound=fig.bound)
    if not _reaches(limit, need, harder):
        text = f"impossible because {limit_text}, against the claimed {claimed}"
        ram = _ram_condition(fig, _floor_scenario(fig))
        if ram:
            text += f"; besides, it would have to run {ram}"
        return Verdict("impossible", text, **common)

    def ok(s: Scenario) -> bool:
        return _reaches(_value(q, s, b, end="best"), need, harder)

    figure_words = f"the workbench projects {_fmt(value)} {claim.unit}" + (
        f" ({_fmt(low)}-{_fmt(high)})" if high - low > 1e-12 * max(1.0, abs(value)) else "")
    if ok(now):
        ram = _ram_condition(fig, now)
        if ram:
            return Verdict("possible only if", f"possible only if {ram}; then {figure_words} against the claimed "
                                               f"{claimed}", conditions=(ram,), **common)
        side = ""
        if harder == "higher" and value > claim.high:
            side = "; above the claimed range (a less efficient implementation lands lower)"
        elif harder == "lower" and value < claim.low:
            side = "; below the claimed range (a less efficient implementation lands higher)"
        return Verdict("consistent", f"consistent: {figure_words} against the claimed {claimed}{side}", **common)

    for denser, with_context in _lever_scenarios(fig):
        if with_context:
            c = _longest_context(fig, denser, ok)
            if c is None:
                continue
            s = scenario(fig, denser=denser, context=c)
        else:
            s = scenario(fig, denser=denser)
            if not ok(s):
                continue
        conds = list(s.levers)
        ram = _ram_condition(fig, s)
        if ram:
            conds.append(ram)
        text = (f"possible only if {' and '.join(conds)}: then {_value_words(q, s, b, claim.unit)} against the "
                f"claimed {claimed} ({figure_words} as modelled)")
        return Verdict("possible only if", text, conditions=tuple(conds), **common)

    # the limit allows the claim, nothing modelled reaches it: how much better the token must be
    binding = fig.largest_energy_part() if q in ("joules_per_token", "energy_reduction_pct") else fig.bound
    cond = f"{_shortfall(q, now, b, need)} than the workbench models it (now: {binding})"
    ram = _ram_condition(fig, _floor_scenario(fig))
    conds = (cond, ram) if ram else (cond,)
    text = (f"possible only if {' and '.join(conds)}: {figure_words} against the claimed {claimed}; "
            f"the limit allows {_fmt(limit)} {claim.unit}: {limit_text}")
    return Verdict("possible only if", text, conditions=conds, **common)


def _shortfall(quantity: str, s: Scenario, base: Scenario | None, need: float) -> str:
    """How much better than scenario `s` the token must be to reach `need`, in words."""
    if quantity == "decode_tokens_per_s":
        return f"the token ran {need / s.tokens_per_s:.3g}x faster"
    if quantity == "memory_gb":
        return f"the footprint were {s.memory_bytes / 1e9 / need:.3g}x smaller"
    if quantity == "joules_per_token":
        return f"the token spent {s.joules_low / need:.3g}x less energy"
    if quantity == "memory_reduction_pct":
        return f"the footprint were {s.memory_bytes / (base.memory_bytes * (1 - need / 100)):.3g}x smaller"
    return f"the token spent {s.joules_low / (base.joules_low * (1 - need / 100)):.3g}x less energy"
