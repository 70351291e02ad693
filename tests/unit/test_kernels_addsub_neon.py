"""The multiply-free add/subtract kernel on NEON (kernels/addsub/neon.py): no multiplying form in
its Program, exact on every 2B-4T shape and under extreme activations, for every int16 chunk length
its bound allows (one widening per chunk), and the chunk bound is refused beyond 127 blocks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.addsub import neon as addsub
from kernels.codegen import program_requirements
from tests.unit.kernel_checks import assert_exact, assert_sweep_exact
from workbench.reference import ternary_matvec

MULTIPLIES = ("mul", "mla", "mls", "smull", "umull", "smlal", "umlal", "sdot", "udot", "usdot", "smmla",
              "ummla", "usmmla", "sqdmul", "fmul", "fmla")


def test_registered_exact_and_multiply_free():
    spec = registry.get("addsub", "neon")
    assert (spec.weight_format, spec.exactness) == ("i2s_arm", "exact")
    program = spec.build(4, 128, blocks_per_chunk=1)
    mnemonics = {program.isa[ins.op].mnemonic for _, ins in program.instructions()}
    assert not any(m.startswith(MULTIPLIES) for m in mnemonics), mnemonics
    assert {"cmtst", "and", "bic", "sadalp"} <= mnemonics
    assert program_requirements(program) == ()                      # plain Armv8 Advanced SIMD
    with pytest.raises(ValueError, match="blocks_per_chunk=128 is not in 1..127"):
        spec.build(4, 64, blocks_per_chunk=128)
    assert addsub.chunks(64 * 10, 4) == [(0, 4), (4, 4), (8, 2)]


@pytest.mark.slow
def test_sweep_2b4t_exact():
    assert_sweep_exact("addsub", "neon")


def test_longest_chunk_holds_all_minus_128():
    k = 64 * 127                                        # one chunk of 127 blocks: lanes reach -32512
    codes = np.ones((4, k), np.int8)
    codes[1] = -1
    q = np.full(k, -128, np.int8)
    got = registry.run(registry.get("addsub", "neon"), codes, q, blocks_per_chunk=127)
    assert np.array_equal(got, ternary_matvec(q[None], codes)[0])


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 2), nb=st.integers(1, 6), chunk=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(m4, nb, chunk, seed):
    assert_exact("addsub", "neon", 4 * m4, 64 * nb, seed=seed, blocks_per_chunk=chunk)
