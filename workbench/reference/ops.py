"""Numba kernels of the reference transformer: the exact int8 x ternary product and the fp32 steps.

Ground-truth layer, called by `workbench.reference.model`. The integer product accumulates in int32
exactly (integer addition is associative, so the compiler may vectorize it freely). Every float
reduction has ONE fixed order, written out below, so a result never depends on the thread count or
on how LLVM vectorizes: a dot product of length K uses 16 lane partial sums (lane j takes the
elements k = j (mod 16), in increasing k, the tail k >= 16*floor(K/16) going to lane k mod 16 after
the full blocks), combined by the fixed tree ((l0+l8) ... ) halving 16 -> 8 -> 4 -> 2 -> 1
(partial[j] += partial[j + half]). Each product and each addition is rounded to fp32 separately
(no fused multiply-add: Numba does not set LLVM's fast-math/contract flags here).
"""

from __future__ import annotations

import math
import os

# Idle OpenMP threads sleep instead of spinning. Every decoded token runs a few hundred short
# parallel regions; on a shared machine a spinning thread that lost its core stalls each of them
# (measured here with other jobs running: 0.6 tok/s spinning vs 5.4 tok/s passive on 2B-4T).
# Read by libgomp when it loads, so it only takes effect if nothing loaded OpenMP before us.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba as nb  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["ternary_matvec", "dense_matvec_f32", "rms_norm", "rope_inv_freq", "rope_tables", "apply_rope",
           "attention", "relu2_gate", "LANES"]

LANES = 16  # partial sums of every fp32 reduction (see the module docstring)
# Rows handed to a thread at a time in the parallel loops: small chunks let one thread take over
# when the other core is busy (this machine is shared); results never depend on it.
CHUNK_ROWS = 64


@nb.njit(cache=True, inline="always")
def _dot_f32(a, b, n):
    """fp32 dot product of a[:n], b[:n] in the documented 16-lane order."""
    acc = np.zeros(LANES, dtype=np.float32)
    full = n - n % LANES
    for k0 in range(0, full, LANES):
        for j in range(LANES):
            acc[j] += a[k0 + j] * b[k0 + j]
    for k in range(full, n):
        acc[k - full] += a[k] * b[k]
    half = LANES // 2
    while half >= 1:
        for j in range(half):
            acc[j] += acc[j + half]
        half //= 2
    return acc[0]


@nb.njit(cache=True, parallel=True)
def _ternary_matvec_kernel(q, codes, out):
    rows, k_len = codes.shape
    tokens = q.shape[0]
    for m in nb.prange(rows):
        w = codes[m]
        for t in range(tokens):
            x = q[t]
            acc = np.int32(0)
            for k in range(k_len):
                acc += np.int32(x[k]) * np.int32(w[k])
            out[t, m] = acc


def ternary_matvec(q: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Exact int32 accumulators ``acc[t, m] = sum_k q[t, k] * codes[m, k]``.

    Parameters
    ----------
    q : np.ndarray of int8, shape (T, K) (a 1-D q is taken as one token)
    codes : np.ndarray of int8, shape (M, K), values in {-1, 0, +1} (any int8 is multiplied exactly)

    Returns
    -------
    np.ndarray of int32, shape (T, M). Exact: |acc| <= 128 * K < 2**31 for K < 2**24.
    Parallel over rows M; each row's sum runs in one thread.
    """
    q = np.asarray(q)
    codes = np.asarray(codes)
    if q.ndim == 1:
        q = q[None, :]
    if q.dtype != np.int8 or codes.dtype != np.int8:
        raise ValueError(f"ternary_matvec: q and codes must be int8, got {q.dtype} and {codes.dtype}")
    if q.ndim != 2 or codes.ndim != 2 or q.shape[1] != codes.shape[1]:
        raise ValueError(f"ternary_matvec: q shape {q.shape} does not match codes shape {codes.shape} "
                         f"(need q (T, K) and codes (M, K))")
    if codes.shape[1] >= 1 << 24:
        raise ValueError(f"ternary_matvec: K={codes.shape[1]} could overflow int32")
    out = np.empty((q.shape[0], codes.shape[0]), dtype=np.int32)
    with nb.parallel_chunksize(CHUNK_ROWS):
        _ternary_matvec_kernel(np.ascontiguousarray(q), np.ascontiguousarray(codes), out)
    return out


@nb.njit(cache=True, parallel=True)
def _dense_kernel_f32(x, w, out):
    rows, k_len = w.shape
    for m in nb.prange(rows):
        for t in range(x.shape[0]):
            out[t, m] = _dot_f32(x[t], w[m], k_len)


def dense_matvec_f32(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """fp32 ``out[t, m] = sum_k x[t, k] * w[m, k]`` in the documented 16-lane order (the lm_head).

    Parameters
    ----------
    x : np.ndarray of float32, shape (T, K)
    w : np.ndarray of float32, shape (M, K)
    """
    if x.dtype != np.float32 or w.dtype != np.float32 or x.ndim != 2 or w.ndim != 2 \
            or x.shape[1] != w.shape[1]:
        raise ValueError(f"dense_matvec_f32: need float32 x (T, K) and w (M, K), got {x.dtype} "
                         f"{x.shape} and {w.dtype} {w.shape}")
    out = np.empty((x.shape[0], w.shape[0]), dtype=np.float32)
    with nb.parallel_chunksize(CHUNK_ROWS):
        _dense_kernel_f32(np.ascontiguousarray(x), np.ascontiguousarray(w), out)
    return out


@nb.njit(cache=True)
def _rms_norm_kernel(x, weight, eps, out):
    n = x.shape[1]
    n_f = np.float32(n)
    for t in range(x.shape[0]):
        row = x[t]
        mean = _dot_f32(row, row, n) / n_f
        r = np.float32(1.0) / np.sqrt(mean + eps)
        for i in range(n):
            out[t, i] = weight[i] * (row[i] * r)


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """RMSNorm in fp32: ``weight * (x * r)`` with ``r = fl(1 / fl(sqrt(fl(fl(sum x^2) / n) + eps)))``.

    ``sum x^2`` is the 16-lane dot product of the row with itself; ``1 / sqrt`` as two fp32 roundings
    (torch's CPU ``rsqrt`` computes ``1 / sqrt`` the same way). x is (T, n), weight (n,).
    """
    out = np.empty_like(x, dtype=np.float32)
    _rms_norm_kernel(np.ascontiguousarray(x, dtype=np.float32),
                     np.ascontiguousarray(weight, dtype=np.float32), np.float32(eps), out)
    return out


def rope_inv_freq(head_dim: int, theta: float) -> np.ndarray:
    """HF's ``inv_freq = 1 / theta ** (arange(0, hd, 2) / hd)`` in fp32.

    The exponent is an fp32 division; ``theta ** e`` is rounded once to fp32 from float64 (torch's
    vectorized pow agrees with the correctly rounded value here, numpy's powf is 2 ulp off for
    hd = 32); the reciprocal is an fp32 division. Checked bit for bit in tests/oracle.
    """
    exponent = np.arange(0, head_dim, 2, dtype=np.float32) / np.float32(head_dim)
    power = np.power(np.float64(theta), exponent.astype(np.float64)).astype(np.float32)
    return np.float32(1.0) / power


def rope_tables(head_dim: int, theta: float, positions: int) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin tables, each (positions, head_dim // 2), fp32, as Hugging Face computes them.

    ``inv_freq`` from `rope_inv_freq`, the angle
    ``fl(p * inv_freq)`` in fp32, then cos and sin of that fp32 angle evaluated in float64 and
    rounded once to fp32. The two halves of HF's ``cat(freqs, freqs)`` are equal, so half is stored.
    """
    inv_freq = rope_inv_freq(head_dim, theta)
    angles = np.arange(positions, dtype=np.float32)[:, None] * inv_freq[None, :]
    angles = angles.astype(np.float64)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


@nb.njit(cache=True)
def _rope_kernel(x, heads, head_dim, cos, sin, start, out):
    half = head_dim // 2
    for t in range(x.shape[0]):
        c = cos[start + t]
        s = sin[start + t]
        for h in range(heads):
            base = h * head_dim
            for i in range(half):
                x1 = x[t, base + i]
                x2 = x[t, base + half + i]
                out[t, base + i] = x1 * c[i] + (-x2) * s[i]
                out[t, base + half + i] = x2 * c[i] + x1 * s[i]


def apply_rope(x: np.ndarray, *, heads: int, head_dim: int, cos: np.ndarray, sin: np.ndarray,
               start: int) -> np.ndarray:
    """Rotate each head of x (T, heads*head_dim) at positions start..start+T-1, half-split pairs.

    Pairs are (i, i + hd/2): ``y1 = fl(fl(x1*c) + fl(-x2*s))``, ``y2 = fl(fl(x2*c) + fl(x1*s))``,
    exactly HF's ``q*cos + rotate_half(q)*sin``.
    """
    out = np.empty_like(x)
    _rope_kernel(x, heads, head_dim, cos, sin, start, out)
    return out


@nb.njit(cache=True, parallel=True)
def _attention_kernel(q, k_cache, v_cache, start, heads, kv_heads, head_dim, scaling, out):
    tokens = q.shape[0]
    group = heads // kv_heads
    for job in nb.prange(tokens * heads):
        t = job // heads
        h = job % heads
        g = h // group
        n_keys = start + t + 1  # causal: keys 0..start+t
        qv = q[t, h * head_dim:(h + 1) * head_dim]
        scores = np.empty(n_keys, dtype=np.float32)
        best = np.float32(-np.inf)
        for j in range(n_keys):
            sc = _dot_f32(qv, k_cache[j, g], head_dim) * scaling
            scores[j] = sc
            if sc > best:
                best = sc
        total = np.float32(0.0)
        for j in range(n_keys):
            e = np.float32(math.exp(np.float64(scores[j] - best)))
            scores[j] = e
            total += e
        acc = np.zeros(head_dim, dtype=np.float32)
        for j in range(n_keys):
            p = scores[j] / total
            vrow = v_cache[j, g]
            for d in range(head_dim):
                acc[d] += p * vrow[d]
        for d in range(head_dim):
            out[t, h * head_dim + d] = acc[d]


def attention(q: np.ndarray, k_cache: np.ndarray, v_cache: np.ndarray, *, start: int, heads: int,
              kv_heads: int, head_dim: int) -> np.ndarray:
    """Causal GQA attention of T new queries against the cache (eager softmax in fp32).

    q is (T, heads*head_dim) after RoPE; k_cache and v_cache are (P, kv_heads, head_dim) holding
    positions 0..start+T-1. Query head h reads KV head ``h // (heads // kv_heads)``. Per query:
    ``score_j = fl(dot16(q, k_j) * fl32(head_dim**-0.5))``; ``e_j = fl32(exp(float64(score_j - max)))``;
    ``total`` = sequential fp32 sum of e_j in key order; ``p_j = fl(e_j / total)``; output
    ``o[d]`` = sequential fp32 sum over keys j of ``fl(p_j * v_j[d])``.
    """
    out = np.empty((q.shape[0], heads * head_dim), dtype=np.float32)
    scaling = np.float32(head_dim ** -0.5)
    _attention_kernel(q, k_cache, v_cache, start, heads, kv_heads, head_dim, scaling, out)
    return out


@nb.njit(cache=True)
def _relu2_gate_kernel(gate, up, out):
    for t in range(gate.shape[0]):
        for i in range(gate.shape[1]):
            g = gate[t, i]
            if g < 0:
                g = np.float32(0.0)
            out[t, i] = (g * g) * up[t, i]


def relu2_gate(gate: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``fl(fl(relu(gate)^2) * up)`` elementwise, fp32 (HF ``square(relu(g)) * u``)."""
    out = np.empty_like(gate)
    _relu2_gate_kernel(gate, up, out)
    return out
