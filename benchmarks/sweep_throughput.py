"""Sweep throughput: verified points per second on a Dask LocalCluster, cold and from the cache.

Benchmark layer (DESIGN.md §3), measuring `workbench.sweep` (docs/sweeps.md). In one run on this
host, for one sweep spec (default: docs/examples/kernel_sweep.toml, every point a bit-exact check
and a timing of one 2B-4T projection):
1. serial: every point evaluated one after the other in this process, no Dask (the work itself);
2. cold: `run_sweep` on a fresh LocalCluster of 1 and of 2 single-threaded worker processes with an
   empty cache (cluster start included, as a user sees it);
3. cached: the same sweep again on 2 workers, every point read back from the cache.
Wall times are medians over `--repeats` runs; points per second = computed points / wall; the
parallel efficiency of 2 workers is serial time / (2 x cold wall). Writes its section of
docs/benchmarks.md.
Usage: ``python benchmarks/sweep_throughput.py [--spec FILE] [--repeats 3] [--no-write]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import load_average, machine_note, publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT / "docs" / "examples" / "kernel_sweep.toml"


def serial_seconds(spec) -> tuple[float, int]:
    """(seconds, points) of evaluating every distinct point of `spec` in this process, in order."""
    from workbench.sweep.points import expand
    from workbench.sweep.run import evaluator

    configs = expand(spec).configs
    evaluate = evaluator(spec.kind)
    start = time.perf_counter()
    for config in configs:
        evaluate(config)
    return time.perf_counter() - start, len(configs)


def sweep_wall(spec, *, workers: int, cache_dir: Path | None) -> tuple[float, int, int]:
    """(wall seconds, computed points, cached points) of one `run_sweep` on a LocalCluster."""
    from workbench.sweep.run import run_sweep

    run = run_sweep(spec, workers=workers, cache_dir=cache_dir, progress=False)
    return run.wall_s, run.stats.computed, run.stats.cached


def _rate(points_per_s: float) -> str:
    """Points per second to three significant figures, large rates as whole numbers."""
    return f"{points_per_s:,.0f}" if points_per_s >= 1000 else f"{points_per_s:.3g}"


def main(argv: list[str] | None = None) -> int:
    from workbench.sweep.spec import load_spec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="sweep spec (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration, median taken (default: 3)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    spec = load_spec(args.spec)
    load_before = load_average()

    serial = []
    for _ in range(args.repeats):
        seconds, points = serial_seconds(spec)
        serial.append(seconds)
    serial_s = statistics.median(serial)

    cold = {}
    for workers in (1, 2):
        walls = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                wall, computed, cached = sweep_wall(spec, workers=workers, cache_dir=Path(tmp))
            assert computed == points and cached == 0, (computed, cached, points)
            walls.append(wall)
        cold[workers] = statistics.median(walls)

    with tempfile.TemporaryDirectory() as tmp:
        sweep_wall(spec, workers=2, cache_dir=Path(tmp))              # fill the cache
        cached_walls = []
        for _ in range(args.repeats):
            wall, computed, cached = sweep_wall(spec, workers=2, cache_dir=Path(tmp))
            assert computed == 0 and cached == points, (computed, cached, points)
            cached_walls.append(wall)
    cached_s = statistics.median(cached_walls)

    rel = args.spec.resolve().relative_to(ROOT) if args.spec.resolve().is_relative_to(ROOT) else args.spec
    rows = [("serial, in this process (no Dask)", serial_s, points / serial_s, "1.00x"),
            ("cold, LocalCluster of 1 worker", cold[1], points / cold[1], f"{serial_s / cold[1]:.2f}x"),
            ("cold, LocalCluster of 2 workers", cold[2], points / cold[2], f"{serial_s / cold[2]:.2f}x"),
            ("cached rerun, 2 workers", cached_s, points / cached_s, f"{serial_s / cached_s:,.0f}x")]
    lines = [f"## Sweep throughput (`benchmarks/{NAME}`)", "",
             f"Spec `{rel}` ({spec.kind} sweep): {points} points, each a bit-exact functional check and a "
             f"timing on the machine model. Median wall of {args.repeats} runs; cold runs start their cluster "
             f"and begin with an empty cache; the cached rerun reads every point back. Machine: {machine_note()}; "
             f"1-minute load average {load_before:.2f} before the run.", "",
             "| run | wall (s) | points/s | speed-up vs serial |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {wall:.3g} | {_rate(pps)} | {speedup} |" for name, wall, pps, speedup in rows]
    lines += ["", f"Parallel efficiency of 2 workers: {serial_s / (2 * cold[2]):.0%} (serial time / (2 x cold "
                  f"wall), cluster start included)."]
    publish(NAME, "\n".join(lines), write=not args.no_write)
    return 0


if __name__ == "__main__":                      # the LocalCluster's worker processes spawn this module
    raise SystemExit(main())
