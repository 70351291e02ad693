"""`workbench sweep SPEC.toml`: a grid or random search of verified simulations on Dask.

Top of the flow: argument parsing and the summary only. `workbench.sweep.spec` validates the spec
(every bad key or name one line, exit 2), `workbench.sweep.run.run_sweep` expands and runs the
points on a local Dask cluster or ``--scheduler``'s, `workbench.sweep.table` writes the table and
`workbench.sweep.plot` the Pareto plot. The summary names every file written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench.commands import check_input_path, check_output_path, positive_int
from workbench.errors import UserError

__all__ = ["register", "run", "render_text", "DEFAULT_ROOT"]

#: where a sweep's table, plot and cache go when no flag names them (relative to the working folder)
DEFAULT_ROOT = Path("out") / "sweeps"

_EXAMPLES = """examples:
  workbench sweep docs/examples/kernel_sweep.toml
  workbench sweep docs/examples/projection_sweep.toml --out phones.csv --plot phones.png
  workbench sweep spec.toml --scheduler tcp://10.0.0.5:8786 --cache-dir /shared/sweep-cache
  workbench sweep spec.toml --workers 8 --no-cache --json summary.json"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="grid or random search of kernels, parameters, machines, shapes or SoCs on Dask",
        description="Expand a sweep spec (docs/sweeps.md) into points, evaluate every point on a Dask cluster "
                    "(kernel points: bit-exact functional check against the reference and timing on the "
                    "machine model; projection points: the SoC projection; equivalence points: greedy "
                    "decoding against the exact reference plus the kernel's timing), write one row per point "
                    "(Parquet or CSV by --out's extension) and a Pareto plot of the spec's two objectives. "
                    "Points are cached by a hash of their configuration and the code, so a rerun or a "
                    "killed sweep computes only what is missing.",
        epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep spec (docs/sweeps.md)")
    p.add_argument("--out", metavar="FILE", help="table: .parquet or .csv (default: out/sweeps/<name>/table.parquet)")
    p.add_argument("--plot", metavar="FILE", help="Pareto plot: .png, .svg or .pdf (default: "
                                                  "out/sweeps/<name>/pareto.png)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="an existing Dask scheduler (tcp://host:port) instead of a local cluster")
    p.add_argument("--workers", type=positive_int, default=2,
                   help="worker processes of the local cluster (default: 2; ignored with --scheduler)")
    p.add_argument("--cache-dir", metavar="DIR", help="per-point cache (default: out/sweeps/cache)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--json", metavar="FILE", help="also write the summary and every row as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(handler=run)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def render_text(sweep, written: dict) -> str:
    """The summary: points, cache, verdicts, wall time and rate, the front as a table, the files."""
    from workbench.sweep.pareto import point_label

    s = sweep.summary()
    lines = [f"sweep {s['name']} ({s['kind']}, {s['search']} search): {s['points']} points of a {s['grid']}-point grid"]
    if s["dropped"]:
        lines.append(f"  dropped {sum(s['dropped'].values())} impossible combinations: "
                     + "; ".join(f"{n} x {why}" for why, n in s["dropped"].items()))
    rate = f", {s['points_per_s']:.2f} points/s" if s["points_per_s"] else ""
    where = f" on {s['workers']} workers" if s["computed"] else ""
    shared = (f" ({s['evaluations']} distinct configurations)" if s["evaluations"] < s["computed"] else "")
    lines.append(f"  computed {s['computed']}{shared}, cached {s['cached']}; wall {s['wall_s']:.1f} s{where}{rate}")
    lines.append("  verdicts: " + (", ".join(f"{n} {v}" for v, n in s["verdicts"].items()) or "none"))
    xo, yo = sweep.spec.objectives
    dx, dy = sweep.spec.directions
    lines.append(f"Pareto front ({xo} {dx}, {yo} {dy}): {len(sweep.front)} points")
    if sweep.front:
        table = [("point", xo, yo, "verdict", "configuration")]
        table += [(str(sweep.rows[i]["point"]), _fmt(sweep.rows[i].get(xo)), _fmt(sweep.rows[i].get(yo)),
                   str(sweep.rows[i].get("verdict")), point_label(sweep.rows[i])) for i in sweep.front]
        widths = [max(len(r[c]) for r in table) for c in range(4)]
        for r in table:
            lines.append("  " + "  ".join(r[c].ljust(widths[c]) for c in range(4)) + "  " + r[4])
    unsupported = [r for r in sweep.rows if r.get("verdict") == "UNSUPPORTED"]
    if unsupported:
        reasons: dict = {}
        for r in unsupported:
            reasons.setdefault(r.get("reason"), 0)
            reasons[r.get("reason")] += 1
        lines.append("unsupported points:")
        lines += [f"  {n} x {why}" for why, n in list(reasons.items())[:8]]
    failed = [r for r in sweep.rows if r.get("verdict") == "FAILED"]
    for r in failed[:5]:
        lines.append(f"FAILED point {r['point']} ({point_label(r)}): {r.get('first_mismatch')}")
    for what, path in written.items():
        lines.append(f"{what}: {path}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from workbench.sweep.plot import PLOT_SUFFIXES, plot_pareto
    from workbench.sweep.run import run_sweep
    from workbench.sweep.spec import load_spec
    from workbench.sweep.table import check_table_path, write_table

    check_input_path(args.spec, flag="")
    spec = load_spec(args.spec)
    root = DEFAULT_ROOT / spec.name
    out = Path(args.out) if args.out else root / "table.parquet"
    plot = Path(args.plot) if args.plot else root / "pareto.png"
    check_table_path(out)
    if plot.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {plot}: must end in {', '.join(PLOT_SUFFIXES)}")
    if args.json:
        check_output_path(args.json, flag="--json")
    if not args.out or not args.plot:            # every check passed: the default folder may be made
        root.mkdir(parents=True, exist_ok=True)
    check_output_path(out, flag="--out")
    check_output_path(plot, flag="--plot", suffixes=PLOT_SUFFIXES)
    cache = None if args.no_cache else Path(args.cache_dir) if args.cache_dir else DEFAULT_ROOT / "cache"
    if cache is not None:
        check_output_path(cache, flag="--cache-dir", directory=True)
    sweep = run_sweep(spec, scheduler=args.scheduler, workers=args.workers, cache_dir=cache,
                      progress=not args.no_progress)
    write_table(sweep.rows, out)
    plot_pareto(sweep.rows, spec.objectives, spec.directions, plot, title=spec.name)
    written = {"table": out, "plot": plot}
    if cache is not None:
        written["cache"] = cache
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": sweep.summary(), "rows": sweep.rows}, fh, indent=1)
        written["json"] = Path(args.json)
    print(render_text(sweep, written))
    return 0
