"""TQ2_0 NEON kernel (kernels/tq2/neon.py, ggml's dotprod path): exact on every 2B-4T shape and on
small shapes with extreme activations and all +1 / all -1 rows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.tq2 import neon as tq2
from tests.unit.kernel_checks import assert_exact, assert_sweep_exact


def test_registered_exact_needing_dotprod():
    spec = registry.get("tq2", "neon")
    assert (spec.weight_format, spec.exactness) == ("tq2_0", "exact")
    assert program_requirements(spec.build(4, 256)) == ("asimddp",)


def test_sweep_2b4t_exact():
    assert_sweep_exact("tq2", "neon")


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(m4, nb, seed):
    assert_exact("tq2", "neon", 4 * m4, 256 * nb, seed=seed)


def test_bad_shapes_name_the_constraint():
    with pytest.raises(ValueError, match="K=300 is not a positive multiple of 256"):
        tq2.check_shape(4, 300)
    with pytest.raises(ValueError, match="M=6 is not a positive multiple of 4"):
        tq2.check_shape(6, 256)
