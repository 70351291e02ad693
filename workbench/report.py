"""Text and JSON reports of a simulate run (`workbench.flow.SimulationRun`).

Top of the flow (DESIGN.md §6). `render_text` prints the per-projection table (status, cycles,
time at the machine clock, GOP/s, bytes moved, binding bound), the chosen views once per unique
shape, and for a whole-token run the per-token time and tokens/s for 1..N cores against the DRAM
roofline. `write_outputs` writes the JSON (results beside the resolved machine, kernel and model
configuration) to a file, or a directory with the JSON and the text report.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["short_binding", "render_text", "render_projection_table", "render_projection_kinds", "render_native",
           "render_token", "write_outputs"]


def _status(check) -> str:
    if check.status == "LOSSY":
        e = check.error or {}
        return f"LOSSY (rel RMS {e.get('rel_rms', float('nan')):.2e}, max |err| {e.get('max_abs', 0):.3g})"
    if check.status == "FAILED":
        more = f" (+{check.mismatches - 1} more rows)" if check.mismatches > 1 else ""
        return f"FAILED {check.mismatch}{more}"
    return "VERIFIED"


def short_binding(binding: str) -> str:
    """'inner loop t: inner loop j0: ports (FP0)' -> 'loop j0: ports (FP0)' (the innermost cause)."""
    parts = binding.split("inner loop ")
    return f"loop {parts[-1]}" if len(parts) > 1 else binding


def render_projection_table(run) -> str:
    """One row per projection: layer, name, shape, check, cycles, time, GOP/s, bytes, bound."""
    lines = [f"{'layer':>5} {'proj':<5} {'M':>6} {'K':>6} {'check':<9} {'cycles':>12} {'time us':>10} "
             f"{'GOP/s':>8} {'bytes':>11}  binding bound"]
    for p in run.projections:
        c, t = p.check, p.timing
        lines.append(f"{c.layer:>5} {c.proj:<5} {c.M:>6} {c.K:>6} {c.status:<9} {t.cycles:>12,.0f} "
                     f"{t.seconds * 1e6:>10.2f} {t.gops:>8.1f} {t.bytes_moved:>11,}  {short_binding(t.binding)}")
    for p in run.projections:
        if p.check.status != "VERIFIED":
            lines.append(f"  layer {p.check.layer} {p.check.proj}: {_status(p.check)}")
    return "\n".join(lines)


def render_projection_kinds(run) -> str:
    """Whole-token table: one row per projection name, summed over layers, with its check count."""
    lines = [f"{'proj':<5} {'M':>6} {'K':>6} {'layers':>6} {'verified':>8} {'cycles/layer':>13} "
             f"{'cycles/token':>14} {'GOP/s':>8}  binding bound"]
    kinds: dict = {}
    for p in run.projections:
        kinds.setdefault(p.check.proj, []).append(p)
    for proj, ps in kinds.items():
        t = ps[0].timing
        ok = sum(p.check.ok for p in ps)
        lines.append(f"{proj:<5} {t.M:>6} {t.K:>6} {len(ps):>6} {ok:>8} {t.cycles:>13,.0f} "
                     f"{sum(p.timing.cycles for p in ps):>14,.0f} {t.gops:>8.1f}  {short_binding(t.binding)}")
    for p in run.projections:
        if not p.check.ok:
            lines.append(f"  layer {p.check.layer} {p.check.proj}: {_status(p.check)}")
    return "\n".join(lines)


def render_native(run) -> str:
    """`--native`: per unique shape, the model's cycles beside the emitted C measured on this CPU."""
    shapes = [(key, s) for key, s in run.shapes.items() if s.native is not None]
    if not shapes:
        return ""
    n = shapes[0][1].native
    lines = [f"Native on {n.host}: emitted C ({n.compiler} -O2), least of {n.passes} medians of "
             f"{n.repeats} calls, core cycles (rdtsc calibrated); outputs compared with the functional run",
             f"{'M':>6} {'K':>6} {'projections':<16} {'model cycles':>13} {'measured':>13} "
             f"{'measured/model':>15}  native == functional"]
    for (M, K), s in shapes:
        users = ",".join(sorted({p.check.proj for p in run.projections if (p.check.M, p.check.K) == (M, K)}))
        lines.append(f"{M:>6} {K:>6} {users:<16} {s.cycles:>13,.0f} {s.native.cycles:>13,.0f} "
                     f"{s.native.cycles / s.cycles:>15.2f}  {'yes' if s.native.equal else 'NO'}")
    return "\n".join(lines)


def render_token(run) -> str:
    """Whole-token summary: verification count, time per token, tokens/s for 1..N cores."""
    tok = run.token
    m = run.config["machine"]
    n_ok = sum(p.check.ok for p in run.projections)
    lines = [f"Whole token: {len(run.projections)} projections ({len(run.config['layers'])} layers x 7), "
             f"{n_ok} verified" + ("" if run.verified else f", {len(run.failures)} FAILED"),
             f"  timing computed once per unique shape: "
             + ", ".join(f"{M}x{K}" for (M, K) in run.shapes),
             f"  kernel cycles per token (1 core): {tok.kernel_cycles:,.0f} = "
             f"{tok.kernel_seconds * 1e3:.3f} ms at {m['clock_ghz']:g} GHz",
             f"  packed weight bytes per token: {tok.weight_bytes:,} ({run.config['kernel'].get('format', '?')})",
             "  (ternary projections only: attention, norms and the lm_head are not modelled)",
             "",
             f"{'cores':>5} {'tokens/s':>10} {'compute tok/s':>14} {'DRAM roofline tok/s':>20} "
             f"{'DRAM GB/s':>10}  bound"]
    for n in range(1, tok.cores + 1):
        lines.append(f"{n:>5} {tok.tokens_per_s(n):>10.2f} {tok.compute_tokens_per_s(n):>14.2f} "
                     f"{tok.roofline_tokens_per_s(n):>20.2f} {tok.dram_gbps(n):>10.1f}  {tok.bound(n)}")
    return "\n".join(lines)


def render_text(run) -> str:
    """The full text report of a run."""
    cfg = run.config
    k, m, model = cfg["kernel"], cfg["machine"], cfg["model"]
    head = [f"Kernel {k.get('name')} ({k.get('isa')}, format {k.get('format')}, {k.get('exactness')}) "
            f"on {m['name']} @ {m['clock_ghz']:g} GHz; model {model['name']} "
            f"(weights seed {model['weights_seed']}); activations: {cfg['activations']}; "
            f"memory: {cfg['memory']}",
            ""]
    body = [render_projection_table(run) if run.token is None else render_projection_kinds(run)]
    if cfg["views"]:
        for (M, K), shape in run.shapes.items():
            users = sorted({p.check.proj for p in run.projections if (p.check.M, p.check.K) == (M, K)})
            for name, view in shape.views.items():
                body += ["", f"--- {name} view, shape M={M} K={K} ({', '.join(users)}) ---",
                         view.render_text()]
    native = render_native(run)
    if native:
        body += ["", native]
    if run.token is not None:
        body += ["", render_token(run)]
    if run.failures:
        verdict = (f"FAILED: {len(run.failures)} projection(s) differ from the reference; first: "
                   f"layer {run.failures[0].layer} {run.failures[0].proj} {run.failures[0].mismatch}")
    elif run.native_mismatches:
        verdict = (f"FAILED: the native run differs from the functional run for shape(s) "
                   f"{', '.join(f'{M}x{K}' for M, K in run.native_mismatches)}")
    elif all(p.check.status == "VERIFIED" for p in run.projections):
        verdict = "ALL VERIFIED"
    else:
        verdict = "OK (lossy kernel: errors measured above)"
    return "\n".join(head + body + ["", verdict])


def write_outputs(run, *, json_path: str | None = None, out_dir: str | None = None,
                  text: str | None = None, extra_files: dict | None = None) -> list[Path]:
    """Write the run's JSON (with its resolved configuration) and, for `out_dir`, the text report.

    Returns the paths written. `extra_files` maps a file name in `out_dir` to bytes already
    written elsewhere (listed only).
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
    import numpy as np

    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (set, tuple, frozenset)):
        return list(x)
    if isinstance(x, Path):
        return str(x)
    return str(x)
