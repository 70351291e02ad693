"""The decoded-code sdot anchor on NEON (kernels/sdot/neon.py): exact on every 2B-4T shape and under
extreme activations, on bitnet.cpp's ARM I2_S bytes, with no sum(q) correction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.sdot import neon as sdot
from tests.unit.kernel_checks import assert_exact, assert_sweep_exact


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
    assert_sweep_exact("sdot", "neon")


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(m4, nb, seed):
    assert_exact("sdot", "neon", 4 * m4, 64 * nb, seed=seed)
