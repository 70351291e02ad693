"""Each claim projected on the hardware it names, judged, and printed as one table.

Claims layer (`workbench.claims`), the last step: for every `Claim` (`schema`), `project()`
(`workbench.projection`) runs the claim's model on the claim's SoC with its options (and, for a
reduction, the baseline's options, e.g. every weight in f16); `figures` reads from each
`Projection` what the verdict needs (`verdict.Figures`: time, energy and its DRAM and static
parts, footprint, DRAM bytes, the weight tensors a denser format could shrink, the KV cache);
`verdict.judge` decides. `render_table` prints claim, hardware, claimed range, the workbench's
figure, the binding bound and the verdict; `to_json` writes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from workbench.claims.schema import Claim
from workbench.claims.verdict import Figures, OpTime, Part, Verdict, judge

__all__ = ["ClaimResult", "figures", "evaluate", "render_table", "to_json"]

#: op classes whose DRAM bytes are the KV cache a decode token reads (scaled by a shorter context)
_KV_CLASSES = ("attention",)


@dataclass(frozen=True)
class ClaimResult:
    """One evaluated claim: the claim, the verdict, the figures it was judged on, and the resolved
    projection settings (engine, threads, kernel, formats) of the claim's side and the baseline's."""

    claim: Claim
    verdict: Verdict
    figures: Figures
    baseline: Figures | None
    config: dict
    baseline_config: dict | None

    def to_json(self) -> dict:
        return {"claim": self.claim.to_json(), "verdict": self.verdict.to_json(),
                "projection": _config_summary(self.config),
                "baseline_projection": _config_summary(self.baseline_config) if self.baseline_config else None}


def _config_summary(config: dict) -> dict:
    keys = ("engine", "threads", "kernel", "formats", "context", "defaults")
    return {"soc": config.get("soc", {}).get("name"), "model": config.get("model", {}).get("name"),
            **{k: config.get(k) for k in keys}}


def _op_time(o) -> OpTime:
    d = o.detail
    return OpTime(count=int(o.count), seconds=float(d.get("instance_seconds", o.seconds / max(o.count, 1))),
                  compute_s=float(d.get("compute_s", 0.0)), cache_s=float(d.get("cache_s", 0.0)),
                  dram_s=float(d.get("dram_s", 0.0)))


def _ternary_part(r) -> Part | None:
    from workbench.formats import FORMATS

    fmts = r.config.get("formats", {})
    if fmts.get("weights", "ternary") != "ternary":
        return None                                   # a dense model (the FP16 baseline)
    ops = [o for o in r.ops if o.cls == "ternary"]
    fmt = fmts.get("ternary") or "?"
    model = r.config["model"]
    n_weights = _ternary_params(model)
    bits = FORMATS[fmt].bits_per_weight if fmt in FORMATS else 8.0 * r.memory["weights"] / n_weights
    densest = min(FORMATS.values(), key=lambda f: f.bits_per_weight)
    return Part("ternary weights", fmt, float(bits), densest.name, float(densest.bits_per_weight),
                float(r.memory["weights"]), sum(o.dram_bytes for o in ops), tuple(_op_time(o) for o in ops))


def _ternary_params(model: dict) -> int:
    from workbench.reference.config import ModelConfig

    fields = {k: v for k, v in model.items() if k in ModelConfig.__dataclass_fields__}
    return ModelConfig(**fields).ternary_params()


def _dense_parts(r) -> list[Part]:
    from workbench.projection.dense_formats import DENSE_FORMATS

    fmts = r.config.get("formats", {})
    densest = min(DENSE_FORMATS.values(), key=lambda f: f.bits_per_weight)

    def part(name, fmt, memory, classes):
        ops = [o for o in r.ops if o.cls in classes]
        bits = DENSE_FORMATS[fmt].bits_per_weight
        return Part(name, fmt, float(bits), densest.name, float(densest.bits_per_weight), float(memory),
                    sum(o.dram_bytes for o in ops), tuple(_op_time(o) for o in ops))

    if fmts.get("lm_head_tied"):
        return [part("embedding + lm_head (tied)", fmts["embedding"], r.memory["embedding"], ("embedding", "lm_head"))]
    return [part("lm_head", fmts["lm_head"], r.memory["lm_head"], ("lm_head",)),
            part("embedding", fmts["embedding"], r.memory["embedding"], ("embedding",))]


def _energy_split(breakdown: dict) -> tuple[float, float]:
    """(DRAM-traffic joules, static joules) of an energy breakdown (`workbench.soc.energy` keys)."""
    dram = sum(v for k, v in breakdown.items() if "dram" in k.lower() and "static" not in k.lower())
    return float(dram), float(breakdown.get("static", 0.0))


def figures(r) -> Figures:
    """The `Figures` of a `workbench.projection.Projection` `r`: what the verdict reads."""
    cfg = r.config
    soc, dram = cfg["soc"], cfg["soc"]["dram"]
    parts = [p for p in (_ternary_part(r), *_dense_parts(r)) if p is not None]
    kv_ops = [o for o in r.ops if o.cls in _KV_CLASSES]
    dram_j, static_j = _energy_split(r.energy.breakdown)
    return Figures(
        soc=soc["name"], model=cfg["model"]["name"], seconds=float(r.decode_seconds), bound=r.bound,
        joules=float(r.energy.joules), joules_low=float(r.energy.low), joules_high=float(r.energy.high),
        dram_joules=dram_j, static_joules=static_j, memory_bytes=float(r.memory["total"]),
        dram_bytes=float(r.dram_bytes_per_token), kv_dram_bytes=sum(o.dram_bytes for o in kv_ops),
        kv_memory_bytes=float(r.memory.get("kv_cache", 0.0)), context=int(cfg["context"]),
        sustained_gbps=float(dram["sustained_gbps"]), peak_gbps=float(dram["peak_gbps"]), dram_type=str(dram["type"]),
        capacity_gb=float(dram["capacity_gb"]), device=str(soc.get("device") or ""), parts=tuple(parts),
        kv_ops=tuple(_op_time(o) for o in kv_ops), engine=str(cfg.get("engine", "")),
        threads=int(cfg.get("threads") or 0),
        energy_parts=tuple((k, float(v)) for k, v in sorted(r.energy.breakdown.items())))


def _key(soc: str, model: str, options: dict) -> tuple:
    return (soc, model, tuple(sorted(options.items())))


def evaluate(claims: list[Claim], *, project: Callable | None = None,
             progress: Callable[[str], None] | None = None) -> list[ClaimResult]:
    """Project and judge every claim.

    Parameters
    ----------
    claims : list of Claim
    project : callable, optional
        The projection (default `workbench.projection.project`); called with keyword arguments
        ``soc``, ``model`` and the claim's options. Identical projections run once.
    progress : callable, optional
        Called with a short line before each projection (the CLI prints it to stderr).

    Raises
    ------
    UserError : a claim's option the projection refuses (an engine the SoC lacks, an unknown
        kernel or format), named with the claim's id.
    """
    from workbench.errors import UserError

    if project is None:
        from workbench.projection import project
    cache: dict[tuple, object] = {}

    def run(claim: Claim, soc: str, model: str, options: dict):
        key = _key(soc, model, options)
        if key not in cache:
            if progress:
                opts = " ".join(f"{k}={v}" for k, v in sorted(options.items()))
                progress(f"projecting {model} on {soc}{' ' + opts if opts else ''}")
            try:
                cache[key] = project(soc=soc, model=model, **options)
            except UserError as exc:
                raise type(exc)(f"claim {claim.id}: {exc}") from None
        return cache[key]

    results = []
    for claim in claims:
        r = run(claim, claim.soc, claim.model, dict(claim.options))
        fig = figures(r)
        base_r = base = None
        if claim.baseline is not None:
            opts = {**claim.options, **claim.baseline}
            soc, model = opts.pop("soc", claim.soc), opts.pop("model", claim.model)
            base_r = run(claim, soc, model, opts)
            base = figures(base_r)
        results.append(ClaimResult(claim, judge(claim, fig, base), fig, base, r.config,
                                   base_r.config if base_r is not None else None))
    return results


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"


def _figure_cell(res: ClaimResult) -> str:
    v, unit = res.verdict, res.claim.unit
    if v.high - v.low > 1e-12 * max(1.0, abs(v.figure)):
        return f"{_num(v.figure)} {unit} ({_num(v.low)}-{_num(v.high)})"
    return f"{_num(v.figure)} {unit}"


def render_table(results: list[ClaimResult]) -> str:
    """The claims as one table (claim, hardware, model, claimed, workbench, limit, binding bound,
    verdict), then per claim its verdict in words, its quoted text and where the number comes from."""
    head = ["claim", "hardware", "model", "claimed", "workbench", "limit", "binding bound", "verdict"]
    rows = [[r.claim.id, r.figures.describe(), r.claim.model, r.claim.claimed_text(), _figure_cell(r),
             f"{_num(r.verdict.limit)} {r.claim.unit}", r.verdict.bound, r.verdict.kind] for r in results]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]

    def line(cells):
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows), ""]
    for i, r in enumerate(results, 1):
        c = r.claim
        out.append(f"{i}. {c.id}: \"{c.text}\" ({c.source})")
        out.append(f"   verdict: {r.verdict.text}")
        out.append(f"   number from: {c.origin}")
        if c.note:
            out.append(f"   note: {c.note}")
        if c.reading:
            out.append(f"   read as: {c.reading}")
        if r.baseline is not None:
            out.append(f"   baseline: {r.baseline.model} on {r.baseline.describe()} with "
                       f"{', '.join(f'{k}={v}' for k, v in c.baseline.items())}")
    return "\n".join(out)


def to_json(results: list[ClaimResult]) -> dict:
    """All claims with their verdicts and projection settings, JSON-ready."""
    from collections import Counter

    return {"claims": [r.to_json() for r in results],
            "verdicts": dict(Counter(r.verdict.kind for r in results))}
