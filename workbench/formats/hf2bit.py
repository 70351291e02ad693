"""Hugging Face BitNet packed 2-bit layout: 4 rows per byte, packed along dim 0.

Ground-truth layer. The checkpoint tensor P is uint8 [M/4, K]; bits 2i+1:2i of P[r, c] hold the
code t+1 of row i*(M/4) + r, column c (i = 0..3): row blocks are concatenated, not interleaved
(research/reference.md §1.4; transformers integrations/bitnet.py pack_weights/unpack_weights).
In a checkpoint the scale is the separate `weight_scale` tensor; this Format's blob appends a
4-byte little-endian fp32 gamma after the M*K/4 code bytes (a workbench convention).
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (Format, FormatError, check_codes, check_data, check_gamma,
                                       check_multiple)

__all__ = ["HF_2BIT", "pack_codes", "unpack_codes", "nbytes", "pack", "unpack"]


def pack_codes(codes) -> np.ndarray:
    """Codes [M, K] (M % 4 == 0) -> the checkpoint's uint8 [M/4, K] tensor."""
    who = "hf_2bit.pack"
    t = check_codes(codes, who)
    m, k = t.shape
    check_multiple(m, 4, "M", who)
    c = (t.astype(np.uint8) + 1).reshape(4, m // 4, k)
    return (c[0] | (c[1] << 2) | (c[2] << 4) | (c[3] << 6)).astype(np.uint8)


def unpack_codes(packed, m: int | None = None) -> np.ndarray:
    """The checkpoint's uint8 [M/4, K] tensor -> codes int8 [M, K]; a field holding 3 is an error."""
    who = "hf_2bit.unpack"
    p = np.asarray(packed)
    if p.dtype != np.uint8 or p.ndim != 2:
        raise FormatError(f"{who}: packed weight must be 2-D uint8 [M/4, K], got {p.dtype} {p.shape}")
    if m is not None and p.shape[0] * 4 != m:
        raise FormatError(f"{who}: packed weight has {p.shape[0]} rows, expected M/4 = {m}/4")
    fields = (p[None] >> np.array([0, 2, 4, 6], dtype=np.uint8)[:, None, None]) & 3
    if (fields == 3).any():
        i, r, c = np.argwhere(fields == 3)[0]
        raise FormatError(f"{who}: code 3 in bits {2 * i + 1}:{2 * i} of byte [{r}, {c}] "
                          "(valid codes are 0, 1, 2)")
    return (fields.astype(np.int8) - 1).reshape(4 * p.shape[0], p.shape[1])


def nbytes(m: int, k: int) -> int:
    """M*K/4 code bytes plus 4 bytes of fp32 gamma."""
    check_multiple(m, 4, "M", "hf_2bit")
    check_multiple(k, 1, "K", "hf_2bit")
    return m * k // 4 + 4


def pack(codes, *, gamma) -> np.ndarray:
    """[M/4, K] packed codes (row-major) followed by fp32 gamma (little-endian)."""
    g = check_gamma(gamma, "hf_2bit.pack")
    body = pack_codes(codes).reshape(-1)
    return np.concatenate([body, np.frombuffer(np.asarray(g, "<f4").tobytes(), np.uint8)])


def unpack(data, m: int, k: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32)."""
    who = "hf_2bit.unpack"
    raw = check_data(data, nbytes(m, k), who, m, k)
    codes = unpack_codes(raw[:m * k // 4].reshape(m // 4, k), m)
    g = np.frombuffer(raw[m * k // 4:].tobytes(), "<f4")[0]
    return codes, check_gamma(g, who)


HF_2BIT = Format(
    name="hf_2bit",
    description="Hugging Face BitNet packed uint8 [M/4, K], 4 row blocks per byte along dim 0, "
                "+ fp32 gamma trailer (reference.md §1.4)",
    bits_per_weight=2.0,
    nbytes=nbytes,
    pack=pack,
    unpack=unpack,
)
