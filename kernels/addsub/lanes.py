"""The int8 lane model of the vpsignb add/subtract kernel: one product per lane, and a probe of it.

Kernel layer, addsub family. On AVX2 (`kernels/addsub/avx2.py`) vpsignb(q, t) puts t[k] * q[k]
into int8 lane k before any widening, so each lane holds one product and must stay in
[-128, 127]: t = -1 with q = -128 gives +128, which wraps. `LANE_MODELS` hands this to the
generic adversarial search (`kernels.search.adversarial`); `probe` reads what the lanes held from
a functional run with the lanes stored (`build(probe_lanes=True)`). The NEON kernel is exact (no
narrow product lane: and/bic select, sadalp widens) and has no lane model.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from isa_models.core.execute import execute
from kernels.addsub import avx2
from kernels.search.lanes import Lane, LaneModel, check_row

__all__ = ["LANE_MODELS", "AVX2_LANES", "lanes", "code_weight", "probe", "INT8_MIN", "INT8_MAX"]

INT8_MIN, INT8_MAX = -128, 127


def code_weight(codes: np.ndarray) -> np.ndarray:
    """The factor a code puts on its activation in a lane: the signed weight t itself (int64)."""
    return np.asarray(codes).astype(np.int64)


def lanes(K: int) -> list[Lane]:
    """One int8 lane per element k of a row (vpsignb's output byte), in element order."""
    avx2.check_shape(avx2.ROWS, K)
    return [Lane(0, k, np.array([k], np.int64)) for k in range(K)]


@lru_cache(maxsize=8)
def _probe_program(K: int):
    return avx2.build(avx2.ROWS, K, probe_lanes=True)


def probe(codes_row, q) -> np.ndarray:
    """Run the kernel functionally on one row (in a tile of 4) with its vpsignb results stored.

    Returns
    -------
    int64 [K]: what each int8 lane held, in `lanes` order.
    """
    codes_row, q = np.asarray(codes_row), np.asarray(q)
    check_row(AVX2_LANES, codes_row, q)
    k = codes_row.shape[0]
    tile = np.zeros((avx2.ROWS, k), np.int8)
    tile[0] = codes_row
    out = execute(_probe_program(k), avx2.prepare(tile, q))
    return np.asarray(out["lanes"]).view(np.int8)[:k].astype(np.int64)


AVX2_LANES = LaneModel(
    kernel="addsub", isa="avx2", lo=INT8_MIN, hi=INT8_MAX, code_weight=code_weight, lanes=lanes, probe=probe,
    description="int8 lane k holds vpsignb(q, t)[k] = t[k] * q[k], before the vpxor/vpsadbw widening")

#: the lane models of the addsub family (found by `kernels.search.lanes.lane_model`)
LANE_MODELS = (AVX2_LANES,)
