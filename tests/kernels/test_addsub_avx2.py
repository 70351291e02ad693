"""The multiply-free vpsignb twin on AVX2 (kernels/addsub/avx2.py): bounded, exact whenever no
activation -128 meets a weight -1, and the adversarial search (its int8 lane model,
kernels/addsub/lanes.py) breaks a 2B-4T row by itself and proves no weight row can break activations
that avoid -128. Its native run equals the functional one (tests/oracle/test_kernels_native.py runs
every AVX2 kernel)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.addsub import avx2 as addsub
from kernels.addsub.lanes import AVX2_LANES, lanes, probe
from kernels.search.adversarial import NoOverflow, Overflow, find_overflow, find_overflow_row
from kernels.search.lanes import lane_model
from kernels.verify import verify
from workbench.reference import get_preset, random_linear, ternary_matvec


def test_registered_bounded_and_multiply_free():
    spec = registry.get("addsub", "avx2")
    assert (spec.weight_format, spec.exactness) == ("i2s_x86", "bounded")
    assert "-128" in spec.bound and spec.bound_holds is addsub.bound_holds
    mnemonics = {spec.build(4, 128).isa[ins.op].mnemonic for _, ins in spec.build(4, 128).instructions()}
    assert "vpsignb" in mnemonics and "vpsadbw" in mnemonics
    assert not mnemonics & {"vpmaddubsw", "vpmaddwd", "vpmullw", "vpmulld", "vpdpbusd"}
    assert lane_model("addsub", "avx2") is AVX2_LANES


@pytest.mark.slow
def test_sweep_fails_only_outside_the_bound():
    result = verify("addsub", isa="avx2")
    assert all(c.status == "VERIFIED" for c in result.cases if c.inputs != "extreme"), result.describe()
    for c in result.cases:
        if c.status == "FAILED":
            assert c.check.mismatches == c.check.mismatches_outside_bound > 0, c.describe()


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 2), nb=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_exact_inside_the_bound(m4, nb, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, 128 * nb
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[-1] = 1, -1
    for q in (rng.integers(-127, 128, k).astype(np.int8), np.full(k, -127, np.int8), np.full(k, 127, np.int8)):
        assert np.array_equal(registry.run(registry.get("addsub", "avx2"), codes, q),
                              ternary_matvec(q[None], codes)[0])
    q = np.full(k, -128, np.int8)                      # +1 weights take -128 exactly; -1 weights wrap
    got = registry.run(registry.get("addsub", "avx2"), codes, q)
    want = ternary_matvec(q[None], codes)[0]
    assert np.array_equal(got - want, -256 * (codes == -1).sum(axis=1))
    assert np.array_equal(addsub.bound_holds(codes, q), ~(codes == -1).any(axis=1))


def test_probe_reads_the_products():
    rng = np.random.default_rng(1)
    codes_row = rng.integers(-1, 2, 256).astype(np.int8)
    q = rng.integers(-128, 128, 256).astype(np.int8)
    held = probe(codes_row, q)
    exact = AVX2_LANES.sums(codes_row, q)
    assert len(lanes(256)) == 256 and np.array_equal(held, [AVX2_LANES.wrap(v) for v in exact])


def test_search_breaks_a_2b4t_row_by_itself():
    codes = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, "k", seed=0).codes[:4]
    found = find_overflow(codes, 0, kernel="addsub", isa="avx2")
    assert isinstance(found, Overflow) and found.searched == "activations" and found.changed >= 1
    assert (found.lane_exact, found.lane_kernel) == (128, -128)
    assert found.kernel - found.expected == -256 * addsub.wrapped_columns(found.codes, found.q).size


def test_no_weight_row_breaks_activations_without_minus_128():
    q = np.random.default_rng(2).integers(-127, 128, 2560).astype(np.int8)
    assert isinstance(find_overflow_row(q, kernel="addsub", isa="avx2"), NoOverflow)
