"""workbench.flow.checks: a kernel's functional run on real weights judged by kernels.verify, inline
or in forked workers, and a shape the kernel refuses as one UserError."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kernels.registry import get, kernels
from workbench.errors import UserError
from workbench.flow import Activations, KernelRunner, run_checks
from workbench.reference import PROJECTIONS, get_preset, random_linear, random_weights, ternary_matvec


def _first_exact():
    return next(s for s in kernels("avx2") if s.exactness == "exact" and not s.batched)


def test_runner_catches_a_wrong_accumulator():
    spec = _first_exact()
    codes = random_linear(get_preset("tiny"), 0, "q", seed=3).codes
    q = np.random.default_rng(1).integers(-128, 128, codes.shape[1], dtype=np.int8)
    assert KernelRunner(spec).check(codes, q).status == "VERIFIED"

    def off_by_one(buffers, _result=spec.result):
        acc = np.array(_result(buffers))
        acc[17] += 1
        return acc
    c = KernelRunner(dataclasses.replace(spec, result=off_by_one)).check(codes, q)
    want = int(ternary_matvec(q[None], codes)[0, 17])
    assert c.status == "FAILED" and c.mismatches == 1 and not c.ok
    assert c.first_mismatch.startswith(f"row 17: expected {want}, got {want + 1}")


def test_unsupported_shape_is_a_user_error_naming_kernel_and_shape():
    spec = get("i2s", "avx2")
    with pytest.raises(UserError, match=r"kernel i2s/avx2 cannot run shape 100x100: "):
        KernelRunner(spec).program(100, 100)


def test_workers_give_the_same_checks_as_inline():
    spec = _first_exact()
    weights = random_weights(get_preset("tiny"), seed=0)
    acts = Activations(weights, source="trace", token_id=None, seed=0)
    jobs = [(li, p) for li in (0, 1) for p in PROJECTIONS]
    inline = run_checks(KernelRunner(spec), weights, acts, jobs, workers=1)
    forked = run_checks(KernelRunner(spec), weights, acts, jobs, workers=2)
    assert inline == forked and all(c.status == "VERIFIED" for c in inline) and len(inline) == 14
    with pytest.raises(UserError, match="--workers 0: must be at least 1"):
        run_checks(KernelRunner(spec), weights, acts, jobs, workers=0)


def test_a_batched_kernel_runs_each_projection_on_a_batch_and_names_the_failing_token():
    spec = get("prefill_vnni", "avx2")
    runner = KernelRunner(spec, N=4)
    assert runner.tokens == 4 and KernelRunner(_first_exact()).tokens == 1
    weights = random_weights(get_preset("tiny"), seed=0)
    acts = Activations(weights, source="trace", token_id=None, seed=0)
    checks = run_checks(runner, weights, acts, [(0, "q"), (1, "down")], workers=1)
    M = get_preset("tiny").projection_shape("q")[0]
    assert [c.status for c in checks] == ["VERIFIED"] * 2 and checks[0].compared == 4 * M

    def off_in_token_2(buffers, _result=spec.result, **shape):
        acc = np.array(_result(buffers, **shape))
        acc[2, 5] += 1
        return acc
    bad = KernelRunner(dataclasses.replace(spec, result=off_in_token_2), N=4)
    c = run_checks(bad, weights, acts, [(0, "q")], workers=1)[0]
    assert c.status == "FAILED" and c.mismatches == 1 and c.first_mismatch.startswith("token 2 row 5: ")
