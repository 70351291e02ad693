"""rowdot on NEON (kernels/rowdot/neon.py), this workbench's design: exact on every 2B-4T shape and
under extreme activations for every register blocking, needs only the dot product, and in the model
beats every anchor NEON kernel by 1.2x or more on cortex-x4 and cortex-a55 (issue 11 deliverable 3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.rowdot import neon as rowdot
from tests.unit.kernel_checks import activation_rows, assert_sweep_exact, cycles, random_codes
from workbench.reference import ternary_matvec

#: the anchor NEON kernels (helper C: bitnet.cpp and ggml; helper G: T-MAC, sdot, add/subtract)
ANCHORS = ("i2s", "i2s_mlal", "tl1", "tq2", "tmac", "sdot", "addsub")


def test_registered_exact_on_rows4_with_dotprod_only():
    spec = registry.get("rowdot", "neon")
    assert (spec.weight_format, spec.exactness) == ("rows4", "exact")
    assert spec.params == {"groups": 4, "unroll": 2}
    assert program_requirements(spec.build(16, 64)) == ("asimddp",)
    ops = {ins.op for _, ins in spec.build(16, 64).instructions()}
    assert not any(op.startswith(("ushr", "sshl", "ushl", "shl")) for op in ops)   # no shifts in the loop
    with pytest.raises(ValueError, match="M=24 is not a positive multiple of 16"):
        spec.build(24, 64)
    with pytest.raises(ValueError, match="K=40 is not a positive multiple of 16"):
        spec.build(16, 40)
    with pytest.raises(ValueError, match="groups=3 must be 1, 2 or 4"):
        rowdot.check_shape(12, 64, groups=3)


@pytest.mark.slow
def test_sweep_2b4t_exact():
    assert_sweep_exact("rowdot", "neon")


@settings(max_examples=8, deadline=None)
@given(groups=st.sampled_from([1, 2, 4]), unroll=st.sampled_from([1, 2]), blocks=st.integers(1, 2),
       nk=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(groups, unroll, blocks, nk, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * groups * blocks, 16 * nk
    codes = random_codes(rng, m, k)
    codes[3] = -1                                      # a two's-complement top row, all -1
    spec = registry.get("rowdot", "neon")
    for q in activation_rows(rng, k):
        got = registry.run(spec, codes, q, groups=groups, unroll=unroll)
        assert np.array_equal(got, ternary_matvec(q[None], codes)[0])


def test_prepare_offsets_only_the_t_plus_one_rows():
    q = np.arange(-8, 8, dtype=np.int8)
    buffers = rowdot.prepare(np.zeros((16, 16), np.int8), q)
    assert buffers["qsum"].view("<i4").tolist() == [-8, -8, -8, 0]


@pytest.mark.slow
@pytest.mark.parametrize("machine", ["cortex-x4", "cortex-a55"])
def test_beats_every_anchor_by_1_2x_in_the_model(machine):
    model = {name: cycles(name, "neon", machine) for name in ("rowdot",) + ANCHORS}
    best = min(ANCHORS, key=model.get)
    assert model[best] >= 1.2 * model["rowdot"], model
