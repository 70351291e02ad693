"""TL1 NEON kernel (kernels/tl1/neon.py): the LUT the Program builds is bitnet.cpp's (high bytes,
low bytes of the nine pair entries), the kernel is exact on every 2B-4T shape and on small tilings
with both bm, and the adversarial search on its lane model (kernels/tl1/lanes.py) proves that no
input overflows an int16 lane at the preset block sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.execute import execute
from kernels import registry
from kernels.search.adversarial import NoOverflow, find_overflow, find_overflow_row
from kernels.tl1 import neon as tl1
from kernels.tl1.lanes import NEON_LANES, lanes, probe
from tests.unit.kernel_checks import assert_exact, assert_sweep_exact, random_codes as _codes
from workbench.reference import get_preset, random_linear, ternary_matvec

EXTREMES = np.array([-128, 127], np.int8)


def test_registered_exact_with_the_tl1_format():
    spec = registry.get("tl1", "neon")
    assert (spec.weight_format, spec.exactness) == ("tl1", "exact")
    assert spec.params == {"BM": None, "BK": None, "bm": None}


def test_the_program_builds_bitnets_lut():
    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, 64).astype(np.int8)
    q[:4] = (-128, -128, 127, -128)                       # entries -256 .. 256
    out = execute(tl1.build(32, 64), tl1.prepare(np.zeros((32, 64), np.int8), q))
    lut = np.asarray(out["lut"])
    assert np.array_equal(lut, tl1.lut_bytes(q))
    pair0 = lut[:32]
    entries = (pair0[16:].astype(np.int16) | (pair0[:16].astype(np.int16) << 8)).astype(np.int16)
    assert list(entries[:9]) == [256, 128, 0, 128, 0, -128, 0, -128, -256]   # E = (i//3-1) b0 + (i%3-1) b1
    assert not entries[9:].any()


@pytest.mark.slow
def test_sweep_2b4t_exact():
    """Realistic and all-127 activations (the "extreme" row runs in tests/oracle/test_neon_kernels_qemu.py)."""
    assert_sweep_exact("tl1", "neon", inputs=("realistic", "max"))


@settings(max_examples=8, deadline=None)
@given(bm=st.sampled_from([32, 64]), subs=st.integers(1, 2), tiles=st.integers(1, 2),
       bk_steps=st.integers(1, 3), nb=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_small_tilings_exact_under_extreme_activations(bm, subs, tiles, bk_steps, nb, seed):
    BM, BK = bm * subs, (256 // bm) * bk_steps * 4
    assert_exact("tl1", "neon", BM * tiles, BK * nb, seed=seed, kinds=("random", "min", "extremes"), BM=BM, BK=BK,
                 bm=bm)


def test_bitnet_preset_tiling_with_bm_64():
    rng = np.random.default_rng(2)
    codes = _codes(rng, 320, 256)
    q = rng.choice(EXTREMES, 256)
    got = registry.run(registry.get("tl1", "neon"), codes, q, BM=320, BK=128, bm=64)   # 3200x3200's tiling
    assert np.array_equal(got, ternary_matvec(q[None], codes)[0])


def test_lanes_and_probe():
    found = lanes(2560)                                   # fallback tiling: BK = 128
    assert [(lane.chunk, lane.lane) for lane in found] == [(b, 0) for b in range(20)]
    assert np.array_equal(np.concatenate([lane.members for lane in found]), np.arange(2560))
    rng = np.random.default_rng(1)
    codes, q = _codes(rng, 1, 2560)[0], rng.integers(-128, 128, 2560).astype(np.int8)
    codes[:128], q[:128] = 1, -128                        # block 0 of row 0: -16384, the reachable extreme
    assert np.array_equal(probe(codes, q), NEON_LANES.sums(codes, q))
    assert NEON_LANES.sums(codes, q)[0] == -16384


@pytest.mark.parametrize("proj", ["q", "down"])
def test_adversarial_search_proves_no_overflow_on_2b4t(proj):
    """Does TL1 overflow on 2B-4T shapes? No: the reachable lane sums stay within +-128 * BK = 16384."""
    codes = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, proj).codes[:32].copy()
    codes[1] = 1
    for row in (0, 1):
        found = find_overflow(codes, row, kernel="tl1", isa="neon", seed=row)
        assert isinstance(found, NoOverflow) and -16384 <= found.min_lane_sum < found.max_lane_sum <= 16384
    found = find_overflow_row(np.full(codes.shape[1], -128, np.int8), kernel="tl1", isa="neon")
    assert isinstance(found, NoOverflow) and (found.min_lane_sum, found.max_lane_sum) == (-16384, 16384)


def test_bad_tilings_name_the_constraint():
    with pytest.raises(ValueError, match="BK=256 > 254"):
        tl1.check_shape(32, 512, BM=32, BK=256, bm=32)
    with pytest.raises(ValueError, match="bm=16 must be 32 or 64"):
        tl1.check_shape(32, 512, BM=32, BK=128, bm=16)
    with pytest.raises(ValueError, match="M=48 is not a positive multiple of BM=32"):
        tl1.check_shape(48, 512, BM=32, BK=128, bm=32)
