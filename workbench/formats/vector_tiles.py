"""HVX weight layouts: 128-byte vectors that each feed one lookup or one multiply per byte lane.

Ground-truth layer. bitnet.cpp and ggml have no ternary HVX kernel; ggml-hexagon repacks every
weight type it runs into HVX tiles at load time (research/kernels.md §2.6) and T-MAN preprocesses
its bit planes into a vlut16 layout (§2.5). Two such layouts, each with exact `pack`/`unpack`:

- ``tman``: T-MAN's bit-serial layout (u = t + 2, planes of 4-bit group indices as in `tmac`).
  Per 128-row chunk c, per 16 columns g (four groups of 4), per plane j: two vectors; vector h
  holds group 4g + 2h in the low nibbles and 4g + 2h + 1 in the high nibbles. Byte p = 4i + s of
  a vector belongs to row 128c + 32s + i, so vlut16's even/odd split and the widening adds of
  T-MAN's hvx_tbl leave the int32 sums of rows 32s + i in natural order (kernels/tman/hvx.py).
- ``rows128``: codes c = t + 1 in 2-bit fields; per 128-row tile T and column step g (4 columns),
  one vector: byte 4i + s, field f (bits 2f+1:2f) = row 128T + 32f + i, column
  128 (g // 32) + 4 ((g + i) % 32) + s. Word i of a vrmpy then sums row 32f + i against four
  activations, and the skew (g + i) lets the activation vector be one rotation (vror by 4g) of an
  aligned 128-activation vector (kernels/hvx_common.py).

Both end with the fp32 gamma in a 32-byte tail.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from workbench.formats._common import (SCALE_TAIL_BYTES, Format, FormatError, check_codes, check_data,
                                       check_gamma, check_multiple, read_scale, scale_tail)
from workbench.formats.tmac import plane_indices

__all__ = ["TMAN", "ROWS128", "tman_nbytes", "tman_pack", "tman_unpack", "rows128_nbytes", "rows128_pack",
           "rows128_unpack", "rows128_positions", "TILE_ROWS"]

TILE_ROWS = 128    # rows per chunk / tile: one byte lane per row-slice of a 128-byte vector


def _check_shape(m: int, k: int, kblock: int, who: str) -> None:
    check_multiple(m, TILE_ROWS, "M", who)
    check_multiple(k, kblock, "K", who)


# tman -------------------------------------------------------------------------------------------
def tman_nbytes(m: int, k: int) -> int:
    """M x 2 planes x K/8 index bytes, plus the 32-byte gamma tail."""
    _check_shape(m, k, 16, "tman")
    return m * k // 4 + SCALE_TAIL_BYTES


def _tman_rows() -> np.ndarray:
    """Row within a 128-row chunk of byte p = 4i + s: 32s + i."""
    p = np.arange(TILE_ROWS)
    return 32 * (p % 4) + p // 4


def tman_pack(codes, *, gamma) -> np.ndarray:
    """Bytes [c, g, plane, h, p]: p = 4i + s is row 128c + 32s + i; low nibble group 4g + 2h,
    high nibble group 4g + 2h + 1 (indices of `tmac.plane_indices`, u = t + 2)."""
    who = "tman.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    _check_shape(m, k, 16, who)
    idx = plane_indices(t)                                            # [M, 2, K/4]
    idx = idx.reshape(m // TILE_ROWS, TILE_ROWS, 2, k // 16, 2, 2)    # [c, row, j, g, h, nib]
    idx = idx[:, _tman_rows()]                                        # row -> byte lane p
    body = idx[..., 0] | (idx[..., 1] << 4)                           # [c, p, j, g, h]
    body = body.transpose(0, 3, 2, 4, 1)                              # [c, g, j, h, p]
    return np.concatenate([body.reshape(-1).astype(np.uint8), scale_tail(g)])


def tman_unpack(data, m: int, k: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `tman_pack`; a weight whose plane bits give u = 0 (t = -2) is an error."""
    who = "tman.unpack"
    _check_shape(m, k, 16, who)
    raw = check_data(data, tman_nbytes(m, k), who, m, k)
    body = raw[:m * k // 4].reshape(m // TILE_ROWS, k // 16, 2, 2, TILE_ROWS)      # [c, g, j, h, p]
    nib = np.stack([body & 0x0F, body >> 4], axis=-1)                            # [c, g, j, h, p, n]
    nib = nib.transpose(0, 4, 2, 1, 3, 5)                                        # [c, p, j, g, h, n]
    idx = np.empty_like(nib)
    idx[:, _tman_rows()] = nib
    idx = idx.reshape(m, 2, k // 4)                                              # [row, j, group]
    bits = (idx[..., None] >> np.arange(4, dtype=np.uint8)) & 1                  # [row, j, group, i]
    u = (bits[:, 0] | (bits[:, 1] << 1)).reshape(m, k)
    if (u == 0).any():
        r, col = np.argwhere(u == 0)[0]
        raise FormatError(f"{who}: code 0 (t = -2) at row {r} col {col}: both plane bits clear")
    return u.astype(np.int8) - 2, read_scale(raw, m * k // 4, who)


# rows128 ----------------------------------------------------------------------------------------
def rows128_nbytes(m: int, k: int) -> int:
    """M*K/4 code bytes plus the 32-byte gamma tail."""
    _check_shape(m, k, 128, "rows128")
    return m * k // 4 + SCALE_TAIL_BYTES


@lru_cache(maxsize=16)
def rows128_positions(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For one 128-row tile of a K-column matrix: (row, col, field) int64 [K/4, 128, 4] of every
    byte lane (step g, byte 4i + s) and field f."""
    g = np.arange(k // 4).reshape(-1, 1, 1)
    lane = np.arange(128).reshape(1, -1, 1)
    f = np.arange(4).reshape(1, 1, -1)
    i, s = lane // 4, lane % 4
    row = 32 * f + i + 0 * g
    col = 128 * (g // 32) + 4 * ((g % 32 + i) % 32) + s + 0 * f
    return row.astype(np.int64), col.astype(np.int64), np.broadcast_to(f, row.shape).astype(np.int64)


def rows128_pack(codes, *, gamma) -> np.ndarray:
    """Bytes [T, g, 4i + s]: field f = code t + 1 of row 128T + 32f + i, column
    128 (g // 32) + 4 ((g + i) % 32) + s."""
    who = "rows128.pack"
    t = check_codes(codes, who)
    gm = check_gamma(gamma, who)
    m, k = t.shape
    _check_shape(m, k, 128, who)
    row, col, f = rows128_positions(k)
    c = (t.astype(np.uint8) + 1).reshape(m // TILE_ROWS, TILE_ROWS, k)
    fields = c[:, row, col] << (2 * f).astype(np.uint8)                    # [T, K/4, 128, 4]
    body = np.bitwise_or.reduce(fields, axis=-1).astype(np.uint8)
    return np.concatenate([body.reshape(-1), scale_tail(gm)])


def rows128_unpack(data, m: int, k: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `rows128_pack`; a field holding 3 is an error."""
    who = "rows128.unpack"
    _check_shape(m, k, 128, who)
    raw = check_data(data, rows128_nbytes(m, k), who, m, k)
    body = raw[:m * k // 4].reshape(m // TILE_ROWS, k // 4, 128, 1)
    fields = (body >> (2 * np.arange(4, dtype=np.uint8))) & 3                  # [T, K/4, 128, 4]
    if (fields == 3).any():
        pos = int(np.argwhere((fields == 3).any(axis=-1).reshape(-1))[0, 0])
        raise FormatError(f"{who}: code 3 in a 2-bit field of byte {pos} (valid codes are 0, 1, 2)")
    row, col, _ = rows128_positions(k)
    out = np.empty((m // TILE_ROWS, TILE_ROWS, k), np.int8)
    out[:, row, col] = fields.astype(np.int8) - 1
    return out.reshape(m, k), read_scale(raw, m * k // 4, who)


TMAN = Format(
    name="tman",
    description="T-MAN's vlut16 bit-plane layout: u=t+2 planes of 4-bit group indices, per 128-row "
                "chunk x 16 columns x plane two 128-byte vectors (groups 4g+2h | 4g+2h+1 nibbles), "
                "byte 4i+s = row 32s+i; fp32 gamma tail (kernels.md §2.5)",
    bits_per_weight=2.0, nbytes=tman_nbytes, pack=tman_pack, unpack=tman_unpack)

ROWS128 = Format(
    name="rows128",
    description="128-byte vector tiles for 4-byte dot products (vrmpy): codes t+1, one vector per 128 rows x 4 columns, byte 4i+s field f = "
                "row 32f+i, column skewed by the step ((g+i) mod 32) so activations are one vror of an "
                "aligned vector; fp32 gamma tail (this workbench's repack, as ggml's DSP backend repacks its own types)",
    bits_per_weight=2.0, nbytes=rows128_nbytes, pack=rows128_pack, unpack=rows128_unpack)
