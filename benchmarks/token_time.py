"""Benchmark: wall time of `workbench simulate --isa <isa>` for a whole 2B-4T token, per ISA.

Benchmark layer (issue 11 deliverable 6, issue 12 deliverable 7: a whole token simulated and
verified in 60 s or less on this 2-core host). For each ISA it runs the command exactly as a user
does (``python -m workbench.cli simulate --isa <isa> --no-progress --json <file>``: default
machine, kernel and model, 210 projections functionally verified and timed) once to warm the
weights cache (that first run's wall time is reported too), then `--repeats` more times, and
reports the median wall time, the median CPU time of the command and its worker processes, the
verified count from the JSON, and the 1-minute load average before and after each run (other
work on the shared cores lengthens the wall time; CPU time is less affected). ``--profile``
adds one more run under cProfile (``--workers 1``, so the checks run in the profiled process)
and prints its top costs. Writes its section of docs/benchmarks.md.
Usage: ``.venv/bin/python benchmarks/token_time.py [--isa neon,hvx,avx2] [--repeats 3] [--profile] [--no-write]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, load_average, machine_facts, publish, script_path  # benchmarks/ is on sys.path

NAME = "token_time.py"
DEFAULT_ISAS = ("neon", "hvx", "avx2")
#: the issues' target for one whole token on this 2-core host, seconds
TARGET_S = 60.0


def simulate_command(isa: str, json_path: str | Path, *extra: str) -> list[str]:
    """The `workbench simulate` command line of one whole-token run of `isa` (all defaults)."""
    return [sys.executable, "-m", "workbench.cli", "simulate", "--isa", isa, "--no-progress",
            "--json", str(json_path), *extra]


def summarize_json(data: dict) -> dict:
    """What a run's ``--json`` says: kernel, machine, projections verified of how many, the whole
    run's verdict and the kernel cycles per token."""
    projections = data.get("projections", [])
    config = data.get("config", {})
    token = data.get("token") or {}
    return {"kernel": config.get("kernel", {}).get("name", "?"), "machine": config.get("machine", {}).get("name", "?"),
            "verified": sum(p.get("status") == "VERIFIED" for p in projections), "projections": len(projections),
            "all_verified": bool(data.get("verified")), "cycles_per_token": token.get("kernel_cycles_per_token")}


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(isa: str, *, extra: tuple[str, ...] = ()) -> dict:
    """One timed run: wall and CPU seconds, load before/after and `summarize_json` of its JSON.

    Raises
    ------
    RuntimeError : the command exited non-zero (its last lines of output in the message).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "simulate.json"
        load0, cpu0, t0 = load_average(), _child_cpu(), time.perf_counter()
        proc = subprocess.run(simulate_command(isa, out, *extra), cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "TORCHDYNAMO_DISABLE": "1", "HF_HUB_OFFLINE": "1"})
        wall, cpu, load1 = time.perf_counter() - t0, _child_cpu() - cpu0, load_average()
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"workbench simulate --isa {isa} exited {proc.returncode}:\n{tail}")
        summary = summarize_json(json.loads(out.read_text()))
    return {"wall": wall, "cpu": cpu, "load_before": load0, "load_after": load1, **summary}


def aggregate(isa: str, first: dict, runs: list[dict]) -> dict:
    """One table row: the first (cache-warming) run's wall, the medians of the timed runs, the
    load range seen and whether every run verified every projection."""
    loads = [r["load_before"] for r in runs] + [r["load_after"] for r in runs]
    return {"isa": isa, "kernel": runs[0]["kernel"], "machine": runs[0]["machine"], "first_wall": first["wall"],
            "walls": [r["wall"] for r in runs], "wall": statistics.median(r["wall"] for r in runs),
            "cpu": statistics.median(r["cpu"] for r in runs), "load_min": min(loads), "load_max": max(loads),
            "verified": min(r["verified"] for r in runs), "projections": runs[0]["projections"],
            "all_verified": all(r["all_verified"] for r in runs), "cycles_per_token": runs[0]["cycles_per_token"]}


def profile_run(isa: str, *, top: int = 15) -> str:
    """One more run under cProfile, the functional checks in-process (``--workers 1``); the
    `top` functions by cumulative time, as text."""
    with tempfile.TemporaryDirectory() as tmp:
        stats = Path(tmp) / "prof"
        cmd = simulate_command(isa, Path(tmp) / "s.json", "--workers", "1")
        cmd[1:1] = ["-m", "cProfile", "-o", str(stats)]
        subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "TORCHDYNAMO_DISABLE": "1", "HF_HUB_OFFLINE": "1"})
        buf = io.StringIO()
        pstats.Stats(str(stats), stream=buf).sort_stats("cumulative").print_stats(top)
        return buf.getvalue()


def render(rows: list[dict], *, repeats: int, facts: dict, load_start: float, load_end: float) -> str:
    lines = [f"### Whole-token simulate time, `{script_path(__file__)}`", "",
             f"Host: {facts['model_name']}, nproc {facts['cores']}, Python {facts['python']}; 1-minute load average "
             f"{load_start:.2f} at the start and {load_end:.2f} at the end of the benchmark (the cores are shared with "
             "other work: the load range per ISA is in the table, and wall time grows with it while CPU time "
             "barely does). Command: `workbench simulate --isa <isa> --no-progress --json <file>` with every "
             "default (machine, fastest exact kernel, bitnet-b1.58-2B-4T, 2 worker processes for the functional "
             f"checks); one run first to warm the weights cache (its wall time: 'first run'), then the median of "
             f"{repeats} runs. CPU = user + system seconds of the command and its workers. Target: "
             f"{TARGET_S:.0f} s or less.", "",
             "| ISA | machine | kernel | verified | first run (s) | wall, median (s) | runs (s) | CPU, median (s) | "
             "load during runs | <= 60 s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ok = "yes" if r["wall"] <= TARGET_S else "no"
        lines.append(f"| {r['isa']} | {r['machine']} | {r['kernel']} | {r['verified']}/{r['projections']}"
                     f"{'' if r['all_verified'] else ' (NOT all verified)'} | {r['first_wall']:.1f} | {r['wall']:.1f} | "
                     f"{', '.join(f'{w:.1f}' for w in r['walls'])} | {r['cpu']:.1f} | "
                     f"{r['load_min']:.2f}-{r['load_max']:.2f} | {ok} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isa", default=",".join(DEFAULT_ISAS), help="comma-separated ISAs (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs after the warm-up run (median)")
    ap.add_argument("--profile", action="store_true", help="profile one more run per ISA over the target")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    facts, load_start = machine_facts(), load_average()
    rows, profiles = [], []
    for isa in (s for s in args.isa.split(",") if s):
        print(f"{isa}: warm-up run ...", flush=True)
        first = run_once(isa)
        runs = []
        for i in range(args.repeats):
            runs.append(run_once(isa))
            print(f"{isa}: run {i + 1}: {runs[-1]['wall']:.1f} s wall, {runs[-1]['cpu']:.1f} s CPU, load "
                  f"{runs[-1]['load_before']:.2f} -> {runs[-1]['load_after']:.2f}", flush=True)
        rows.append(aggregate(isa, first, runs))
        if args.profile and rows[-1]["wall"] > TARGET_S:
            profiles.append((isa, profile_run(isa)))
    publish(NAME, render(rows, repeats=args.repeats, facts=facts, load_start=load_start, load_end=load_average()),
            write=not args.no_write)
    for isa, text in profiles:
        print(f"\ncProfile of one `workbench simulate --isa {isa} --workers 1` run (top by cumulative time):\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
