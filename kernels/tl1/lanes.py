"""The int16 lane model of bitnet.cpp's TL1: one lane per row and K block, and a probe of it.

Kernel layer, TL1 family (research/kernels.md §1.3, §0.2). A TL1 int16 accumulator lane holds one
row of a sub-tile and sums, over one K block of BK weights, the looked-up pair entries
E = t[2p] q[2p] + t[2p+1] q[2p+1] of that row: so it sums t * q over the block's BK columns
(`code_weight` is the code itself), then is widened into int32 and restarts. The reachable range
is |lane| <= 128 * BK, inside int16 for BK <= 255: the adversarial search
(`kernels.search.adversarial`) on this model proves no input overflows the preset BK = 64/128.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from isa_models.core.execute import execute
from kernels.search.lanes import Lane, LaneModel, check_row
from kernels.tl1 import neon

__all__ = ["LANE_MODELS", "NEON_LANES", "lanes", "probe", "code_weight", "tile_tiling"]

INT16_MIN, INT16_MAX = -32768, 32767


def code_weight(codes: np.ndarray) -> np.ndarray:
    """A pair entry adds t * q for each of its two weights: the factor is the code t (int64)."""
    return np.asarray(codes).astype(np.int64)


def tile_tiling(K: int, *, BM=None, BK=None, bm=None) -> tuple[int, int, int]:
    """(BM, BK, bm) of the one-tile Program the probe runs: BM rows (default bm, default 32)."""
    rows = BM or bm or 32
    return neon.tiling(rows, K, BM, BK, bm)


def lanes(K: int, *, BM=None, BK=None, bm=None) -> list[Lane]:
    """The int16 lane of row 0 in every K block of a row of length K (`probe` order)."""
    BM, BK, bm = tile_tiling(K, BM=BM, BK=BK, bm=bm)
    neon.check_shape(BM, K, BM=BM, BK=BK, bm=bm)
    return [Lane(blk, 0, np.arange(blk * BK, (blk + 1) * BK, dtype=np.int64)) for blk in range(K // BK)]


@lru_cache(maxsize=8)
def _probe_program(K: int, BM: int, BK: int, bm: int):
    return neon.build(BM, K, BM=BM, BK=BK, bm=bm, probe_lanes=True)


def probe(codes_row, q, *, BM=None, BK=None, bm=None) -> np.ndarray:
    """Run TL1 functionally on one row (row 0 of one tile) with its int16 lanes stored before widening.

    Returns
    -------
    int64 [K / BK]: what row 0's int16 lane held at the end of each K block, in `lanes` order.
    """
    codes_row, q = np.asarray(codes_row), np.asarray(q)
    check_row(NEON_LANES, codes_row, q)
    k = codes_row.shape[0]
    BM, BK, bm = tile_tiling(k, BM=BM, BK=BK, bm=bm)
    tile = np.zeros((BM, k), np.int8)
    tile[0] = codes_row
    out = execute(_probe_program(k, BM, BK, bm), neon.prepare(tile, q, BM=BM, BK=BK, bm=bm))
    held = np.asarray(out["lanes"]).view("<i2").reshape(k // BK, BM)[:, 0]
    return held.astype(np.int64)


NEON_LANES = LaneModel(
    kernel="tl1", isa="neon", lo=INT16_MIN, hi=INT16_MAX, code_weight=code_weight, lanes=lanes, probe=probe,
    description="int16 lane of a row and K block sums its BK/2 pair entries, i.e. t*q over the block's BK "
                "columns; widened to int32 after each block")

#: the lane models of the TL1 family (found by `kernels.search.lanes.lane_model`)
LANE_MODELS = (NEON_LANES,)
