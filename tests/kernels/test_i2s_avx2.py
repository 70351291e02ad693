"""I2_S AVX2 kernel: exact within its int16-lane bound on every 2B-4T shape, wraps outside it,
native run equals the functional one, and the adversarial search breaks it by itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import run_inprocess
from kernels.i2s import avx2 as i2s
from kernels.search.adversarial import NoOverflow, Overflow, find_overflow
from kernels.verify import verify
from workbench.reference import get_preset, random_linear, ternary_matvec


@pytest.mark.slow
def test_sweep_2b4t_fails_only_outside_the_bound():
    result = verify("i2s", isa="avx2")
    shapes = {c.shape for c in result.cases}
    assert shapes == {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}
    # realistic activations stay inside the int16-lane bound: every row equal
    assert all(c.status == "VERIFIED" for c in result.cases if c.inputs == "realistic"), result.describe()
    # all-127 activations with an all-+1 row leave the bound: FAILED, every differing row outside it
    max_cases = [c for c in result.cases if c.inputs == "max"]
    assert not result.ok and result.status == "FAILED"
    assert all(c.status == "FAILED" and c.check.outside_bound >= 1 for c in max_cases)
    assert all(c.check.mismatches == c.check.mismatches_outside_bound for c in result.cases)
    assert all("int16 wrap in lane" in c.check.first_mismatch and "[inputs outside the kernel's bound"
               in c.check.first_mismatch for c in max_cases)


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 5), chunk=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_inside_bound(m4, nb, chunk, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, 128 * nb
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0] = 1
    for q in (rng.integers(-63, 64, k).astype(np.int8), rng.choice(np.array([-128, 127], np.int8), k)):
        got = registry.run(registry.get("i2s", "avx2"), codes, q, blocks_per_chunk=chunk)
        expected = ternary_matvec(q[None], codes)[0]
        inside = i2s.bound_holds(codes, q, blocks_per_chunk=chunk)
        assert np.array_equal(got[inside], expected[inside])
        # outside the bound the error is a whole number of int16 wraps
        assert np.all((got[~inside].astype(np.int64) - expected[~inside]) % 65536 == 0)
    assert i2s.bound_holds(codes, np.full(k, -63, np.int8), blocks_per_chunk=chunk).all()  # sufficient bound


def test_all_plus_one_rows_wrap_exactly_as_predicted():
    codes = np.ones((4, 4096), np.int8)
    q = np.full(4096, 127, np.int8)
    got = registry.run(registry.get("i2s", "avx2"), codes, q)
    lanes = i2s.lane_sums(codes, q)                      # 2 * 127 * 256 = 65024 per lane
    assert (lanes == 65024).all()
    wrapped = ((lanes + 32768) % 65536 - 32768).sum(axis=(1, 2))   # what the int16 lanes hold
    assert np.array_equal(got, wrapped - q.astype(np.int64).sum())
    assert not i2s.bound_holds(codes, q).any()


def test_native_equals_functional_including_wraps():
    rng = np.random.default_rng(5)
    codes = rng.integers(-1, 2, (8, 4096)).astype(np.int8)
    codes[0] = 1
    q = rng.choice(np.array([-128, 127], np.int8), 4096)
    q[: 2048] = 127
    spec = registry.get("i2s", "avx2")
    assert np.array_equal(registry.run(spec, codes, q, runner=run_inprocess), registry.run(spec, codes, q))


def _check_finding(codes, row, finding):
    assert isinstance(finding, Overflow), finding.describe()
    got = registry.run(registry.get("i2s", "avx2"), codes, finding.q)
    expected = ternary_matvec(finding.q[None], codes)[0]
    assert np.array_equal(finding.codes, codes[row]) and finding.searched == "activations"
    assert got[row] == finding.kernel and expected[row] == finding.expected
    assert got[row] != expected[row]
    assert (got[row] - expected[row]) % 65536 == 0
    assert not -32768 <= finding.lane_exact <= 32767
    assert finding.lane_kernel == (finding.lane_exact + 32768) % 65536 - 32768
    assert f"lane {finding.lane}" in finding.describe()


def test_adversarial_search_breaks_random_and_all_plus_one_rows():
    lin = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, "down")   # K = 6912: 32-block chunks
    codes = lin.codes[:4].copy()
    codes[1] = 1
    for row in (0, 1):
        _check_finding(codes, row, find_overflow(codes, row, kernel="i2s", seed=row))


def test_adversarial_search_proves_safe_rows():
    codes = -np.ones((4, 256), np.int8)                 # codes 0: every product is 0
    assert isinstance(find_overflow(codes, 0, kernel="i2s"), NoOverflow)
    lin = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, "q")     # K = 2560: 20-block chunk
    found = find_overflow(lin.codes[:4], 0, kernel="i2s", isa="avx2")
    assert isinstance(found, NoOverflow) and found.max_lane_sum <= 32767 and found.min_lane_sum >= -32768
