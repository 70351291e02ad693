"""`workbench.sweep.kernel_point.evaluate_kernel_point`: one flat, deterministic row per point;
VERIFIED, LOSSY and FAILED judged by integer equality; every point a kernel or machine cannot run
an UNSUPPORTED row with the reason, never an exception."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

from kernels import registry
from workbench.errors import UserError
from workbench.sweep.kernel_point import RESULT_KEYS, evaluate_kernel_point


def _point(**kw):
    base = {"isa": "avx2", "kernel": "vnni", "machine": "zen4", "M": 256, "K": 512}
    base.update(kw)
    return base


def test_an_exact_kernel_verifies_and_is_timed():
    row = evaluate_kernel_point(_point(params={"chains": 1}))
    assert row["verdict"] == "VERIFIED" and row["reason"] is None
    assert (row["isa"], row["kernel"], row["machine"], row["M"], row["K"]) == ("avx2", "vnni", "zen4", 256, 512)
    assert row["param.chains"] == 1 and row["seed"] == 0 and row["exactness"] == "exact" and row["tokens"] == 1
    assert row["compared"] == 2 * 256 and row["mismatches"] == 0
    assert row["cycles"] > 0 and row["bytes"] > 0 and row["instructions"] > 0 and row["bound"]
    assert row["cycles_per_weight"] == pytest.approx(row["cycles"] / (256 * 512))
    assert list(row)[:6] == ["isa", "kernel", "machine", "M", "K", "param.chains"]
    assert all(key in row for key in RESULT_KEYS)
    assert all(v is None or isinstance(v, (bool, int, float, str)) for v in row.values())
    json.dumps(row)


def test_same_config_same_row_and_the_default_machine_is_filled():
    a = evaluate_kernel_point(_point(machine=None, seed=3))
    b = evaluate_kernel_point(_point(machine=None, seed=3))
    assert a == b
    assert a["machine"] == "zen4"       # the ISA's default machine, never the host's
    assert pickle.loads(pickle.dumps(evaluate_kernel_point)) is evaluate_kernel_point


def test_parameters_change_the_timing_not_the_verdict():
    one = evaluate_kernel_point(_point(params={"chains": 1}))
    two = evaluate_kernel_point(_point(params={"chains": 2}))
    assert one["verdict"] == two["verdict"] == "VERIFIED"
    assert one["param.chains"] == 1 and two["param.chains"] == 2


@pytest.mark.parametrize("config, words", [
    (_point(kernel="vnni2", machine="zen3"), "lacks"),                        # missing ISA extension
    (_point(K=100), "K=100"),                                                 # shape constraint
    (_point(params={"nope": 1}), "unknown parameter 'nope'"),                 # parameter it does not have
    (_point(kernel="rowdot"), "unknown kernel 'rowdot'"),                     # not a kernel of the ISA
    (_point(machine="cortex-a55"), "cortex-a55"),                             # machine of another ISA
    ({"isa": "neon", "kernel": "rowdot", "M": 256, "K": 512, "params": {"groups": 3}}, "groups=3"),  # bad value
    ({"isa": "npu", "kernel": "npu_gemm", "machine": "tiny", "M": 64, "K": 64,
      "params": {"machine": "edge16"}}, "conflicts"),                         # machine parameter conflict
])
def test_points_that_cannot_run_are_unsupported_rows(config, words):
    row = evaluate_kernel_point(config)
    assert row["verdict"] == "UNSUPPORTED"
    assert words in row["reason"] and "\n" not in row["reason"]
    assert row["cycles"] is None and row["bytes"] is None


def test_a_lossy_kernel_reports_its_error():
    row = evaluate_kernel_point(_point(kernel="tmac"))
    assert row["verdict"] == "LOSSY" and row["exactness"] == "lossy"
    assert row["error_rel_rms"] > 0 and row["error_max_abs"] > 0 and row["cycles"] > 0


def test_a_batched_kernel_runs_on_tokens_rows():
    row = evaluate_kernel_point(_point(kernel="prefill_vnni", params={"N": 2}))
    assert row["verdict"] == "VERIFIED" and row["tokens"] == 2 and row["param.N"] == 2
    assert row["compared"] == 2 * 2 * 256
    assert row["cycles_per_weight"] == pytest.approx(row["cycles"] / (2 * 256 * 512))


def test_a_wrong_kernel_fails_by_integer_equality():
    spec = registry.get("vnni", "avx2")
    broken = dataclasses.replace(spec, name="broken_vnni_sweep",
                                 result=lambda buffers: np.asarray(spec.result(buffers)) + (np.arange(256) == 7))
    registry.register(broken)
    try:
        row = evaluate_kernel_point(_point(kernel="broken_vnni_sweep"))
    finally:
        registry.unregister("broken_vnni_sweep", "avx2")
    assert row["verdict"] == "FAILED" and row["mismatches"] == 2
    assert row["first_mismatch"].startswith("row 7:")


@pytest.mark.parametrize("config, words", [
    (_point(colour="red"), "unknown key 'colour'"),
    (_point(M="256"), "'M' must be a positive integer"),
    (_point(K=0), "'K' must be a positive integer"),
    (_point(seed=-1), "'seed'"),
    (_point(params=[1]), "'params'"),
    ({"kernel": "vnni", "M": 1, "K": 1}, "'isa'"),
])
def test_a_malformed_config_is_a_user_error(config, words):
    with pytest.raises(UserError, match=words):
        evaluate_kernel_point(config)
