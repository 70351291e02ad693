"""`workbench.sweep.execute.run_points` on Dask: results in config order equal to evaluating in
process, the per-point cache (content hash of evaluate, config and code version; atomic writes;
resuming recomputes only what is missing; unreadable entries recomputed), a worker exception named
with its point, and the connection and worker-count errors."""

from __future__ import annotations

import json

import pytest

from workbench.errors import UserError
from workbench.sweep import execute
from workbench.sweep.execute import RunStats, cache_path, code_version, point_key, run_points
from workbench.sweep.kernel_point import evaluate_kernel_point

CONFIGS = [{"isa": "avx2", "kernel": k, "machine": m, "M": 256, "K": 512, "params": {}, "seed": 0}
           for k in ("vnni", "tq2") for m in ("zen4", "zen3")] + \
          [{"isa": "neon", "kernel": "rowdot", "machine": "cortex-a55", "M": 256, "K": 512,
            "params": {"groups": g}, "seed": 0} for g in (1, 3)]


@pytest.fixture(scope="module")
def expected():
    return [json.loads(json.dumps(evaluate_kernel_point(c))) for c in CONFIGS]


def test_code_version_and_point_keys():
    version = code_version()
    assert len(version) == 64 and version == code_version()
    key = point_key(evaluate_kernel_point, CONFIGS[0])
    assert key == point_key(evaluate_kernel_point, dict(reversed(list(CONFIGS[0].items()))))   # canonical JSON
    assert key != point_key(evaluate_kernel_point, CONFIGS[1])
    assert key != point_key(evaluate_kernel_point, CONFIGS[0], version="0" * 64)
    assert key != point_key(run_points, CONFIGS[0])
    with pytest.raises(TypeError, match="not plain JSON"):
        point_key(evaluate_kernel_point, {"x": object()})


def test_points_run_on_the_cluster_in_config_order_and_are_cached(scheduler, expected, tmp_path):
    stats = RunStats()
    got = run_points(CONFIGS + [CONFIGS[0]], evaluate_kernel_point, scheduler=scheduler, cache_dir=tmp_path,
                     progress=False, stats=stats)
    assert got == expected + [expected[0]]
    assert (stats.points, stats.cached, stats.computed, stats.evaluations, stats.workers) == \
        (len(CONFIGS) + 1, 0, len(CONFIGS) + 1, len(CONFIGS), 2)           # the repeated point runs once
    assert [r["verdict"] for r in got[:len(CONFIGS)]] == ["VERIFIED", "UNSUPPORTED", "VERIFIED", "VERIFIED",
                                                          "VERIFIED", "UNSUPPORTED"]
    for config in CONFIGS:
        record = json.loads(cache_path(tmp_path, point_key(evaluate_kernel_point, config)).read_text())
        assert record["config"] == config and record["code_version"] == code_version()
    assert not list(tmp_path.rglob(".tmp-*"))
    # everything cached: no cluster is needed (none is reachable at this address)
    again = RunStats()
    assert run_points(CONFIGS, evaluate_kernel_point, scheduler="tcp://127.0.0.1:9", cache_dir=tmp_path,
                      progress=False, stats=again) == expected
    assert (again.cached, again.computed) == (len(CONFIGS), 0)


def test_a_resumed_sweep_recomputes_only_the_missing_points(scheduler, expected, tmp_path):
    run_points(CONFIGS, evaluate_kernel_point, scheduler=scheduler, cache_dir=tmp_path, progress=False)
    cache_path(tmp_path, point_key(evaluate_kernel_point, CONFIGS[1])).unlink()
    cache_path(tmp_path, point_key(evaluate_kernel_point, CONFIGS[4])).write_text("{truncated")
    stats = RunStats()
    got = run_points(CONFIGS, evaluate_kernel_point, scheduler=scheduler, cache_dir=tmp_path, progress=False,
                     stats=stats)
    assert got == expected
    assert (stats.cached, stats.computed) == (len(CONFIGS) - 2, 2)


def test_a_worker_exception_names_the_point(scheduler):
    bad = {"isa": "avx2", "kernel": "vnni", "M": "many", "K": 512}
    with pytest.raises(RuntimeError, match=r'failed on point \{.*"M":"many".*UserError'):
        run_points([CONFIGS[0], bad], evaluate_kernel_point, scheduler=scheduler, progress=False)


def test_an_unreachable_scheduler_is_one_user_error(monkeypatch):
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(UserError, match=r"--scheduler tcp://127.0.0.1:9: cannot connect within 1 s") as exc:
        run_points(CONFIGS[:1], evaluate_kernel_point, scheduler="tcp://127.0.0.1:9", progress=False)
    assert "\n" not in str(exc.value)


def test_workers_must_be_positive():
    with pytest.raises(UserError, match="--workers 0"):
        run_points(CONFIGS, evaluate_kernel_point, workers=0)


@pytest.mark.slow
def test_the_default_local_cluster_of_two_workers(expected, tmp_path, capsys):
    stats = RunStats()
    got = run_points(CONFIGS, evaluate_kernel_point, workers=2, progress=True, stats=stats)
    assert got == expected and stats.workers == 2 and stats.computed == len(CONFIGS)
    assert f"{len(CONFIGS)}/{len(CONFIGS)}" in capsys.readouterr().err      # the progress bar, on stderr
