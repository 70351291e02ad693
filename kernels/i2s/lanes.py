"""The int16 lane model of bitnet.cpp's I2_S: which products land in which lane, and a probe of them.

Kernel layer, I2_S family (research/kernels.md §1.2). On AVX2 the kernel multiplies unsigned
codes c = t + 1 (0..2) by int8 activations with vpmaddubsw, which adds the products of
neighbouring bytes 2L and 2L + 1 into int16 lane L (the maddubs pair), and adds the four
32-element slices s of each 128-weight block into the same 16 lanes with wrapping vpaddw; every
`blocks_per_chunk` blocks the lanes are widened to int32 and restart. So lane L of a chunk sums
c * q over the elements ``block * 128 + 32 s + 2 L + e`` (s < 4, e < 2) of the chunk's blocks.
`LANE_MODELS` hands this to the generic search (`kernels.search.adversarial`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from isa_models.core.execute import execute
from kernels.i2s import avx2
from kernels.search.lanes import Lane, LaneModel, check_row

__all__ = ["LANE_MODELS", "AVX2_LANES", "lanes", "code_weight", "probe", "INT16_MIN", "INT16_MAX"]

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
    codes_row, q = np.asarray(codes_row), np.asarray(q)
    check_row(AVX2_LANES, codes_row, q)
    k = codes_row.shape[0]
    tile = np.zeros((avx2.ROWS, k), np.int8)
    tile[0] = codes_row
    out = execute(_probe_program(k, blocks_per_chunk), avx2.prepare(tile, q, blocks_per_chunk=blocks_per_chunk))
    held = np.asarray(out["lanes"]).view("<i2").reshape(avx2.ROWS, -1, avx2.LANES)[0]
    return held.reshape(-1).astype(np.int64)


AVX2_LANES = LaneModel(
    kernel="i2s", isa="avx2", lo=INT16_MIN, hi=INT16_MAX, code_weight=code_weight, lanes=lanes, probe=probe,
    description="int16 lane L of a chunk sums (t+1)*q over elements 128b + 32s + 2L + e (s < 4, e < 2) of "
                "its blocks: vpmaddubsw pairs, four slices added with wrapping vpaddw")

#: the lane models of the I2_S family, one per ISA (found by `kernels.search.lanes.lane_model`)
LANE_MODELS = (AVX2_LANES,)
