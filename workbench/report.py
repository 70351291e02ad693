"""Text and JSON reports of a simulate run (`workbench.flow.SimulationRun`), for every ISA.

Top of the flow (DESIGN.md §6). `render_text` is read in ten seconds: the defaults taken and why,
one line of configuration, the per-projection table (status, cycles, time at the machine clock,
GOP/s, bytes moved, binding bound), the engine's own per-shape figures when it reports any
(``extra``), the cross-checks, the per-token projection of a whole-token run, then one line saying
what VERIFIED was compared against, the binding bounds in words and a pointer to
docs/reports.md. The full per-shape views come only when asked for. `write_outputs` writes the
JSON (results beside the resolved configuration) to a file, or a directory with the text report.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["short_binding", "describe_binding", "table_binding", "render_text", "render_projection_table",
           "render_projection_kinds", "render_extra", "render_token", "run_tokens", "render_published", "render_headlines", "render_verdict", "render_bounds",
           "write_outputs", "LEGEND"]

LEGEND = "docs/reports.md"

#: a bound's kind (`isa_models.core.timing` names) -> words; "{d}" is its detail
_BOUND_WORDS = {"ports": "execution ports {d} saturated", "issue_cap": "a port group's issue cap ({d})",
                "dispatch": "dispatch width ({d})", "recurrence": "a loop-carried dependency chain ({d})",
                "memory": "bandwidth from {d}",
                "latency/scheduling": "latency and scheduling (simulated > every analytic bound by 10%)"}


def short_binding(binding: str) -> str:
    """'inner loop t: inner loop j0: ports (FP0)' -> 'loop j0: ports (FP0)' (the innermost cause)."""
    parts = binding.split("inner loop ")
    return f"loop {parts[-1]}" if len(parts) > 1 else binding


def _parse_binding(binding: str) -> tuple[str, str, str]:
    """(loop, kind, detail) of a binding bound's innermost cause ('' when absent)."""
    short = short_binding(binding)
    loop = ""
    if short.startswith("loop "):
        loop, _, short = short[len("loop "):].partition(": ")
    kind, _, detail = short.partition(" (")
    return loop, kind, detail[:-1] if detail.endswith(")") else detail


def _bound_words(kind: str, detail: str, loop: str) -> str:
    words = _BOUND_WORDS.get(kind)
    if words is None:                                   # an engine's own wording
        text = f"{kind} ({detail})" if detail else kind
    else:
        text = words.format(d=detail) if detail else words.replace(" ({d})", "").replace(" {d}", "")
    return text + (f" in loop {loop}" if loop else "")


def describe_binding(binding: str) -> str:
    """The innermost cause of a binding bound in words: 'inner loop r: ports (p0+p1+p5)' ->
    'execution ports p0+p1+p5 saturated in loop r'; an engine's own wording is kept as is."""
    loop, kind, detail = _parse_binding(binding)
    return _bound_words(kind, detail, loop)


def table_binding(binding: str, *, width: int = 40) -> str:
    """The innermost cause for a table column: its detail dropped when it would not fit."""
    short = short_binding(binding)
    if len(short) <= width:
        return short
    loop, kind, _ = _parse_binding(binding)
    return f"loop {loop}: {kind}" if loop else kind


def _users(run, key) -> str:
    return ",".join(run.shapes[key].projections)


def render_projection_table(run) -> str:
    """One row per projection: layer, name, shape, check, cycles, time, GOP/s, bytes, bound."""
    lines = [f"{'layer':>5} {'proj':<5} {'M':>6} {'K':>6} {'check':<11} {'cycles':>12} {'time us':>10} "
             f"{'GOP/s':>8} {'bytes':>11}  binding bound"]
    for p in run.projections:
        t = p.timing
        lines.append(f"{p.layer:>5} {p.proj:<5} {t.M:>6} {t.K:>6} {p.check.status:<11} {t.cycles:>12,.0f} "
                     f"{t.seconds * 1e6:>10.2f} {t.gops:>8.1f} {t.bytes_moved:>11,}  {table_binding(t.binding)}")
    lines += _failure_lines(run)
    return "\n".join(lines)


def render_projection_kinds(run) -> str:
    """Whole-token table: one row per projection name, summed over layers, with its check count."""
    lines = [f"{'proj':<5} {'M':>6} {'K':>6} {'layers':>6} {'verified':>8} {'cycles/layer':>13} "
             f"{'cycles/token':>14} {'GOP/s':>8}  binding bound"]
    kinds: dict = {}
    for p in run.projections:
        kinds.setdefault(p.proj, []).append(p)
    for proj, ps in kinds.items():
        t = ps[0].timing
        ok = sum(p.check.ok for p in ps)
        lines.append(f"{proj:<5} {t.M:>6} {t.K:>6} {len(ps):>6} {ok:>8} {t.cycles:>13,.0f} "
                     f"{sum(p.timing.cycles for p in ps):>14,.0f} {t.gops:>8.1f}  {table_binding(t.binding)}")
    lines += _failure_lines(run)
    return "\n".join(lines)


def _failure_lines(run) -> list[str]:
    return [f"  layer {p.layer} {p.proj}: {p.check.describe()}" for p in run.projections
            if p.check.status != "VERIFIED"]


def _number(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)) or (isinstance(v, (float, np.floating)) and float(v).is_integer()):
        return f"{int(v):,}"
    return f"{float(v):.4g}"


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def render_extra(run) -> str:
    """The engine's own figures per unique shape (``timing.extra``): numbers on one line, each
    table of numbers (stalls by cause, traffic) on its own; anything else is in the JSON."""
    shapes = [(key, s) for key, s in run.shapes.items() if s.extra]
    if not shapes:
        return ""
    lines = [f"Engine figures per shape ({run.config['machine'].get('engine', '?')} engine; the JSON has all):"]
    for (M, K), s in shapes:
        scalars = [f"{k} {_number(v)}" for k, v in s.extra.items() if _is_number(v)]
        lines.append(f"  {M}x{K} {','.join(s.projections)}: " + ", ".join(scalars))
        for k, v in s.extra.items():
            if isinstance(v, dict) and v and all(_is_number(x) for x in v.values()):
                items = sorted(v.items(), key=lambda kv: -float(kv[1])) if k.startswith("stall") else v.items()
                lines.append(f"    {k}: " + ", ".join(f"{kk} {_number(vv)}" for kk, vv in items))
    return "\n".join(lines)


def run_tokens(run) -> int:
    """Activation rows (tokens) per kernel call of the run: a batched kernel's tokens parameter,
    else 1."""
    k = run.config["kernel"]
    return int(k["build_params"][k["tokens_param"]]) if k.get("tokens_param") else 1


def _scope(run) -> str:
    """'210 projections', or for a batched kernel '210 projections x 8 tokens' (rows x tokens)."""
    n, tokens = len(run.projections), run_tokens(run)
    return f"{n} projections" + (f" x {tokens} tokens" if tokens > 1 else "")


def render_token(run) -> str:
    """Whole-token summary: verification count, time per token, tokens/s for 1..N cores."""
    tok = run.token
    m = run.config["machine"]
    n_ok = sum(p.check.ok for p in run.projections)
    layers = len(run.config["layers"])
    lines = [f"Whole token: {len(run.projections)} projections ({layers} layers x "
             f"{len(run.projections) // max(layers, 1)}), {n_ok} verified"
             + ("" if not run.failures else f", {len(run.failures)} FAILED"),
             "  timing computed once per unique shape: " + ", ".join(f"{M}x{K}" for (M, K) in run.shapes),
             *([f"  batched kernel: {tok.tokens_per_call} tokens per call, every projection checked on "
                f"{tok.tokens_per_call} tokens; cycles and bytes below are per token (per call / "
                f"{tok.tokens_per_call})"] if tok.tokens_per_call > 1 else []),
             f"  kernel cycles per token (1 core): {tok.kernel_cycles:,.0f} = "
             f"{tok.kernel_seconds * 1e3:.3f} ms at {m['clock_ghz']:g} GHz",
             f"  bytes per token: {tok.weight_bytes:,} ({tok.weight_source})",
             "  (ternary projections only: attention, norms and the lm_head are not modelled)",
             "",
             f"{'cores':>5} {'tokens/s':>10} {'compute tok/s':>14} {'DRAM roofline tok/s':>20} "
             f"{'DRAM GB/s':>10}  bound"]
    for n in range(1, tok.cores + 1):
        lines.append(f"{n:>5} {tok.tokens_per_s(n):>10.2f} {tok.compute_tokens_per_s(n):>14.2f} "
                     f"{tok.roofline_tokens_per_s(n):>20.2f} {tok.dram_gbps(n):>10.1f}  {tok.bound(n)}")
    return "\n".join(lines)


def render_headlines(run) -> str:
    """The views the engine prints by default (`isa_models.core.views.headline_views`, e.g. the
    packets of a VLIW kernel's hot loop), for the shape with the most cycles per token (per
    layer run: per layer); empty for engines without one."""
    shapes = [s for s in run.shapes.values() if s.headlines]
    if not shapes:
        return ""
    hot = max(shapes, key=lambda s: s.cycles * len(s.projections))
    blocks = []
    for name, view in hot.headlines.items():
        text = view.headline_text()
        if text:
            blocks.append(f"--- {name} of the hottest loop, shape M={hot.M} K={hot.K} "
                          f"({', '.join(hot.projections)}: the most cycles per token; all shapes: "
                          f"--views {name}) ---\n{text}")
    return "\n\n".join(blocks)


def render_published(run) -> str:
    """Whole-token run: the machine's published figures for this model (``[[published]]`` in its
    file) beside this run's token time, saying what each side covers. Empty when there are none."""
    tok, cfg = run.token, run.config
    figures = [f for f in cfg["machine"].get("published", []) if f["model"] == cfg["model"]["name"]]
    if tok is None or not figures:
        return ""
    ours_tps = tok.tokens_per_s(tok.cores)
    ours_ms = 1e3 / ours_tps
    lines = ["Published figures on this machine's hardware, same model:"]
    for f in figures:
        pub_ms = 1e3 / f["tokens_per_s"]
        lines += [f"  {f['what']}: {f['tokens_per_s']:g} tok/s = {pub_ms:.1f} ms/token",
                  f"    covers: {f['includes']}",
                  f"    source: {f['source']}",
                  f"  this run: the {len(run.projections)} ternary projections alone, {ours_ms:.1f} ms/token "
                  f"({ours_tps:.1f} tok/s, {tok.bound(tok.cores)}-bound at {tok.cores} "
                  f"{'core' if tok.cores == 1 else 'cores'}) = {100 * ours_ms / pub_ms:.0f}% of the published "
                  f"token time",
                  "    not included here: lm_head and embedding, attention and the KV cache, norms, RoPE, "
                  "activation quantization, the host CPU's share and any overlap between them; a "
                  "projection share under 100% is consistent with the published figure, over 100% "
                  "says this kernel and machine model are slower than what was measured; `workbench project "
                  "--soc SOC` projects every op of the token"]
    return "\n".join(lines)


def render_verdict(run) -> str:
    """One line: the run's status word and what it was compared against."""
    n = len(run.projections)
    against = run.config["compared_against"]
    if run.failures:
        first = run.failures[0]
        return (f"FAILED: {len(run.failures)} of {n} projections differ ({against}); first: layer "
                f"{first.layer} {first.proj}: {first.check.describe()}")
    if run.crosscheck_failures:
        return (f"FAILED: cross-check {', '.join(run.crosscheck_failures)} differs from the functional run "
                f"(table above); the {n} projections match the reference ({against})")
    statuses = {p.check.status for p in run.projections}
    word = "ALL VERIFIED" if statuses == {"VERIFIED"} else "OK (lossy kernel: error measured, no equality)"
    agree = "".join(f"; cross-check {name} agrees" for name in run.crosschecks)
    return f"{word}: {_scope(run)}, {against}{agree}"


def render_bounds(run) -> str:
    """One line: the binding bound of each unique shape in words, shapes with the same cause
    grouped (a detail that differs between them, such as a transfer count, is left out)."""
    groups: dict[tuple[str, str], list] = {}
    for s in run.shapes.values():
        loop, kind, detail = _parse_binding(s.binding)
        groups.setdefault((kind, loop), []).append((detail, s.projections))
    parts = []
    for (kind, loop), members in groups.items():
        details = {d for d, _ in members}
        words = _bound_words(kind, details.pop() if len(details) == 1 else "", loop)
        parts.append(f"{words} ({', '.join(p for _, projs in members for p in projs)})")
    return "Bound by: " + "; ".join(parts)


def render_text(run) -> str:
    """The text report of a run (see the module docstring)."""
    cfg = run.config
    k, m, model = cfg["kernel"], cfg["machine"], cfg["model"]
    scope = f"layer {cfg['layers'][0]}" if not cfg["whole_token"] else f"whole token ({len(cfg['layers'])} layers)"
    head = [f"default {line}" for line in run.defaults]
    head.append(f"Kernel {k['name']} ({k['isa']}, format {k['format']}, {k['exactness']}) on {m['name']} "
                f"@ {m['clock_ghz']:g} GHz ({m.get('engine', '?')} engine); model {model['name']} "
                f"(weights seed {model['weights_seed']}), {scope}; activations: {cfg['activations']}; "
                f"memory: {cfg['memory']}")
    body = ["", render_projection_table(run) if not cfg["whole_token"] else render_projection_kinds(run)]
    extra = render_extra(run)
    if extra:
        body += ["", extra]
    for (M, K), shape in run.shapes.items():
        for name, view in shape.views.items():
            body += ["", f"--- {name} view, shape M={M} K={K} ({', '.join(shape.projections)}) ---",
                     view.render_text()]
    headline = render_headlines(run)
    if headline:
        body += ["", headline]
    for result in run.crosschecks.values():
        body += ["", result.render()]
    if run.token is not None:
        body += ["", render_token(run)]
        published = render_published(run)
        if published:
            body += ["", published]
    views = "" if cfg["views"] else "; per-shape views: --views"
    tail = ["", render_verdict(run), render_bounds(run), f"Legend: {LEGEND}{views}"]
    return "\n".join(head + body + tail)


def write_outputs(run, *, json_path: str | None = None, out_dir: str | None = None,
                  text: str | None = None) -> list[Path]:
    """Write the run's JSON (with its resolved configuration) and, for `out_dir`, the text report.

    Returns the paths written: `json_path`; in `out_dir`, simulate.json, config.json and (with
    `text`) report.txt.
    """
    written = []
    data = json.dumps(run.to_json(), indent=2, default=_jsonable)
    if json_path:
        path = Path(json_path)
        path.write_text(data + "\n")
        written.append(path)
    if out_dir:
        d = Path(out_dir)
        d.mkdir(parents=True, exist_ok=True)
        (d / "simulate.json").write_text(data + "\n")
        (d / "config.json").write_text(json.dumps(run.config, indent=2, default=_jsonable) + "\n")
        written += [d / "simulate.json", d / "config.json"]
        if text is not None:
            (d / "report.txt").write_text(text + "\n")
            written.append(d / "report.txt")
    return written


def _jsonable(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (set, tuple, frozenset)):
        return list(x)
    return str(x)
