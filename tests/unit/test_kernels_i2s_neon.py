"""I2_S NEON kernels (kernels/i2s/neon.py): the dotprod kernel is exact on every 2B-4T shape; the
int16 (smlal) kernel is exact inside its lane bound, wraps outside it exactly as its lane model
(kernels/i2s/lanes.py) predicts, and the adversarial search overflows it on 2B-4T shapes by itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kernels import registry
from kernels.codegen import program_requirements
from kernels.i2s import neon as i2s
from kernels.i2s.lanes import NEON_MLAL_LANES, lanes_neon, probe_neon
from kernels.search.adversarial import NoOverflow, Overflow, find_overflow, find_overflow_row
from kernels.verify import verify
from tests.unit.kernel_checks import SHAPES_2B4T, assert_exact, assert_sweep_exact, random_codes as _codes
from workbench.reference import get_preset, random_linear, ternary_matvec

EXTREMES = np.array([-128, 127], np.int8)


def test_registered_with_format_exactness_bound_and_features():
    sdot, mlal = registry.get("i2s", "neon"), registry.get("i2s_mlal", "neon")
    assert sdot.weight_format == mlal.weight_format == "i2s_arm"
    assert sdot.exactness == "exact" and mlal.exactness == "bounded"
    assert "max|q| <= 63" in mlal.bound and mlal.bound_holds is i2s.bound_holds
    assert program_requirements(sdot.build(8, 64)) == ("asimddp",)
    assert program_requirements(mlal.build(4, 64)) == ()


def test_sdot_sweep_2b4t_exact():
    assert_sweep_exact("i2s", "neon")


@settings(max_examples=6, deadline=None)
@given(m8=st.integers(1, 2), nb=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_sdot_small_shapes_exact_under_extreme_activations(m8, nb, seed):
    assert_exact("i2s", "neon", 8 * m8, 64 * nb, seed=seed)


def test_mlal_sweep_fails_only_outside_the_bound():
    result = verify("i2s_mlal", isa="neon")
    assert {c.shape for c in result.cases} == SHAPES_2B4T
    assert all(c.status == "VERIFIED" for c in result.cases if c.inputs == "realistic"), result.describe()
    max_cases = [c for c in result.cases if c.inputs == "max"]
    assert all(c.status == "FAILED" and c.check.outside_bound >= 1 for c in max_cases)
    assert all(c.check.mismatches == c.check.mismatches_outside_bound for c in result.cases)
    assert all("int16 wrap in lane" in c.check.first_mismatch for c in max_cases)


@settings(max_examples=6, deadline=None)
@given(m4=st.integers(1, 3), nb=st.integers(1, 6), chunk=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_mlal_exact_inside_bound_and_wraps_by_65536_outside(m4, nb, chunk, seed):
    rng = np.random.default_rng(seed)
    m, k = 4 * m4, 64 * nb
    codes = _codes(rng, m, k)
    spec = registry.get("i2s_mlal", "neon")
    for q in (rng.integers(-63, 64, k).astype(np.int8), rng.choice(EXTREMES, k), np.full(k, 127, np.int8)):
        got = registry.run(spec, codes, q, blocks_per_chunk=chunk)
        expected = ternary_matvec(q[None], codes)[0]
        inside = i2s.bound_holds(codes, q, blocks_per_chunk=chunk)
        assert np.array_equal(got[inside], expected[inside])
        assert np.all((got[~inside].astype(np.int64) - expected[~inside]) % 65536 == 0)
    assert i2s.bound_holds(codes, np.full(k, -63, np.int8), blocks_per_chunk=chunk).all()


def test_all_plus_one_rows_wrap_exactly_as_predicted():
    codes = np.ones((4, 2048), np.int8)
    q = np.full(2048, 127, np.int8)
    got = registry.run(registry.get("i2s_mlal", "neon"), codes, q)
    lanes = i2s.lane_sums(codes, q)                          # 2 * 127 * 8 * 32 = 65024 per lane
    assert (lanes == 65024).all()
    wrapped = ((lanes + 32768) % 65536 - 32768).sum(axis=(1, 2))
    assert np.array_equal(got, wrapped - q.astype(np.int64).sum())


@pytest.mark.parametrize("k, chunk", [(64, 32), (2560, 32), (6912, 32), (640, 3)])
def test_lanes_partition_the_row(k, chunk):
    found = lanes_neon(k, blocks_per_chunk=chunk)
    assert np.array_equal(np.sort(np.concatenate([lane.members for lane in found])), np.arange(k))
    n_chunks = -(-(k // 64) // chunk)
    assert [(lane.chunk, lane.lane) for lane in found] == [(c, L) for c in range(n_chunks) for L in range(8)]
    assert sorted(found[0].members[:8]) == [0, 8, 16, 24, 32, 40, 48, 56]     # smlal/smlal2 of 4 slices


def test_probe_reads_the_wrapped_lane_sums():
    rng = np.random.default_rng(3)
    codes = _codes(rng, 1, 2560)[0]
    codes[:2048] = 1
    q = rng.integers(-128, 128, 2560).astype(np.int8)
    q[:2048] = 127
    exact = NEON_MLAL_LANES.sums(codes, q)
    assert np.array_equal(exact, i2s.lane_sums(codes[None], q)[0].reshape(-1)) and exact.max() > 32767
    assert np.array_equal(probe_neon(codes, q), [NEON_MLAL_LANES.wrap(v) for v in exact])


def test_adversarial_search_overflows_2b4t_rows():
    """Does I2_S (int16 path) overflow on 2B-4T shapes? Yes: the search finds the inputs itself."""
    for proj in ("q", "down"):
        codes = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, proj).codes[:4].copy()
        codes[1] = 1
        for row in (0, 1):
            found = find_overflow(codes, row, kernel="i2s_mlal", isa="neon", seed=row)
            assert isinstance(found, Overflow), found.describe()
            got = registry.run(registry.get("i2s_mlal", "neon"), codes, found.q)[row]
            assert got == found.kernel != found.expected == ternary_matvec(found.q[None], codes[row:row + 1])[0, 0]
            assert (int(got) - found.expected) % 65536 == 0
            assert found.lane_kernel == NEON_MLAL_LANES.wrap(found.lane_exact)
    found = find_overflow_row(np.full(2560, 127, np.int8), kernel="i2s_mlal", isa="neon")
    assert isinstance(found, Overflow) and found.searched == "weights"


def test_adversarial_search_proves_zero_code_rows_and_small_activations_safe():
    assert isinstance(find_overflow(-np.ones((4, 2560), np.int8), 0, kernel="i2s_mlal", isa="neon"), NoOverflow)
    q = np.random.default_rng(4).integers(-63, 64, 6912).astype(np.int8)
    found = find_overflow_row(q, kernel="i2s_mlal", isa="neon")
    assert isinstance(found, NoOverflow) and found.max_lane_sum <= 32767 and found.min_lane_sum >= -32768


def test_bad_shapes_name_the_constraint():
    with pytest.raises(ValueError, match="K=100 is not a positive multiple of 64"):
        i2s.check_shape_sdot(8, 100)
    with pytest.raises(ValueError, match="M=4 is not a positive multiple of 8"):
        i2s.check_shape_sdot(4, 64)
    with pytest.raises(ValueError, match="blocks_per_chunk=0"):
        i2s.check_shape_mlal(4, 64, blocks_per_chunk=0)
