"""kernels/tman/hvx.py: T-MAN's vlut16 kernel is exact; its in-Program tables equal the 16 signed
sums of every group of four activations, in T-MAN's four-tables-per-vector order."""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.core.execute import execute
from kernels import registry
from kernels.tman import hvx
from tests.unit.kernel_checks import assert_exact


@pytest.mark.parametrize("m, k, unroll", [(128, 128, 16), (256, 384, 4), (640, 256, 1)])
def test_exact(m, k, unroll):
    assert_exact("tman", "hvx", m, k, unroll=unroll)


def test_tables_built_in_program():
    k = 256
    q = np.random.default_rng(3).integers(-128, 128, k).astype(np.int8)
    codes = np.zeros((128, k), np.int8)
    out = execute(hvx.build(128, k), hvx.prepare(codes, q))
    tables = np.asarray(out["lut"]).view("<i2").reshape(k // 16, 32, 2)          # [vector, word, half]
    signs = np.where((np.arange(16)[:, None] >> np.arange(4)) & 1, 1, -1)          # [entry, i]
    groups = q.astype(np.int64).reshape(k // 16, 4, 4)                             # [vector, Q, i]
    want = np.einsum("ei,vqi->vqe", signs, groups)                                 # [vector, Q, entry]
    # word w, half h holds table Q = 2 (w >= 16) + h, entry w % 16 (vlut16's Rt = 0..3 selection)
    for w in range(32):
        for h in range(2):
            assert np.array_equal(tables[:, w, h], want[:, 2 * (w >= 16) + h, w % 16])


def test_steps_per_iteration():
    assert hvx.steps_per_iteration(2560, 16) == 16
    assert hvx.steps_per_iteration(6912, 16) == 16
    assert hvx.steps_per_iteration(128, 16) == 8
    assert hvx.steps_per_iteration(384, 16) == 12


def test_registered():
    spec = registry.get("tman", "hvx")
    assert spec.exactness == "exact" and spec.weight_format == "tman"
    with pytest.raises(ValueError, match="tman/hvx"):
        hvx.check_shape(100, 128)
