"""TL1: bitnet.cpp's ARM NEON LUT packing, one 4-bit index per weight pair.

Ground-truth layer. Pair p of a row (weights t[2p], t[2p+1]) becomes idx = 3*t[2p] + t[2p+1] + 4
in [0, 8]; two indices share a byte (top nibble first). Bytes are ordered for the kernel's tiling
(BM, BK, bm) exactly as bitnet.cpp's numpy `process_tl1` permutation; the fp32 scale follows at
byte M*K/4 in a 32-byte tail (research/kernels.md §1.1, §1.3, §5.3).
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (SCALE_TAIL_BYTES, Format, FormatError, check_codes,
                                       check_data, check_gamma, read_scale, scale_tail)
from workbench.formats._tiling import default_tiling

__all__ = ["TL1", "nbytes", "pack", "unpack", "check_layout", "pair_indices", "byte_map"]


def check_layout(m: int, k: int, BM: int, BK: int, bm: int, who: str = "tl1") -> int:
    """Validate (M, K, BM, BK, bm) for TL1 and return by = 256 / bm (weights per compute step).

    Constraints (bitnet.cpp codegen_tl1.py asserts): bm in {32, 64}, BM % bm == 0, M % BM == 0,
    K % BK == 0, BK % by == 0.
    """
    if bm not in (32, 64):
        raise FormatError(f"{who}: bm={bm} must be 32 or 64")
    if BM <= 0 or BM % bm:
        raise FormatError(f"{who}: BM={BM} is not a positive multiple of bm={bm}")
    by = 256 // bm
    if BK <= 0 or BK % by:
        raise FormatError(f"{who}: BK={BK} is not a positive multiple of by=256/bm={by}")
    if m <= 0 or m % BM:
        raise FormatError(f"{who}: M={m} is not a positive multiple of BM={BM}")
    if k <= 0 or k % BK:
        raise FormatError(f"{who}: K={k} is not a positive multiple of BK={BK}")
    return by


def nbytes(m: int, k: int, *, BM: int, BK: int, bm: int) -> int:
    """Packed size: M*K/4 index bytes plus the 32-byte scale tail."""
    check_layout(m, k, BM, BK, bm)
    return m * k // 4 + SCALE_TAIL_BYTES


def pair_indices(codes: np.ndarray) -> np.ndarray:
    """idx[r, p] = 3*t[r, 2p] + t[r, 2p+1] + 4, uint8 [M, K/2]."""
    t = codes.astype(np.int16).reshape(codes.shape[0], -1, 2)
    return (3 * t[..., 0] + t[..., 1] + 4).astype(np.uint8)


def _split_shape(m: int, k: int, BM: int, BK: int, bm: int) -> tuple[int, ...]:
    by = 256 // bm
    # rows r = ((i*(BM/bm) + s)*(bm/16) + h)*16 + L; pairs p = ((b*(BK/by) + j)*(by/4) + q)*2 + n
    return (m // BM, BM // bm, bm // 16, 16, k // BK, BK // by, by // 4, 2)


# Axis order of the byte stream: (i, b, s, j, h, q, L, n) taken from the split (i, s, h, L, b, j, q, n).
_STREAM_AXES = (0, 4, 1, 5, 2, 6, 3, 7)


def pack(codes, *, gamma, BM: int, BK: int, bm: int) -> np.ndarray:
    """Pack ternary codes [M, K] and gamma into TL1 bytes for tiling (BM, BK, bm).

    Byte order (the loop nest of the kernel, outermost first): row tile i < M/BM, K block
    b < K/BK, sub-tile s < BM/bm, step j < BK/by (by = 256/bm weights per step), 16-row group
    h < bm/16, pair group q < by/4, lane L < 16. That byte holds row i*BM + s*bm + h*16 + L; its
    top nibble is pair P = b*BK/2 + j*by/2 + 2q and its bottom nibble pair P + 1 (pair P covers
    columns 2P, 2P+1). For bm = 32 a 16-byte vector m = 2h + q of step j serves rows 16h.. and
    pairs 4j + 2q, 4j + 2q + 1; for bm = 64 vector m = h serves rows 16m.. and pairs 2j, 2j + 1.
    """
    who = "tl1.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_layout(m, k, BM, BK, bm, who)
    idx = pair_indices(t).reshape(_split_shape(m, k, BM, BK, bm)).transpose(_STREAM_AXES)
    body = (idx[..., 0] << 4) | idx[..., 1]
    return np.concatenate([body.reshape(-1).astype(np.uint8), scale_tail(g)])


def unpack(data, m: int, k: int, *, BM: int, BK: int, bm: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32). An index above 8 is an error."""
    who = "tl1.unpack"
    raw = check_data(data, nbytes(m, k, BM=BM, BK=BK, bm=bm), who, m, k)
    body = raw[:m * k // 4]
    nib = np.stack([body >> 4, body & 0x0F], axis=-1)  # [byte, n]
    if (nib > 8).any():
        pos, n = np.argwhere(nib > 8)[0]
        raise FormatError(f"{who}: index {int(nib[pos, n])} > 8 in the "
                          f"{'top' if n == 0 else 'bottom'} nibble of byte {pos}")
    split = _split_shape(m, k, BM, BK, bm)
    stream_shape = tuple(split[a] for a in _STREAM_AXES)
    idx = nib.reshape(stream_shape).transpose(np.argsort(_STREAM_AXES)).reshape(m, k // 2)
    w0 = idx.astype(np.int8) // 3 - 1
    w1 = idx.astype(np.int8) % 3 - 1
    codes = np.stack([w0, w1], axis=-1).reshape(m, k)
    return codes, read_scale(raw, m * k // 4, who)


def byte_map(m: int, k: int, *, BM: int, BK: int, bm: int) -> np.ndarray:
    """For every body byte: (row, top pair, bottom pair), int64 [M*K/4, 3]; for kernel authors."""
    check_layout(m, k, BM, BK, bm)
    rows = np.broadcast_to(np.arange(m)[:, None], (m, k // 2))
    pairs = np.broadcast_to(np.arange(k // 2)[None, :], (m, k // 2))
    split = _split_shape(m, k, BM, BK, bm)
    r = rows.reshape(split).transpose(_STREAM_AXES)[..., 0].reshape(-1)
    p = pairs.reshape(split).transpose(_STREAM_AXES)
    return np.stack([r, p[..., 0].reshape(-1), p[..., 1].reshape(-1)], axis=1)


TL1 = Format(
    name="tl1",
    description="bitnet.cpp TL1 (ARM LUT): index 3*w0+w1+4 per weight pair, two per byte, "
                "process_tl1 byte order for (BM, BK, bm), fp32 scale tail (kernels.md §1.3, §5.3)",
    bits_per_weight=2.0,
    nbytes=nbytes,
    pack=pack,
    unpack=unpack,
    layout_keys=("BM", "BK", "bm"),
    default_layout=lambda m, k: default_tiling("tl1", m, k),
)
