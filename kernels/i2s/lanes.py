"""The int16 lane model of bitnet.cpp's I2_S: which products land in which lane, and a probe of them.

Kernel layer, I2_S family (research/kernels.md §1.2). On AVX2 the kernel multiplies unsigned
codes c = t + 1 (0..2) by int8 activations with vpmaddubsw, which adds the products of
neighbouring bytes 2L and 2L + 1 into int16 lane L (the maddubs pair), and adds the four
32-element slices s of each 128-weight block into the same 16 lanes with wrapping vpaddw; every
`blocks_per_chunk` blocks the lanes are widened to int32 and restart. So lane L of a chunk sums
c * q over the elements ``block * 128 + 32 s + 2 L + e`` (s < 4, e < 2) of the chunk's blocks.
On NEON without dotprod (``i2s_mlal``, `kernels.i2s.neon`) smlal/smlal2 add the products of the
low and high 8 bytes of each 16-element slice s of a 64-weight block into int16x8 lanes, so lane
L sums the elements ``block * 64 + 16 s + 8 h + L`` (s < 4, h < 2). `LANE_MODELS` hands both to
the generic search (`kernels.search.adversarial`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from isa_models.core.execute import execute
from kernels.i2s import avx2, neon
from kernels.search.lanes import Lane, LaneModel, check_row

__all__ = ["LANE_MODELS", "AVX2_LANES", "NEON_MLAL_LANES", "lanes", "lanes_neon", "code_weight", "probe",
           "probe_neon", "INT16_MIN", "INT16_MAX"]

INT16_MIN, INT16_MAX = -32768, 32767
SLICES = 4        # 32-element slices of a 128-weight block, one vpmaddubsw each
PAIR = 2          # vpmaddubsw adds the products of bytes 2L and 2L + 1 into int16 lane L


def code_weight(codes: np.ndarray) -> np.ndarray:
    """The unsigned code c = t + 1 (0, 1, 2) that multiplies an activation (int64)."""
    return np.asarray(codes).astype(np.int64) + 1


def lanes(K: int, *, blocks_per_chunk: int = 32) -> list[Lane]:
    """The 16 int16 lanes of every chunk of a row of length K, chunk by chunk (`probe` order)."""
    avx2.check_shape(avx2.ROWS, K, blocks_per_chunk=blocks_per_chunk)
    out = []
    for ci, (first, count) in enumerate(avx2._chunks(K, blocks_per_chunk)):
        blocks = np.arange(first, first + count)[:, None, None]
        for lane in range(avx2.LANES):
            offsets = (32 * np.arange(SLICES))[None, :, None] + PAIR * lane + np.arange(PAIR)[None, None, :]
            out.append(Lane(ci, lane, (blocks * avx2.QK + offsets).reshape(-1).astype(np.int64)))
    return out


@lru_cache(maxsize=8)
def _probe_program(K: int, blocks_per_chunk: int):
    return avx2.build(avx2.ROWS, K, blocks_per_chunk=blocks_per_chunk, probe_lanes=True)


def probe(codes_row, q, *, blocks_per_chunk: int = 32) -> np.ndarray:
    """Run I2_S functionally on one row (in a tile of 4) with its lanes stored before widening.

    Returns
    -------
    int64 [chunks * 16]: what each int16 lane held (wrapped), in `lanes` order.
    """
    return _probe_row(AVX2_LANES, _probe_program, avx2.prepare, avx2.ROWS, avx2.LANES, codes_row, q,
                      blocks_per_chunk=blocks_per_chunk)


def _probe_row(model: LaneModel, program, prepare, rows: int, n_lanes: int, codes_row, q, *,
               blocks_per_chunk: int) -> np.ndarray:
    """Run ``program(K, blocks_per_chunk)`` (built with probe_lanes) on `codes_row` as row 0 of a tile
    of `rows` rows; the int16 lanes (`n_lanes` per chunk) row 0 held before each widening, as int64."""
    codes_row, q = np.asarray(codes_row), np.asarray(q)
    check_row(model, codes_row, q)
    k = codes_row.shape[0]
    tile = np.zeros((rows, k), np.int8)
    tile[0] = codes_row
    out = execute(program(k, blocks_per_chunk), prepare(tile, q, blocks_per_chunk=blocks_per_chunk))
    held = np.asarray(out["lanes"]).view("<i2").reshape(rows, -1, n_lanes)[0]
    return held.reshape(-1).astype(np.int64)


AVX2_LANES = LaneModel(
    kernel="i2s", isa="avx2", lo=INT16_MIN, hi=INT16_MAX, code_weight=code_weight, lanes=lanes, probe=probe,
    description="int16 lane L of a chunk sums (t+1)*q over elements 128b + 32s + 2L + e (s < 4, e < 2) of "
                "its blocks: vpmaddubsw pairs, four slices added with wrapping vpaddw")



def lanes_neon(K: int, *, blocks_per_chunk: int = 32) -> list[Lane]:
    """The 8 int16 lanes of every chunk of ``i2s_mlal`` on a row of length K (`probe_neon` order)."""
    neon.check_shape_mlal(neon.ROWS_MLAL, K, blocks_per_chunk=blocks_per_chunk)
    offsets = (16 * np.arange(SLICES))[:, None] + neon.LANES * np.arange(2)[None, :]     # [s, h]
    out = []
    for ci, (first, count) in enumerate(neon.chunks(K, blocks_per_chunk)):
        blocks = np.arange(first, first + count)[:, None, None]
        for lane in range(neon.LANES):
            out.append(Lane(ci, lane, (blocks * neon.QK + offsets[None] + lane).reshape(-1).astype(np.int64)))
    return out


@lru_cache(maxsize=8)
def _probe_program_neon(K: int, blocks_per_chunk: int):
    return neon.build_mlal(neon.ROWS_MLAL, K, blocks_per_chunk=blocks_per_chunk, probe_lanes=True)


def probe_neon(codes_row, q, *, blocks_per_chunk: int = 32) -> np.ndarray:
    """Run ``i2s_mlal`` functionally on one row (in a tile of 4) with its lanes stored before widening.

    Returns
    -------
    int64 [chunks * 8]: what each int16 lane held (wrapped), in `lanes_neon` order.
    """
    return _probe_row(NEON_MLAL_LANES, _probe_program_neon, neon.prepare, neon.ROWS_MLAL, neon.LANES, codes_row,
                      q, blocks_per_chunk=blocks_per_chunk)


NEON_MLAL_LANES = LaneModel(
    kernel="i2s_mlal", isa="neon", lo=INT16_MIN, hi=INT16_MAX, code_weight=code_weight, lanes=lanes_neon,
    probe=probe_neon,
    description="int16 lane L of a chunk sums (t+1)*q over elements 64b + 16s + 8h + L (s < 4, h < 2) of its "
                "blocks: smlal (h = 0) and smlal2 (h = 1), wrapping")

#: the lane models of the I2_S family, one per kernel and ISA (found by `kernels.search.lanes.lane_model`)
LANE_MODELS = (AVX2_LANES, NEON_MLAL_LANES)
