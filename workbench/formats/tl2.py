"""TL2: bitnet.cpp's x86 AVX2 LUT packing, 3 weights -> 4-bit magnitude index + 1 sign bit.

Ground-truth layer. Columns [0, three_k) with three_k = floor(K/BK)*BK are cut into triples
(index nibbles + sign bits, 5 bits per 3 weights); the tail [three_k, K) (K mod BK, a multiple of
32) uses TL1-style pair indices with BK2 = 32 (4 bits per 2 weights). The byte and bit order is
that of bitnet.cpp's `preprocess_weights_tl2` for (BM, BK, bm = 32); the fp32 scale sits at the
offset bitnet.cpp's runtime reads it from (research/kernels.md §1.1, §1.4, §5.4). The exact map is
in `pack`'s docstring.
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (SCALE_TAIL_BYTES, Format, FormatError, check_codes,
                                       check_data, check_gamma, read_scale, scale_tail)
from workbench.formats._tiling import default_tiling

__all__ = ["TL2", "nbytes", "pack", "unpack", "check_layout", "split_k", "body_bytes",
           "section_sizes", "ROW_PERM"]

# Inside each 32-byte index vector, byte p holds row ROW_PERM[p] of the 32-row tile: 8-byte chunks
# in the order [0, 2, 1, 3], so AVX2 unpacklo/unpackhi yield rows 0-15 and 16-31.
ROW_PERM = np.array([[0, 2, 1, 3][p // 8] * 8 + p % 8 for p in range(32)])
_TWO_BK = 32  # K block of the 2-weight tail


def split_k(k: int, BK: int) -> tuple[int, int]:
    """(three_k, two_k): columns handled by the 3-weight LUT and by the 2-weight tail."""
    three_k = (k // BK) * BK
    return three_k, k - three_k


def check_layout(m: int, k: int, BM: int, BK: int, bm: int, who: str = "tl2") -> None:
    """Validate TL2's constraints: bm == 32, BM % 32 == 0, M % BM == 0, BK % 24 == 0,
    (K mod BK) % 32 == 0 (bitnet.cpp codegen_tl2.py asserts; BK % 24 makes whole sign vectors)."""
    if bm != 32:
        raise FormatError(f"{who}: bm={bm} must be 32")
    if BM <= 0 or BM % bm:
        raise FormatError(f"{who}: BM={BM} is not a positive multiple of bm={bm}")
    if BK <= 0 or BK % 24:
        raise FormatError(f"{who}: BK={BK} is not a positive multiple of 24")
    if m <= 0 or m % BM:
        raise FormatError(f"{who}: M={m} is not a positive multiple of BM={BM}")
    if k <= 0 or (k % BK) % _TWO_BK:
        raise FormatError(f"{who}: K={k}: K mod BK={BK} is {k % BK}, not a multiple of 32")


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def section_sizes(m: int, k: int, BK: int) -> tuple[int, int, int]:
    """Bytes of (three-part indices, three-part signs, two-part indices)."""
    three_k, two_k = split_k(k, BK)
    return m * three_k // 6, m * three_k // 24, m * two_k // 4


def body_bytes(m: int, k: int, BK: int) -> int:
    """Offset of the fp32 scale: bitnet.cpp's (K-256)*M/3*5/8 + 256*M/2*4/8 (C int arithmetic),
    rounded up to a multiple of 32 (ggml_nbytes and ggml_bitnet_transform_tensor of the fork)."""
    n = _c_div(_c_div((k - 256) * m, 3) * 5, 8) + 256 * m // 2 * 4 // 8
    n += (-n) % 32
    content = sum(section_sizes(m, k, BK))
    if n < content:
        raise FormatError(f"tl2: M={m} K={k} BK={BK}: packed content {content} B exceeds "
                          f"bitnet.cpp's size formula {n} B")
    return n


def nbytes(m: int, k: int, *, BM: int, BK: int, bm: int) -> int:
    """Packed size: `body_bytes` (content, zero padding) plus the 32-byte scale tail."""
    check_layout(m, k, BM, BK, bm)
    return body_bytes(m, k, BK) + SCALE_TAIL_BYTES


# Split of the triple-index array [M, three_k/3]: rows (i, s, r), groups (b, j, n).
def _three_split(m, three_k, BM, BK):
    return (m // BM, BM // 32, 32, three_k // BK, BK // 6, 2)


# Split of the sign array [M, three_k/3]: rows (i, s, half, L), groups (b, kk, jj, n).
def _sign_split(m, three_k, BM, BK):
    return (m // BM, BM // 32, 2, 16, three_k // BK, BK // 24, 4, 2)


# Split of the pair-index array [M, two_k/2]: rows (i, s, r), pairs (b, j, n).
def _two_split(m, two_k, BM):
    return (m // BM, BM // 32, 32, two_k // _TWO_BK, _TWO_BK // 4, 2)


_NIBBLE_AXES = (0, 3, 1, 4, 2, 5)               # -> (i, b, s, j, r, n)
_SIGN_AXES = (0, 4, 1, 5, 3, 6, 7, 2)            # -> (i, b, s, kk, L, jj, n, half)
# bit t = 4*jj + 2*n + half of lane L is stored at bit position 15 - t.
_SIGN_WEIGHTS = (1 << (15 - np.arange(16))).astype(np.uint32)


def _nibble_stream(idx: np.ndarray, split, nbytes_: int) -> np.ndarray:
    x = idx.reshape(split).transpose(_NIBBLE_AXES)            # (i, b, s, j, r, n)
    x = (x[..., 0] << 4) | x[..., 1]                          # (i, b, s, j, r)
    return x[..., ROW_PERM].reshape(nbytes_).astype(np.uint8)


def _nibble_unstream(stream: np.ndarray, split, shape) -> np.ndarray:
    i, s, r, b, j, n = split
    x = np.empty((i, b, s, j, r), dtype=np.uint8)
    x[..., ROW_PERM] = stream.reshape(i, b, s, j, r)
    nib = np.stack([x >> 4, x & 0x0F], axis=-1)               # (i, b, s, j, r, n)
    return nib.transpose(np.argsort(_NIBBLE_AXES)).reshape(shape)


def pack(codes, *, gamma, BM: int, BK: int, bm: int = 32) -> np.ndarray:
    """Pack ternary codes [M, K] and gamma into TL2 bytes for tiling (BM, BK, bm = 32).

    Notation: three_k = floor(K/BK)*BK, two_k = K - three_k; triple g of a row covers columns
    3g, 3g+1, 3g+2 (g < three_k/3) with v = 9*t[3g] + 3*t[3g+1] + t[3g+2], idx = |v| (0..13),
    sign = 1 if v < 0; pair P of the tail covers columns three_k + 2P, +1 with
    idx2 = 3*t0 + t1 + 4 (0..8). ROW_PERM[p] = [0, 2, 1, 3][p // 8] * 8 + p % 8.

    Byte stream, in this order (i < M/BM row tile, s < BM/32 sub-tile, b = K block):

    1. Index vectors, M*three_k/6 bytes: for i, b < three_k/BK, s, j < BK/6 (outermost first),
       32 bytes; byte p holds row R = i*BM + s*32 + ROW_PERM[p] with
       top nibble = idx of triple g = b*BK/3 + 2j, bottom nibble = idx of triple g + 1.
    2. Sign vectors, M*three_k/24 bytes: for i, b, s, kk < BK/24, 32 bytes = 16 little-endian
       uint16 lanes L = 0..15 (lane L at bytes 2L, 2L+1). With G = b*BK/3 + 8*kk and jj = 0..3:
       bit 15-(4jj)   = sign of triple G+2jj,   row i*BM + s*32 + L
       bit 15-(4jj+1) = sign of triple G+2jj,   row i*BM + s*32 + 16 + L
       bit 15-(4jj+2) = sign of triple G+2jj+1, row i*BM + s*32 + L
       bit 15-(4jj+3) = sign of triple G+2jj+1, row i*BM + s*32 + 16 + L
       (sign rows are not permuted).
    3. Tail index vectors, M*two_k/4 bytes: for i, b < two_k/32, s, j < 8, 32 bytes; byte p holds
       row i*BM + s*32 + ROW_PERM[p], top nibble = idx2 of pair P = b*16 + 2j, bottom = pair P+1.
    4. Zeros up to `body_bytes(M, K, BK)`, then a 32-byte tail: fp32 gamma (little-endian) in its
       first 4 bytes, zeros after.

    Worked example: M = 32, K = 96, BM = 32, BK = 96 (three_k = 96, two_k = 0). Row 0 starts
    (+1, 0, -1), (-1, -1, 0): triple 0 has v = 9 - 1 = 8 -> idx 8, sign 0; triple 1 has
    v = -9 - 3 = -12 -> idx 12, sign 1. So byte 0 (index vector j = 0, p = 0 -> row 0) is
    0x8C. Sign vector kk = 0 starts at byte 512 (= 32*96/6); lane 0 is bytes 512-513: bit 15
    (triple 0, row 0) = 0, bit 13 (triple 1, row 0) = 1, so if every other weight is 0 they read
    0x00, 0x20. Row 20 lands in byte p = 12 of each index vector (chunk 2 sits at position 1).
    The body is 992 bytes (bitnet.cpp formula 982, rounded up to 32); gamma is at byte 992; 1024
    bytes in all.
    """
    who = "tl2.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_layout(m, k, BM, BK, bm, who)
    three_k, two_k = split_k(k, BK)
    n_idx, n_sign, n_two = section_sizes(m, k, BK)
    tri = t[:, :three_k].astype(np.int16).reshape(m, three_k // 3, 3)
    v = 9 * tri[..., 0] + 3 * tri[..., 1] + tri[..., 2]
    idx = np.abs(v).astype(np.uint8)
    sign = (v < 0).astype(np.uint32)
    parts = [_nibble_stream(idx, _three_split(m, three_k, BM, BK), n_idx)]
    sx = sign.reshape(_sign_split(m, three_k, BM, BK)).transpose(_SIGN_AXES)
    lanes = (sx.reshape(*sx.shape[:5], 16) * _SIGN_WEIGHTS).sum(axis=-1).astype("<u2")
    parts.append(lanes.reshape(-1).view(np.uint8))
    if two_k:
        pairs = t[:, three_k:].astype(np.int16).reshape(m, two_k // 2, 2)
        idx2 = (3 * pairs[..., 0] + pairs[..., 1] + 4).astype(np.uint8)
        parts.append(_nibble_stream(idx2, _two_split(m, two_k, BM), n_two))
    body = np.zeros(body_bytes(m, k, BK), dtype=np.uint8)
    content = np.concatenate(parts)
    body[:content.size] = content
    return np.concatenate([body, scale_tail(g)])


_TRIPLE_DIGITS = np.array([[d // 9 - 1, d // 3 % 3 - 1, d % 3 - 1] for d in range(27)],
                          dtype=np.int8)  # balanced digits of v + 13


def unpack(data, m: int, k: int, *, BM: int, BK: int, bm: int = 32) -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32).

    Errors: an index nibble above 13 (above 8 in the tail), or a sign bit set on index 0
    (pack never writes -0; accepting it would make the encoding ambiguous).
    """
    who = "tl2.unpack"
    raw = check_data(data, nbytes(m, k, BM=BM, BK=BK, bm=bm), who, m, k)
    three_k, two_k = split_k(k, BK)
    n_idx, n_sign, n_two = section_sizes(m, k, BK)
    codes = np.empty((m, k), dtype=np.int8)
    idx = _nibble_unstream(raw[:n_idx], _three_split(m, three_k, BM, BK), (m, three_k // 3))
    if (idx > 13).any():
        r, g = np.argwhere(idx > 13)[0]
        raise FormatError(f"{who}: index {int(idx[r, g])} > 13 for row {r} triple {g}")
    lanes = raw[n_idx:n_idx + n_sign].view("<u2").astype(np.uint32)
    sp = _sign_split(m, three_k, BM, BK)
    stream_shape = tuple(sp[a] for a in _SIGN_AXES)
    bits = ((lanes[:, None] & _SIGN_WEIGHTS[None, :]) != 0).astype(np.int8)
    sign = bits.reshape(stream_shape).transpose(np.argsort(_SIGN_AXES)).reshape(m, three_k // 3)
    if (sign.astype(bool) & (idx == 0)).any():
        r, g = np.argwhere(sign.astype(bool) & (idx == 0))[0]
        raise FormatError(f"{who}: sign bit set on index 0 for row {r} triple {g}")
    v = np.where(sign == 1, -idx.astype(np.int16), idx.astype(np.int16))
    codes[:, :three_k] = _TRIPLE_DIGITS[v + 13].reshape(m, three_k)
    if two_k:
        start = n_idx + n_sign
        idx2 = _nibble_unstream(raw[start:start + n_two], _two_split(m, two_k, BM), (m, two_k // 2))
        if (idx2 > 8).any():
            r, p = np.argwhere(idx2 > 8)[0]
            raise FormatError(f"{who}: tail index {int(idx2[r, p])} > 8 for row {r} pair {p}")
        i2 = idx2.astype(np.int8)
        codes[:, three_k:] = np.stack([i2 // 3 - 1, i2 % 3 - 1], axis=-1).reshape(m, two_k)
    return codes, read_scale(raw, body_bytes(m, k, BK), who)


TL2 = Format(
    name="tl2",
    description="bitnet.cpp TL2 (x86 LUT): |9w0+3w1+w2| nibbles + sign bits per weight triple, "
                "TL1-style pairs for K mod BK, preprocess_weights_tl2 order (kernels.md §1.4, §5.4)",
    bits_per_weight=5 / 3,
    nbytes=nbytes,
    pack=pack,
    unpack=unpack,
    layout_keys=("BM", "BK", "bm"),
    default_layout=lambda m, k: default_tiling("tl2", m, k),
)
