"""T-MAC's NEON tbl kernel (kernels/tmac/neon.py): lossy as published, its registered error is what
`kernels.verify.measure_error` measures, its weight vectors are a reordering of the "tmac" format's
nibbles, and its arithmetic matches the AVX2 twin's (both scale and add in fp32 in group order)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import registry
from kernels.tmac import neon as tmac
from kernels.tmac.tables import build_tables
from kernels.verify import measure_error
from workbench.formats import get_format
from workbench.formats.tmac import plane_indices
from workbench.reference import ternary_matvec


def test_registered_lossy_with_its_measured_error():
    spec = registry.get("tmac", "neon")
    assert (spec.weight_format, spec.exactness, spec.params) == ("tmac", "lossy", {"act_group": 64})
    assert spec.error is tmac.MEASURED_ERROR and spec.error["max_abs_error"] > 0
    ops = {ins.op for _, ins in spec.build(32, 64).instructions()}
    assert {"tbl1_16b", "saddl_8h", "saddl2_8h", "scvtf_4s", "fmul_4s", "fadd_4s"} <= ops
    with pytest.raises(ValueError, match="M=16 is not a positive multiple of 32"):
        spec.build(16, 64)


@pytest.mark.slow
def test_registered_error_is_reproduced():
    fresh = measure_error(registry.get("tmac", "neon"), tokens=1, seed=1)
    assert 0 < fresh["relative_rms_error"] < 0.02                   # same order as the registered 0.0097
    assert fresh["max_abs_error"] <= 2 * tmac.MEASURED_ERROR["max_abs_error"]


def test_tile_weights_is_a_nibble_reordering():
    rng = np.random.default_rng(0)
    codes = rng.integers(-1, 2, (32, 64)).astype(np.int8)
    tiled = tmac.tile_weights(get_format("tmac").pack(codes, gamma=1.0), 32, 64).reshape(2, 16, 16)
    idx = plane_indices(codes)                                      # [row, plane, group]
    for tile, group, lane in [(0, 0, 0), (1, 15, 7), (0, 9, 15)]:
        byte = int(tiled[tile, group, lane])
        assert byte & 0x0F == idx[16 * tile + lane, 0, group] and byte >> 4 == idx[16 * tile + lane, 1, group]


def test_equals_the_avx2_twin_and_stays_close_to_exact():
    rng = np.random.default_rng(3)
    codes = rng.integers(-1, 2, (64, 512)).astype(np.int8)
    q = rng.integers(-100, 101, 512).astype(np.int8)
    got = registry.run(registry.get("tmac", "neon"), codes, q)
    assert np.array_equal(got, registry.run(registry.get("tmac", "avx2"), codes, q))
    exact = ternary_matvec(q[None], codes)[0]
    qlut, ls = build_tables(q, 64)
    # each table entry is off by at most half a step of its group scale: s = T0 + 2 T1 by 1.5 steps per
    # group, y = s * ls / 2 by 0.75 ls per group of 4 weights (plus fp32 rounding, far below 1)
    assert np.abs(got - exact).max() <= 0.75 * float(ls.max()) * 512 / 4 + 1
