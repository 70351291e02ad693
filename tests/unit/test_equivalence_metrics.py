"""`workbench.equivalence.metrics`: KL divergence against a direct float64 computation, exact
equality of float32 logits, greedy picks with ties to the lowest id."""

from __future__ import annotations

import numpy as np

from workbench.equivalence.metrics import compare_logits, kl_divergence, log_softmax


def test_log_softmax_normalises_and_survives_large_logits():
    x = np.array([1000.0, 999.0, -1000.0], dtype=np.float32)
    lp = log_softmax(x)
    assert np.isclose(np.exp(lp).sum(), 1.0, rtol=0, atol=1e-12)
    assert np.isclose(lp[0] - lp[1], 1.0)


def test_kl_matches_the_definition_and_is_zero_for_equal_inputs():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(50).astype(np.float32)
    b = (a + 0.1 * rng.standard_normal(50)).astype(np.float32)
    p = np.exp(a.astype(np.float64)) / np.exp(a.astype(np.float64)).sum()
    q = np.exp(b.astype(np.float64)) / np.exp(b.astype(np.float64)).sum()
    assert np.isclose(kl_divergence(a, b), float(np.sum(p * np.log(p / q))), rtol=1e-10)
    assert kl_divergence(a, a) == 0.0
    assert kl_divergence(a, b) > 0 and kl_divergence(a, b) != kl_divergence(b, a)


def test_compare_logits_identical_and_different():
    ref = np.array([0.5, 2.0, 2.0, -1.0], dtype=np.float32)
    same = compare_logits(3, 7, 42, ref, ref.copy(), {"0.q": 0, "0.k": 0})
    assert same.identical and same.top1 and same.max_abs_logit_diff == 0.0 and same.kl == 0.0
    assert same.reference_token == 1 and same.kernel_token == 1        # tie: the lowest id
    assert (same.step, same.position, same.input_token) == (3, 7, 42)

    ker = ref.copy()
    ker[2] = np.nextafter(ker[2], np.float32(10))                       # one ulp up: a different pick
    diff = compare_logits(0, 0, 1, ref, ker, {"0.q": 0})
    assert not diff.identical and not diff.logits_equal and diff.accumulators_equal
    assert diff.kernel_token == 2 and not diff.top1
    assert diff.max_abs_logit_diff == float(ker[2]) - float(ref[2]) > 0
    assert diff.kl > 0

    acc = compare_logits(0, 0, 1, ref, ref.copy(), {"0.q": 0, "1.down": 3})
    assert acc.logits_equal and not acc.accumulators_equal and not acc.identical and acc.max_acc_error == 3
    assert acc.to_json()["identical"] is False and acc.to_json()["max_acc_error"] == 3
