"""workbench.quant: the exact formulas of research/reference.md §1.3, §4, §6 (integers and fp32 bits
compared with equality)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench.quant import (CONVENTIONS, activation_scale, dequantize_output, quantize_activations,
                             quantize_weights)

f32 = np.float32


def bits(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def f32_from_bits(u: int) -> np.float32:
    return np.array([u], dtype=np.uint32).view(np.float32)[0]


def scalar_quantize(row, convention):
    """Element by element, with numpy fp32 scalars: the spec written out once more."""
    amax = max(max(abs(f32(v)) for v in row), f32(1e-5))
    if convention == "hf":
        s = f32(f32(127.0) * f32(f32(1.0) / amax))
    else:
        s = f32(127.0 / float(amax))
    q = [int(min(127, max(-128, np.rint(f32(f32(v) * s))))) for v in row]
    return q, s


# amax = 95.046867 (0x42be17ff): the two scale rules round to neighbouring floats.
AMAX_DIFFERS = f32_from_bits(0x42BE17FF)
X_DIFFERS = f32_from_bits(0x41EC7E9C)  # 29.561821: x*s = 39.499996 (hf) but exactly 39.5 (bitnet_cpp)


def test_scale_conventions_differ_on_a_directed_value():
    hf = activation_scale(np.array([AMAX_DIFFERS]), convention="hf")[0]
    cpp = activation_scale(np.array([AMAX_DIFFERS]), convention="bitnet_cpp")[0]
    assert bits(hf) == 0x3FAB080A  # fl(127 * fl(1/amax))
    assert bits(cpp) == 0x3FAB080B  # fl(127 / amax), correctly rounded


def test_directed_row_quantizes_differently_and_the_tie_goes_to_even():
    row = np.array([[AMAX_DIFFERS, X_DIFFERS]], dtype=np.float32)
    q_hf, _ = quantize_activations(row, convention="hf")
    q_cpp, _ = quantize_activations(row, convention="bitnet_cpp")
    assert q_hf.tolist() == [[127, 39]]   # 39.499996 rounds down
    assert q_cpp.tolist() == [[127, 40]]  # exact tie 39.5 -> even 40


def test_scale_rules_disagree_often_on_random_amax():
    amax = np.random.default_rng(1).uniform(0.01, 100.0, 4096).astype(np.float32)
    hf = activation_scale(amax, convention="hf")
    cpp = activation_scale(amax, convention="bitnet_cpp")
    expect_hf = np.array([f32(f32(127) * f32(f32(1) / a)) for a in amax])
    expect_cpp = np.array([f32(127 / float(a)) for a in amax])
    assert np.array_equal(bits(hf), bits(expect_hf))
    assert np.array_equal(bits(cpp), bits(expect_cpp))
    assert 0 < np.count_nonzero(bits(hf) != bits(cpp)) < amax.size


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_ties_round_half_to_even(convention):
    # amax = 127/64 makes s exactly 64 under both rules, so x*s below are exact halves.
    amax = f32(127 / 64)
    assert activation_scale(np.array([amax]), convention=convention)[0] == 64.0
    halves = np.array([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 126.5], dtype=np.float32)
    row = np.concatenate([[amax], halves / f32(64)]).astype(np.float32)[None, :]
    q, s = quantize_activations(row, convention=convention)
    assert s[0] == 64.0
    assert q[0, 1:].tolist() == [0, 2, 2, 4, 0, -2, -2, 126]


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_amax_is_floored_at_1e5(convention):
    row = np.array([[1e-6, -3e-7, 0.0]], dtype=np.float32)
    q, s = quantize_activations(row, convention=convention)
    assert s[0] == activation_scale(np.array([f32(1e-5)]), convention=convention)[0]
    expect, _ = scalar_quantize(row[0], convention)
    assert q[0].tolist() == expect == [13, -4, 0]  # 1e-6 * 1.27e7 = 12.7


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_all_zero_rows_give_zero_codes_and_zero_output(convention):
    x = np.zeros((3, 64), dtype=np.float32)
    x[1, 5] = 2.0
    q, s = quantize_activations(x, convention=convention)
    assert not q[0].any() and not q[2].any()
    assert q[1, 5] == 127
    codes = np.random.default_rng(0).integers(-1, 2, (8, 64)).astype(np.int8)
    acc = q.astype(np.int32) @ codes.T.astype(np.int32)
    y = dequantize_output(acc, s, f32(0.05), convention=convention)
    assert not y[0].any() and not y[2].any()


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_codes_stay_in_int8_range_and_amax_maps_to_127(convention):
    x = np.random.default_rng(2).standard_normal((64, 257)).astype(np.float32) * 10
    q, _ = quantize_activations(x, convention=convention)
    assert q.dtype == np.int8
    peak = np.argmax(np.abs(x), axis=1)
    assert np.array_equal(np.abs(q[np.arange(64), peak]), np.full(64, 127))


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 40)),
                  elements=st.floats(-1e4, 1e4, width=32)),
       st.sampled_from(CONVENTIONS))
def test_vectorized_matches_scalar_spec(x, convention):
    q, s = quantize_activations(x, convention=convention)
    for r in range(x.shape[0]):
        q_ref, s_ref = scalar_quantize(x[r], convention)
        assert q[r].tolist() == q_ref
        assert bits(s[r]) == bits(s_ref)


def test_dequantize_conventions_bitwise():
    acc = np.array([[1, -7, 123456, 0]], dtype=np.int32)
    s = np.array([1.7], dtype=np.float32)
    gamma = f32(0.037)
    hf = dequantize_output(acc, s, gamma, convention="hf")
    cpp = dequantize_output(acc, s, gamma, convention="bitnet_cpp")
    ws = f32(f32(1) / gamma)
    expect_hf = [f32(f32(a) / f32(ws * s[0])) for a in acc[0]]
    expect_cpp = [f32(f32(f32(a) / s[0]) * gamma) for a in acc[0]]
    assert np.array_equal(bits(hf[0]), bits(expect_hf))
    assert np.array_equal(bits(cpp[0]), bits(expect_cpp))
    assert bits(hf[0, 0]) != bits(cpp[0, 0])  # 0.021764707 vs 0.021764705


def test_quantize_weights_absmean_and_ties():
    w = np.array([[0.5, -0.5, 1.5, -1.5, 0.25, 2.0, -0.0, 0.75]], dtype=np.float32)
    codes, gamma = quantize_weights(w)
    assert gamma == f32(np.abs(w.astype(np.float64)).mean())  # 0.875
    # w/gamma: 0.571, -0.571, 1.71, ... -> rint then clip
    assert codes.tolist() == [[1, -1, 1, -1, 0, 1, 0, 1]]
    # exact halves: gamma = 1 when mean|W| = 1
    w = np.array([0.5, -0.5, 1.5, 2.0], dtype=np.float32)
    codes, gamma = quantize_weights(w)
    assert gamma == 1.125
    w = np.array([0.5, 1.5, -0.5, 2.0, 0.5, 1.0, -1.0, 1.0], dtype=np.float32)  # mean|W| = 1
    codes, gamma = quantize_weights(w)
    assert gamma == 1.0
    assert codes.tolist() == [0, 1, 0, 1, 0, 1, -1, 1]  # 0.5 -> 0 and -0.5 -> -0 (half to even)


def test_quantize_weights_zero_tensor_floors_gamma():
    codes, gamma = quantize_weights(np.zeros((4, 4), dtype=np.float32))
    assert gamma == f32(1e-5)
    assert not codes.any()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown scale convention 'fp8'"):
        quantize_activations(np.ones((1, 4), np.float32), convention="fp8")
    with pytest.raises(ValueError, match="at least one element"):
        quantize_activations(np.ones((1, 0), np.float32))
    with pytest.raises(ValueError, match="empty weight tensor"):
        quantize_weights(np.ones((0, 3), np.float32))
