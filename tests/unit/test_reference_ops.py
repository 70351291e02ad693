"""workbench.reference.ops: exact int32 products, and every fp32 kernel against a numpy emulation
of its documented order (compared bit for bit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.reference import ops, ternary_matvec

f32 = np.float32


def bits(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def dot16(a: np.ndarray, b: np.ndarray) -> np.float32:
    """The documented 16-lane order, emulated with numpy fp32 vectors (one block at a time)."""
    n = a.size
    full = n - n % 16
    lanes = np.zeros(16, np.float32)
    for k0 in range(0, full, 16):
        lanes = (lanes + a[k0:k0 + 16] * b[k0:k0 + 16]).astype(np.float32)
    tail = n - full
    lanes[:tail] = lanes[:tail] + a[full:] * b[full:]
    half = 8
    while half:
        lanes[:half] = lanes[:half] + lanes[half:2 * half]
        half //= 2
    return lanes[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 70), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_ternary_matvec_exact(tokens, rows, k, seed):
    rng = np.random.default_rng(seed)
    q = rng.integers(-128, 128, (tokens, k)).astype(np.int8)
    codes = rng.integers(-1, 2, (rows, k)).astype(np.int8)
    acc = ternary_matvec(q, codes)
    assert acc.dtype == np.int32
    assert np.array_equal(acc, q.astype(np.int64) @ codes.T.astype(np.int64))


@pytest.mark.parametrize("value", [-128, 127])
@pytest.mark.parametrize("code", [-1, 1])
def test_ternary_matvec_adversarial_extremes(value, code):
    k = 6912  # the 2B-4T down_proj reduction length: int16 partial sums would wrap here
    q = np.full((1, k), value, np.int8)
    codes = np.full((3, k), code, np.int8)
    assert ternary_matvec(q, codes).tolist() == [[value * code * k] * 3]


def test_ternary_matvec_one_dimensional_q_and_errors():
    codes = np.array([[1, 0, -1]], np.int8)
    assert ternary_matvec(np.array([5, 6, 7], np.int8), codes).tolist() == [[-2]]
    with pytest.raises(ValueError, match="must be int8"):
        ternary_matvec(np.ones((1, 3), np.int16), codes)
    with pytest.raises(ValueError, match=r"q shape \(1, 4\) does not match codes shape \(1, 3\)"):
        ternary_matvec(np.ones((1, 4), np.int8), codes)


@pytest.mark.parametrize("k", [1, 15, 16, 17, 64, 2560, 2565])
def test_dense_matvec_follows_the_documented_order(k):
    rng = np.random.default_rng(k)
    x = rng.standard_normal((2, k)).astype(np.float32)
    w = rng.standard_normal((5, k)).astype(np.float32)
    out = ops.dense_matvec_f32(x, w)
    expect = np.array([[dot16(x[t], w[m]) for m in range(5)] for t in range(2)])
    assert np.array_equal(bits(out), bits(expect))
    assert np.allclose(out, x.astype(np.float64) @ w.T.astype(np.float64), rtol=1e-5, atol=1e-4)


def test_dense_matvec_rejects_float64():
    with pytest.raises(ValueError, match="need float32"):
        ops.dense_matvec_f32(np.ones((1, 4)), np.ones((2, 4), np.float32))


def test_rms_norm_bitwise():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 100)) * 3).astype(np.float32)
    w = (1 + 0.1 * rng.standard_normal(100)).astype(np.float32)
    out = ops.rms_norm(x, w, 1e-5)
    for t in range(3):
        mean = f32(dot16(x[t], x[t]) / f32(100))
        r = f32(f32(1) / np.sqrt(f32(mean + f32(1e-5))))
        assert np.array_equal(bits(out[t]), bits(w * (x[t] * r)))


def test_rope_tables_and_rotation():
    hd, theta = 8, 500000.0
    cos, sin = ops.rope_tables(hd, theta, 16)
    inv = ops.rope_inv_freq(hd, theta)
    assert inv[1] == f32(f32(1) / f32(theta ** float(f32(2) / f32(hd))))
    angle = np.float64(f32(f32(11) * inv[1]))
    assert cos[11, 1] == f32(math.cos(angle)) and sin[11, 1] == f32(math.sin(angle))
    assert cos[0].tolist() == [1.0] * 4 and sin[0].tolist() == [0.0] * 4
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2 * hd)).astype(np.float32)
    out = ops.apply_rope(x, heads=2, head_dim=hd, cos=cos, sin=sin, start=5)
    for t in range(3):
        c, s = cos[5 + t], sin[5 + t]
        for h in range(2):
            x1, x2 = x[t, h * hd:h * hd + 4], x[t, h * hd + 4:(h + 1) * hd]
            assert np.array_equal(bits(out[t, h * hd:h * hd + 4]), bits(x1 * c + (-x2) * s))
            assert np.array_equal(bits(out[t, h * hd + 4:(h + 1) * hd]), bits(x2 * c + x1 * s))


def test_attention_bitwise_and_gqa_mapping():
    heads, kv_heads, hd, start, tokens = 4, 2, 16, 3, 2
    rng = np.random.default_rng(5)
    q = rng.standard_normal((tokens, heads * hd)).astype(np.float32)
    kc = rng.standard_normal((start + tokens, kv_heads, hd)).astype(np.float32)
    vc = rng.standard_normal((start + tokens, kv_heads, hd)).astype(np.float32)
    out = ops.attention(q, kc, vc, start=start, heads=heads, kv_heads=kv_heads, head_dim=hd)
    scale = f32(hd ** -0.5)
    for t in range(tokens):
        for h in range(heads):
            g = h // (heads // kv_heads)
            n = start + t + 1
            qv = q[t, h * hd:(h + 1) * hd]
            sc = np.array([f32(dot16(qv, kc[j, g]) * scale) for j in range(n)], np.float32)
            e = np.array([f32(math.exp(float(f32(v - sc.max())))) for v in sc], np.float32)
            total = f32(0)
            for v in e:
                total = f32(total + v)
            acc = np.zeros(hd, np.float32)
            for j in range(n):
                acc = (acc + f32(e[j] / total) * vc[j, g]).astype(np.float32)
            assert np.array_equal(bits(out[t, h * hd:(h + 1) * hd]), bits(acc)), (t, h)


def test_relu2_gate_bitwise():
    g = np.array([[-2.0, -0.0, 0.5, 3.0]], np.float32)
    u = np.array([[7.0, 1.0, 3.0, -1.5]], np.float32)
    assert ops.relu2_gate(g, u).tolist() == [[0.0, 0.0, 0.75, -13.5]]
