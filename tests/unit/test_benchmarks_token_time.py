"""benchmarks/token_time.py: the command it times, what it reads from the JSON, the medians and the table.

No timed assertion: the runs themselves write docs/benchmarks.md and are not tests.
"""

from __future__ import annotations

import sys

import pytest
from benchmark_scripts import benchmark_script


@pytest.fixture(scope="module")
def tt():
    with benchmark_script("token_time") as module:
        yield module


def test_the_command_is_simulate_with_every_default(tt):
    cmd = tt.simulate_command("neon", "/tmp/x.json", "--workers", "1")
    assert cmd == [sys.executable, "-m", "workbench.cli", "simulate", "--isa", "neon", "--no-progress",
                   "--json", "/tmp/x.json", "--workers", "1"]


def _json(statuses, verified=True):
    return {"config": {"kernel": {"name": "rowdot"}, "machine": {"name": "cortex-x4"}}, "verified": verified,
            "projections": [{"status": s} for s in statuses], "token": {"kernel_cycles_per_token": 5.0}}


def test_summarize_json_counts_verified_projections(tt):
    s = tt.summarize_json(_json(["VERIFIED"] * 209 + ["FAILED"], verified=False))
    assert s == {"kernel": "rowdot", "machine": "cortex-x4", "verified": 209, "projections": 210,
                 "all_verified": False, "cycles_per_token": 5.0}


def _run(wall, cpu, lb, la, verified=210):
    return {"wall": wall, "cpu": cpu, "load_before": lb, "load_after": la, **tt_summary(verified)}


def tt_summary(verified):
    return {"kernel": "rowdot", "machine": "cortex-x4", "verified": verified, "projections": 210,
            "all_verified": verified == 210, "cycles_per_token": 5.0}


def test_aggregate_takes_medians_and_the_worst_verification(tt):
    runs = [_run(50.0, 40.0, 1.0, 2.0), _run(70.0, 41.0, 2.5, 0.5), _run(55.0, 39.0, 1.5, 1.5, verified=209)]
    row = tt.aggregate("neon", _run(90.0, 60.0, 0.1, 0.2), runs)
    assert (row["wall"], row["cpu"], row["first_wall"]) == (55.0, 40.0, 90.0)
    assert (row["load_min"], row["load_max"], row["verified"], row["all_verified"]) == (0.5, 2.5, 209, False)
    text = tt.render([row], repeats=3, facts={"model_name": "CPU X", "cores": 2, "python": "3.11"},
                     load_start=1.0, load_end=2.0)
    assert "CPU X, nproc 2" in text and "median of 3 runs" in text
    assert "| neon | cortex-x4 | rowdot | 209/210 (NOT all verified) | 90.0 | 55.0 | 50.0, 70.0, 55.0 | 40.0 | " \
           "0.50-2.50 | yes |" in text
    slow = tt.aggregate("hvx", runs[0], [_run(61.0, 50.0, 1.0, 1.0)])
    assert tt.render([slow], repeats=1, facts={"model_name": "C", "cores": 2, "python": "3"}, load_start=0,
                     load_end=0).endswith("| no |")
