"""tq2 AVX2 kernel: exact on every 2B-4T shape (functional executor), on hypothesis-drawn small
shapes with adversarial activations and all +1 / all -1 rows, and natively."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from conftest import assert_exact, random_codes
from kernels import registry
from kernels.verify import verify

from kernels.tq2.avx2 import QK_K as BLOCK


def test_sweep_2b4t_exact():
    result = verify("tq2")
    assert result.ok, result.describe()
    assert {c.status for c in result.cases} == {"exact"}
    assert {c.shape for c in result.cases} == {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_small_shapes_exact(m4, nb, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, BLOCK * nb
    codes = random_codes(rng, m, k)
    for q in (rng.integers(-128, 128, k).astype(np.int8), np.full(k, 127, np.int8),
              np.full(k, -128, np.int8), rng.choice(np.array([-128, 127], np.int8), k)):
        assert_exact("tq2", codes, q)


def test_native_equals_reference():
    rng = np.random.default_rng(7)
    codes = random_codes(rng, 8, BLOCK * 3)
    q = rng.choice(np.array([-128, 127], np.int8), codes.shape[1])
    spec = registry.get("tq2")
    assert np.array_equal(registry.run(spec, codes, q, native=True), registry.run(spec, codes, q))
    assert_exact("tq2", codes, q)
