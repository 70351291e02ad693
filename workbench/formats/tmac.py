"""T-MAC bit planes (g = 4): ternary weights as two 1-bit planes of 4-bit LUT indices.

Ground-truth layer. As in T-MAC's `preprocess_weights` (research/kernels.md §2.1, §5.6): the code
is u = t + 2 in {1, 2, 3} (int2 with bias 2^(bits-1)); plane j holds bit j of u; each plane is cut
along K into groups of g = 4 and group q's index is sum_i bit_j(u[4q+i]) << i. T-MAC then applies
a tuned tiling permutation (bm, kfactor, simd_n_in, simd_n_out) for its TVM kernels; this module
does NOT: it stores the planes in the plain (M, bits, K/g) order of T-MAC's first preprocessing
step ("bit planes act like extra rows"), two group indices per byte, low nibble first (T-MAC also
puts the first of two indices in the low nibble, `<< (ng * g)`). A 4-byte fp32 gamma follows.
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (Format, FormatError, check_codes, check_data, check_gamma,
                                       check_multiple)

__all__ = ["TMAC", "G", "BITS", "nbytes", "pack", "unpack", "plane_indices"]

G = 4      # weights per LUT index
BITS = 2   # bit planes


def nbytes(m: int, k: int) -> int:
    """M rows x 2 planes x K/8 bytes, plus 4 bytes of fp32 gamma."""
    check_multiple(m, 1, "M", "tmac")
    check_multiple(k, 2 * G, "K", "tmac")
    return m * k // 4 + 4


def plane_indices(codes: np.ndarray) -> np.ndarray:
    """Index array uint8 [M, 2, K/4]: [r, j, q] = sum_i ((t[r, 4q+i] + 2) >> j & 1) << i."""
    m, k = codes.shape
    u = (codes.astype(np.uint8) + 2).reshape(m, 1, k // G, G)
    bits = (u >> np.arange(BITS, dtype=np.uint8).reshape(1, BITS, 1, 1)) & 1
    return (bits << np.arange(G, dtype=np.uint8)).sum(axis=-1).astype(np.uint8)


def pack(codes, *, gamma) -> np.ndarray:
    """Byte (r*2 + j)*K/8 + p holds plane j of row r: group 2p in bits 3:0, group 2p+1 in 7:4;
    after the M*K/4 plane bytes comes fp32 gamma (little-endian)."""
    who = "tmac.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_multiple(k, 2 * G, "K", who)
    idx = plane_indices(t).reshape(m, BITS, k // (2 * G), 2)
    body = (idx[..., 0] | (idx[..., 1] << 4)).reshape(-1).astype(np.uint8)
    return np.concatenate([body, np.frombuffer(np.asarray(g, "<f4").tobytes(), np.uint8)])


def unpack(data, m: int, k: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32).

    Errors: a weight whose two plane bits give u = 0 (t = -2, not ternary).
    """
    who = "tmac.unpack"
    raw = check_data(data, nbytes(m, k), who, m, k)
    body = raw[:m * k // 4].reshape(m, BITS, k // (2 * G), 1)
    idx = np.concatenate([body & 0x0F, body >> 4], axis=-1).reshape(m, BITS, k // G, 1)
    bits = (idx >> np.arange(G, dtype=np.uint8)) & 1              # [m, j, q, i]
    u = (bits[:, 0] | (bits[:, 1] << 1)).reshape(m, k)
    if (u == 0).any():
        r, c = np.argwhere(u == 0)[0]
        raise FormatError(f"{who}: code 0 (t = -2) at row {r} col {c}: both plane bits clear, "
                          "not a ternary weight")
    gamma = np.frombuffer(raw[m * k // 4:].tobytes(), "<f4")[0]
    return (u.astype(np.int8) - 2), check_gamma(gamma, who)


TMAC = Format(
    name="tmac",
    description="T-MAC bit planes, g=4: u=t+2, planes (M, 2, K/4) of 4-bit indices, two per byte "
                "low nibble first, + fp32 gamma trailer (kernels.md §2.1, §5.6)",
    bits_per_weight=2.0,
    nbytes=nbytes,
    pack=pack,
    unpack=unpack,
)
