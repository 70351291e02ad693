"""workbench.sweep.tune and `workbench tune`: ranking, folding, rank agreement, a small NEON tune on a
local Dask cluster (no native check: no NEON machine models this CPU), and the one-line errors."""

from __future__ import annotations

import json

import pytest

from kernels import registry
from workbench.cli import main
from workbench.errors import UserError
from workbench.sweep.param_space import grid, parameter_space
from workbench.sweep.tune import (fold_identical, kendall_tau, order_note, param_flags, rank_rows, row_params,
                                  tune)

#: rowdot with unroll fixed: groups 4, 1, 2 (three points, evaluated on a one-worker local cluster)
SMALL = dict(kernel="rowdot", isa="neon", machine="cortex-a55", M=32, K=64, fixed={"unroll": 2})


def test_kendall_tau_b():
    assert kendall_tau([1, 2, 3], [10, 20, 30]) == 1.0
    assert kendall_tau([1, 2, 3], [30, 20, 10]) == -1.0
    assert kendall_tau([1, 2, 3], [10, 30, 20]) == pytest.approx(1 / 3)
    assert kendall_tau([5, 5, 7], [1, 3, 2]) == 0.0           # a model tie counts as neither
    assert kendall_tau([1], [1]) is None and kendall_tau([2, 2], [1, 1]) is None


def test_order_note():
    assert order_note([1, 2, 3]) == "same order"
    assert order_note([1, 3, 2]) == "swapped 2 and 3"
    assert order_note([2, 3, 1]).startswith("measured order 3, 1, 2")
    assert order_note([1, 3, 2], model_cycles=[5.0, 5.0, 6.0]) == "swapped 2 and 3; model ties 1 and 2"
    assert "one configuration" in order_note([1])


def _row(cycles, bytes_, verdict="VERIFIED", tokens=1, **params):
    return {"verdict": verdict, "cycles": cycles, "bytes": bytes_, "tokens": tokens,
            **{f"param.{k}": v for k, v in params.items()}}


def test_rank_rows_cycles_then_bytes_then_default():
    rows = [_row(100, 50, a=1), _row(90, 70, a=2), _row(90, 60, a=3), _row(90, 60, a=4), _row(10, 1, "FAILED", a=5),
            _row(None, None, "UNSUPPORTED", a=6)]
    ranked = rank_rows(rows, default={"a": 4})
    assert [row_params(r)["a"] for r in ranked] == [4, 3, 2, 1]
    # per token: a batched point serving 8 tokens in 400 cycles beats 100 cycles for one
    assert row_params(rank_rows([_row(100, 1, a=1), _row(400, 1, tokens=8, a=2)], default={})[0])["a"] == 2
    assert rank_rows([_row(5, 1, "LOSSY", a=1)], default={}) == []
    assert len(rank_rows([_row(5, 1, "LOSSY", a=1)], default={}, ranked_verdicts=("VERIFIED", "LOSSY"))) == 1


def test_param_flags_skip_the_machine_and_auto_parameters():
    tl1 = registry.get("tl1", "neon")
    assert param_flags(tl1, {"BM": 64, "BK": None, "bm": 32}) == "--param BM=64 --param bm=32"
    assert "no --param" in param_flags(tl1, {"BM": None, "BK": None, "bm": None})
    npu = registry.get("npu_gemm", "npu")
    assert "no --param" in param_flags(npu, {"machine": "edge16"})


def test_fold_identical_keeps_one_of_each_program():
    spec = registry.get("i2s", "hvx")            # tiles=0 picks one 128-row tile at M=256: same Program
    g = grid(spec, parameter_space(spec, None, 256, 256), 256, 256)
    distinct, folded = fold_identical(spec, 256, 256, g.points)
    assert distinct[0] == g.points[0] and len(distinct) + len(folded) == len(g.points)
    assert ({"tiles": 1, "dma": 0}, {"tiles": 0, "dma": 0}) in folded
    assert all(p["dma"] == same["dma"] for p, same in folded)     # a placement change is never folded


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tune_cache")


@pytest.fixture(scope="module")
def small(cache):
    return tune(**SMALL, workers=1, cache_dir=cache, progress=False)


@pytest.mark.slow
def test_small_neon_tune_ranks_verified_points(small):
    assert small.best is not None and small.best["verdict"] == "VERIFIED"
    cycles = [r["cycles"] for r in small.ranked]
    assert cycles == sorted(cycles) and len(small.ranked) == len(small.rows) == 3
    assert not small.broken and not small.unsupported
    assert small.computed + small.cached == len(small.rows)
    spec = registry.get("rowdot", "neon")
    assert all(spec.supports(32, 64, **{k: v for k, v in row_params(r).items()}) for r in small.rows)
    assert small.vs_default(small.best) >= 1.0
    assert small.flags().startswith("--param ") and "unroll=2" in small.flags()
    assert {row_params(r)["groups"] for r in small.rows} == {1, 2, 4}
    json.dumps(small.to_json())


@pytest.mark.slow
def test_native_check_skipped_with_the_reason(small):
    assert small.native is None
    assert "aarch64" in small.native_note or "clock" in small.native_note


@pytest.mark.slow
def test_a_second_run_reads_every_point_from_the_cache(small, cache):
    again = tune(**SMALL, workers=1, cache_dir=cache, progress=False)
    assert again.cached == len(again.rows) and again.computed == 0
    assert again.ranked == small.ranked


@pytest.mark.slow
def test_the_command_prints_the_best_flags_and_the_table(small, cache, tmp_path, capsys):
    out = tmp_path / "tune.json"
    code = main(["tune", "--kernel", "rowdot", "--isa", "neon", "--machine", "cortex-a55", "--shape", "32x64",
                 "--param", "unroll=2", "--cache", str(cache), "--no-progress", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "kernel rowdot/neon (exact) on machine cortex-a55, shape 32x64" in text
    assert f"best: {small.flags()}" in text
    assert "workbench simulate --isa neon --machine cortex-a55 --kernel rowdot --param" in text
    assert "(default)" in text and "native check: skipped:" in text
    data = json.loads(out.read_text())
    assert data["best"]["flags"] == small.flags() and data["native"] is None
    assert data["points"]["evaluated"] == len(small.rows) and data["points"]["cached"] == len(small.rows)


def test_required_native_check_refused_before_any_work():
    with pytest.raises(UserError, match="^--native: "):
        tune(**SMALL, native=True, progress=False, cache_dir=None)


@pytest.mark.parametrize("argv,culprit", [
    (["--kernel", "nope", "--machine", "zen4", "--shape", "64x64"], "unknown kernel 'nope'"),
    (["--kernel", "i2s", "--machine", "zen4", "--shape", "64x64"], "avx2, hvx, neon"),
    (["--kernel", "rowdot", "--machine", "zen4", "--shape", "64x64"], "unknown machine 'zen4' for ISA neon"),
    (["--kernel", "rowdot", "--machine", "cortex-a55", "--shape", "64"], "--shape '64'"),
    (["--kernel", "rowdot", "--machine", "cortex-a55", "--shape", "0x64"], "--shape '0x64'"),
    (["--kernel", "rowdot", "--machine", "cortex-a55", "--shape", "30x64"], "cannot take shape 30x64"),
    (["--kernel", "rowdot", "--machine", "cortex-a55", "--shape", "32x64", "--param", "foo=1"], "'foo'"),
    (["--kernel", "rowdot", "--machine", "cortex-a55", "--shape", "32x64", "--values", "groups="], "--values"),
    (["--kernel", "i2s", "--isa", "nope", "--machine", "zen4", "--shape", "64x64"], "unknown ISA 'nope'"),
])
def test_bad_input_is_one_line(argv, culprit, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["tune", *argv, "--no-cache"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("workbench tune: error: ") and culprit in err[0], err[0]
    assert not list(tmp_path.iterdir())
