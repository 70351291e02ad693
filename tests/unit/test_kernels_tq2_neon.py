"""TQ2_0 NEON kernel (kernels/tq2/neon.py, ggml's dotprod path): exact on every 2B-4T shape and on
small shapes with extreme activations and all +1 / all -1 rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.tq2 import neon as tq2
from kernels.verify import verify
from workbench.reference import ternary_matvec


def test_registered_exact_needing_dotprod():
    spec = registry.get("tq2", "neon")
    assert (spec.weight_format, spec.exactness) == ("tq2_0", "exact")
    assert program_requirements(spec.build(4, 256)) == ("asimddp",)


def test_sweep_2b4t_exact():
    result = verify("tq2", isa="neon")
    assert {c.shape for c in result.cases} == {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}
    assert {c.status for c in result.cases} == {"VERIFIED"}, result.describe()


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(m4, nb, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, 256 * nb
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[-1] = 1, -1
    for q in (rng.integers(-128, 128, k).astype(np.int8), np.full(k, -128, np.int8), np.full(k, 127, np.int8),
              rng.choice(np.array([-128, 127], np.int8), k)):
        assert np.array_equal(registry.run(registry.get("tq2", "neon"), codes, q), ternary_matvec(q[None], codes)[0])


def test_bad_shapes_name_the_constraint():
    with pytest.raises(ValueError, match="K=300 is not a positive multiple of 256"):
        tq2.check_shape(4, 300)
    with pytest.raises(ValueError, match="M=6 is not a positive multiple of 4"):
        tq2.check_shape(6, 256)
