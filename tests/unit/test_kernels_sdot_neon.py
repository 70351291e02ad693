"""The decoded-code sdot anchor on NEON (kernels/sdot/neon.py): exact on every 2B-4T shape and under
extreme activations, on bitnet.cpp's ARM I2_S bytes, with no sum(q) correction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.sdot import neon as sdot
from kernels.verify import verify
from workbench.reference import ternary_matvec

SHAPES_2B4T = {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}


def test_registered_exact_on_i2s_arm():
    spec = registry.get("sdot", "neon")
    assert (spec.weight_format, spec.exactness, spec.params) == ("i2s_arm", "exact", {})
    program = spec.build(4, 64)
    assert program_requirements(program) == ("asimddp",)
    assert set(program.buffers) == {"w", "q", "acc"}                 # no activation sum needed
    with pytest.raises(ValueError, match="K=96 is not a positive multiple of 64"):
        spec.build(4, 96)
    with pytest.raises(ValueError, match="M=6 is not a positive multiple of 4"):
        sdot.check_shape(6, 64)


def test_sweep_2b4t_exact():
    result = verify("sdot", isa="neon")
    assert {c.shape for c in result.cases} == SHAPES_2B4T
    assert {c.status for c in result.cases} == {"VERIFIED"}, result.describe()


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(m4, nb, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, 64 * nb
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[-1] = 1, -1
    for q in (rng.integers(-128, 128, k).astype(np.int8), np.full(k, -128, np.int8), np.full(k, 127, np.int8)):
        assert np.array_equal(registry.run(registry.get("sdot", "neon"), codes, q),
                              ternary_matvec(q[None], codes)[0])
