"""T-MAC-style AVX2 kernel: lossy by design; its registered error is re-measured, it is exact when
every table is exactly representable, and the native run equals the functional one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.tmac import avx2 as tmac
from workbench.reference import ternary_matvec


def test_registered_error_matches_a_fresh_measurement():
    fresh = tmac.measure_error(tokens=1, seed=1)
    reg = registry.get("tmac").error
    assert 0 < fresh["relative_rms_error"] < 2 * reg["relative_rms_error"]
    assert 0 < fresh["max_abs_error"] <= 3 * reg["max_abs_error"]


@settings(max_examples=5, deadline=None)
@given(tiles=st.integers(1, 2), groups=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_exact_when_tables_need_no_rounding(tiles, groups, seed):
    rng = np.random.default_rng(seed)
    m, k = 32 * tiles, 64 * groups
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    q = np.zeros(k, np.int8)                      # one +-127 per group of 4: sum|q| = 127, scale 1
    q[::4] = rng.choice(np.array([-127, 127], np.int8), k // 4)
    got = registry.run(registry.get("tmac"), codes, q)
    assert np.array_equal(got, ternary_matvec(q[None], codes)[0])


def test_native_equals_functional_and_error_is_small():
    rng = np.random.default_rng(2)
    codes = rng.integers(-1, 2, (64, 512)).astype(np.int8)
    q = rng.integers(-128, 128, 512).astype(np.int8)
    spec = registry.get("tmac")
    got = registry.run(spec, codes, q)
    assert np.array_equal(registry.run(spec, codes, q, native=True), got)
    exact = ternary_matvec(q[None], codes)[0]
    assert not np.array_equal(got, exact)          # rounding the tables does lose information
    assert np.abs(got - exact).max() < 0.05 * np.abs(exact).max()
