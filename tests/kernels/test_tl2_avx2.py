"""TL2 AVX2 kernel: exact on every 2B-4T shape (functional executor), on hypothesis-drawn small
tilings with and without the 2-weight tail, adversarial activations, and natively."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import assert_exact, random_codes
from kernels import registry
from kernels.codegen import run_inprocess
from kernels.verify import verify


@pytest.mark.slow
def test_sweep_2b4t_exact():
    result = verify("tl2", isa="avx2", inputs=("extreme", "max"))   # realistic inputs: benchmark + hypothesis
    assert result.ok, result.describe()
    assert {c.status for c in result.cases} == {"VERIFIED"}
    assert {c.shape for c in result.cases} == {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}


@settings(max_examples=6, deadline=None)
@given(bm=st.sampled_from([32, 64]), tiles=st.integers(1, 2), bk=st.sampled_from([24, 48, 96, 240]),
       nb3=st.integers(1, 2), tail=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_small_tilings_exact(bm, tiles, bk, nb3, tail, seed):
    rng = np.random.default_rng(seed)
    m = bm * tiles
    k = bk * nb3 + 32 * tail
    if tail and (32 * tail) >= bk:      # the tail must be K mod BK
        k = bk * nb3
    codes = random_codes(rng, m, k)
    for q in (rng.integers(-128, 128, k).astype(np.int8), np.full(k, -128, np.int8),
              rng.choice(np.array([-128, 127], np.int8), k)):
        assert_exact("tl2", codes, q, BM=bm, BK=bk)


def test_native_equals_reference():
    rng = np.random.default_rng(3)
    codes = random_codes(rng, 64, 96 * 2 + 64)
    q = rng.choice(np.array([-128, 127], np.int8), codes.shape[1])
    spec = registry.get("tl2", "avx2")
    expected = registry.run(spec, codes, q)
    assert np.array_equal(registry.run(spec, codes, q, runner=run_inprocess), expected)
    assert_exact("tl2", codes, q)


def test_constraints_are_named():
    spec = registry.get("tl2", "avx2")
    with pytest.raises(ValueError, match="BK=264 > 240"):
        spec.build(32, 264, BM=32, BK=264)
    with pytest.raises(ValueError, match="not a multiple of 32"):
        spec.build(32, 96 + 16, BM=32, BK=96)
