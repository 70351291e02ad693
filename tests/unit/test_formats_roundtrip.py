"""Property tests: every weight format packs and unpacks random ternary codes exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.formats import FORMATS, get_format
from workbench.formats import tq

SETTINGS = settings(max_examples=25, deadline=None)


def _codes(seed: int, m: int, k: int, p_zero: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    t[rng.random((m, k)) < p_zero] = 0
    return t


def _roundtrip(name, m, k, seed, p_zero, gamma, **layout):
    fmt = get_format(name)
    t = _codes(seed, m, k, p_zero)
    data = fmt.pack(t, gamma=gamma, **layout)
    assert data.dtype == np.uint8 and data.ndim == 1
    assert data.size == fmt.nbytes(m, k, **layout)
    codes, scale = fmt.unpack(data, m, k, **layout)
    assert codes.dtype == np.int8
    np.testing.assert_array_equal(codes, t)
    if name in ("tq1_0", "tq2_0"):
        nonzero = (t.reshape(m, k // 256, 256) != 0).any(axis=2)
        want = np.where(nonzero, np.float32(np.float16(gamma)), np.float32(0))
        np.testing.assert_array_equal(scale, want)
    else:
        assert scale.dtype == np.float32 and scale == np.float32(gamma)
    # packing is a function of the codes: the bytes round-trip too
    np.testing.assert_array_equal(fmt.pack(codes, gamma=gamma if name.startswith("tq") else scale,
                                           **layout), data)


common = dict(seed=st.integers(0, 2**32 - 1), p_zero=st.sampled_from([0.0, 0.3, 1.0]),
              gamma=st.floats(0.0, 8.0, width=32))


@SETTINGS
@given(arch=st.sampled_from(["x86", "arm"]), m=st.integers(1, 6), nblk=st.integers(1, 4), **common)
def test_i2s_roundtrip(arch, m, nblk, seed, p_zero, gamma):
    k = nblk * (128 if arch == "x86" else 64)
    _roundtrip(f"i2s_{arch}", m, k, seed, p_zero, gamma)


@SETTINGS
@given(bm=st.sampled_from([32, 64]), a=st.integers(1, 2), b=st.integers(1, 2),
       c=st.integers(1, 4), d=st.integers(1, 3), **common)
def test_tl1_roundtrip(bm, a, b, c, d, seed, p_zero, gamma):
    BM, BK = bm * a, (256 // bm) * c
    _roundtrip("tl1", BM * b, BK * d, seed, p_zero, gamma, BM=BM, BK=BK, bm=bm)


@SETTINGS
@given(a=st.integers(1, 2), b=st.integers(1, 2), c=st.integers(1, 8), d=st.integers(0, 2),
       e=st.integers(0, 7), **common)
def test_tl2_roundtrip(a, b, c, d, e, seed, p_zero, gamma):
    BM, BK = 32 * a, 24 * c
    tail = 32 * (e % -(-BK // 32))          # a multiple of 32 below BK
    k = BK * d + tail
    if k == 0:
        k = BK
    _roundtrip("tl2", BM * b, k, seed, p_zero, gamma, BM=BM, BK=BK, bm=32)


@SETTINGS
@given(kind=st.sampled_from(["tq1_0", "tq2_0"]), m=st.integers(1, 5), nblk=st.integers(1, 3),
       seed=common["seed"], p_zero=common["p_zero"],
       gamma=st.one_of(st.just(0.0), st.floats(2.0**-14, 60000.0, width=32)))
def test_tq_roundtrip(kind, m, nblk, seed, p_zero, gamma):
    _roundtrip(kind, m, 256 * nblk, seed, p_zero, gamma)


@SETTINGS
@given(m4=st.integers(1, 8), k=st.integers(1, 40), **common)
def test_hf_2bit_roundtrip(m4, k, seed, p_zero, gamma):
    _roundtrip("hf_2bit", 4 * m4, k, seed, p_zero, gamma)


@SETTINGS
@given(m=st.integers(1, 8), k8=st.integers(1, 8), **common)
def test_tmac_roundtrip(m, k8, seed, p_zero, gamma):
    _roundtrip("tmac", m, 8 * k8, seed, p_zero, gamma)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_default_layout_packs_tiny_and_2b4t_shapes(name):
    fmt = FORMATS[name]
    # tiny preset q/k and 2B-4T k/v shapes, small enough for a unit test
    for m, k in ((128, 128), (64, 128), (640, 2560), (384, 256)):
        if name.startswith("tq") and k % 256:
            continue
        if name in ("tman", "rows128") and m % 128:    # HVX tiles: 128 rows per vector of byte lanes
            continue
        layout = fmt.default_layout(m, k)
        t = _codes(7, m, k, 0.3)
        codes, _ = fmt.unpack(fmt.pack(t, gamma=0.5, **layout), m, k, **layout)
        np.testing.assert_array_equal(codes, t)


def test_sizes_match_kernels_md():
    """Sizes of research/kernels.md: I2_S/TL1 n/4 + 32; TL2 the fork's formula padded + 32;
    TQ1_0 54 B and TQ2_0 66 B per 256 weights."""
    m, k = 2560, 6912
    assert FORMATS["i2s_x86"].nbytes(m, k) == m * k // 4 + 32
    assert FORMATS["i2s_arm"].nbytes(m, k) == m * k // 4 + 32
    assert FORMATS["tl1"].nbytes(m, k, BM=256, BK=128, bm=32) == m * k // 4 + 32
    body = (k - 256) * m // 3 * 5 // 8 + 256 * m // 2 * 4 // 8   # positive: C and Python agree
    body += (-body) % 32
    assert FORMATS["tl2"].nbytes(m, k, BM=256, BK=96, bm=32) == body + 32
    assert FORMATS["tq1_0"].nbytes(m, k) == m * k // 256 * 54
    assert FORMATS["tq2_0"].nbytes(m, k) == m * k // 256 * 66
    assert FORMATS["tq1_0"].bits_per_weight == 1.6875
    assert FORMATS["tq2_0"].bits_per_weight == 2.0625
    assert tq.BLOCK_BYTES == {"tq1_0": 54, "tq2_0": 66}
