"""kernels/tq2/hvx.py: exact on small shapes (random, all -128, and -128/127 activations; all +1
and all -1 rows), registered with its format, bad shapes refused in one line."""

from __future__ import annotations

import pytest

from kernels import registry
from kernels.tq2 import hvx
from tests.unit.kernel_checks import assert_exact


@pytest.mark.parametrize("m, k, tiles", [(128, 128, 0), (256, 384, 0), (640, 256, 1)])
def test_exact(m, k, tiles):
    assert_exact("tq2", "hvx", m, k, tiles=tiles)


def test_registered():
    spec = registry.get("tq2", "hvx")
    assert spec.exactness == "exact" and spec.weight_format == "rows128"


@pytest.mark.parametrize("m, k", [(100, 128), (128, 100)])
def test_bad_shapes(m, k):
    with pytest.raises(ValueError, match="tq2/hvx"):
        hvx.check_shape(m, k)
