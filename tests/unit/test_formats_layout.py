"""Bit and byte placement of each format, checked against the rules written in
research/kernels.md and reference.md (independently of the packers' own reshape chains)."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.formats import FORMATS, tl1, tl2, tmac


def test_i2s_element_positions():
    for arch, qk in (("x86", 128), ("arm", 64)):
        q4 = qk // 4
        for e in (0, 1, q4 - 1, q4, 2 * q4 + 3, qk - 1):
            t = -np.ones((1, 2 * qk), dtype=np.int8)        # code 0 everywhere
            t[0, qk + e] = 1                                 # code 2 in block 1
            data = FORMATS[f"i2s_{arch}"].pack(t, gamma=1.0)
            body = data[:2 * qk // 4]
            expect = np.zeros_like(body)
            expect[q4 + e % q4] = 2 << (6 - 2 * (e // q4))
            np.testing.assert_array_equal(body, expect)
            assert data[2 * qk // 4:2 * qk // 4 + 4].tobytes() == np.float32(1.0).tobytes()


def test_tl1_vectors_match_kernels_md_description():
    """kernels.md §1.3: bm=32: vector m of step k serves rows 16*(m//2).., top nibble pair
    4k + 2*(m%2), bottom pair +1; bm=64: vector m serves rows 16m.., pairs 2k and 2k+1.
    Loop order outermost first: row tile, K block, sub-tile (BM/bm), step."""
    for bm, BK in ((32, 64), (64, 128)):
        BM, m_, k_ = 2 * bm, 4 * bm, 2 * BK
        steps = BK // (256 // bm)
        bmap = tl1.byte_map(m_, k_, BM=BM, BK=BK, bm=bm).reshape(2, 2, 2, steps, 4, 16, 3)
        for i, b, s, step, v in np.ndindex(2, 2, 2, steps, 4):
            rows, top, bottom = (bmap[i, b, s, step, v, :, c] for c in range(3))
            base_row, base_pair = i * BM + s * bm, b * BK // 2
            if bm == 32:
                np.testing.assert_array_equal(rows, base_row + 16 * (v // 2) + np.arange(16))
                assert (top == base_pair + 4 * step + 2 * (v % 2)).all()
            else:
                np.testing.assert_array_equal(rows, base_row + 16 * v + np.arange(16))
                assert (top == base_pair + 2 * step).all()
            assert (bottom == top + 1).all()


def test_tl1_index_values_and_scale_offset():
    t = np.zeros((32, 8), dtype=np.int8)
    t[0, :4] = [1, -1, -1, 1]          # pairs: 3-1+4 = 6, -3+1+4 = 2
    data = FORMATS["tl1"].pack(t, gamma=0.25, BM=32, BK=8, bm=32)
    assert data[0] == (6 << 4) | 2      # row 0, pairs 0 and 1
    assert (data[1:64] == 0x44).all()   # every other pair is (0, 0) -> idx 4
    assert data[64:68].tobytes() == np.float32(0.25).tobytes() and not data[68:].any()


def test_tl2_worked_example_from_docstring():
    t = np.zeros((32, 96), dtype=np.int8)
    t[0, :6] = [1, 0, -1, -1, -1, 0]
    data = FORMATS["tl2"].pack(t, gamma=2.0, BM=32, BK=96, bm=32)
    assert data.size == 1024
    assert data[0] == 0x8C
    assert (data[1:32] == 0).all()
    assert data[512] == 0x00 and data[513] == 0x20
    assert data[992:996].tobytes() == np.float32(2.0).tobytes()
    # row 20 sits at byte 12 of each index vector
    t2 = np.zeros((32, 96), dtype=np.int8)
    t2[20, 3:6] = [0, 0, 1]                                 # triple 1: v = 1
    assert FORMATS["tl2"].pack(t2, gamma=1.0, BM=32, BK=96, bm=32)[12] == 0x01


def _tl2_sign_bit(data, m, k, BM, BK, row, triple):
    """Locate a triple's sign bit with the kernels.md §1.4 table, written out directly."""
    n_idx = m * (k // BK * BK) // 6
    i, rr = divmod(row, BM)
    s, r32 = divmod(rr, 32)
    b, gb = divmod(triple, BK // 3)
    kk, g8 = divmod(gb, 8)
    jj, n = divmod(g8, 2)
    half, lane = divmod(r32, 16)
    vec = ((i * (k // BK) + b) * (BM // 32) + s) * (BK // 24) + kk
    word = int(data[n_idx + 32 * vec + 2 * lane]) | (int(data[n_idx + 32 * vec + 2 * lane + 1]) << 8)
    return (word >> (15 - (4 * jj + 2 * n + half))) & 1


def test_tl2_sign_bits_follow_kernels_md_table():
    m, k, BM, BK = 64, 192, 32, 96
    rng = np.random.default_rng(3)
    t = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    data = FORMATS["tl2"].pack(t, gamma=1.0, BM=BM, BK=BK, bm=32)
    v = (9 * t[:, 0::3].astype(int) + 3 * t[:, 1::3] + t[:, 2::3])
    for row in range(m):
        for g in range(k // 3):
            assert _tl2_sign_bit(data, m, k, BM, BK, row, g) == int(v[row, g] < 0)


def test_tl2_index_vectors_and_tail_follow_row_permutation():
    m, k, BM, BK = 32, 96 + 32, 32, 96
    rng = np.random.default_rng(4)
    t = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    data = FORMATS["tl2"].pack(t, gamma=1.0, BM=BM, BK=BK, bm=32)
    v = np.abs(9 * t[:, 0:96:3].astype(int) + 3 * t[:, 1:96:3] + t[:, 2:96:3])
    for j in range(BK // 6):
        for p in range(32):
            row = [0, 2, 1, 3][p // 8] * 8 + p % 8
            assert data[32 * j + p] == (v[row, 2 * j] << 4) | v[row, 2 * j + 1]
    pairs = 3 * t[:, 96::2].astype(int) + t[:, 97::2] + 4
    tail0 = 32 * 96 // 6 + 32 * 96 // 24
    for j in range(8):
        for p in range(32):
            row = tl2.ROW_PERM[p]
            assert data[tail0 + 32 * j + p] == (pairs[row, 2 * j] << 4) | pairs[row, 2 * j + 1]


@pytest.mark.parametrize("value,qs,qh", [(1, 255, 253), (0, 128, 127), (-1, 0, 0)])
def test_tq1_0_uniform_blocks_match_kernels_md(value, qs, qh):
    data = FORMATS["tq1_0"].pack(np.full((1, 256), value, np.int8), gamma=1.0)
    assert (data[:48] == qs).all() and (data[48:52] == qh).all()
    d = data[52:54].view("<f2")[0]
    assert d == (0 if value == 0 else 1.0)


def test_tq2_0_element_positions():
    for e in (0, 31, 32, 100, 128, 200, 255):
        t = np.zeros((1, 256), dtype=np.int8)
        t[0, e] = 1
        data = FORMATS["tq2_0"].pack(t, gamma=1.0)
        h, rest = divmod(e, 128)
        l, m = divmod(rest, 32)
        expect = np.full(64, 0x55, dtype=np.uint8)    # code 1 in all four fields
        expect[32 * h + m] = 0x55 & ~(3 << 2 * l) | (2 << 2 * l)
        np.testing.assert_array_equal(data[:64], expect)


def test_hf_2bit_rows_packed_along_dim0():
    m, k = 8, 3
    t = np.zeros((m, k), dtype=np.int8)
    t[5, 2] = 1            # row 5 = block i=2 (M/4 = 2), r=1
    t[1, 0] = -1           # block 0, r=1
    data = FORMATS["hf_2bit"].pack(t, gamma=1.0)
    p = data[:m * k // 4].reshape(m // 4, k)
    assert p[1, 2] == 0x55 & ~(3 << 4) | (2 << 4)
    assert p[1, 0] == 0x55 & ~3
    assert (np.delete(p.reshape(-1), [1 * k + 2, 1 * k + 0]) == 0x55).all()


def test_tmac_plane_indices():
    t = np.array([[1, 0, -1, 1, -1, -1, -1, -1]], dtype=np.int8)   # u = 3, 2, 1, 3 | 1, 1, 1, 1
    idx = tmac.plane_indices(t)
    assert idx[0, 0, 0] == 0b1101 and idx[0, 1, 0] == 0b1011   # plane 0: bits 1,0,1,1; plane 1: 1,1,0,1
    assert idx[0, 0, 1] == 0b1111 and idx[0, 1, 1] == 0
    data = FORMATS["tmac"].pack(t, gamma=1.0)
    assert data[0] == 0b1101 | (0b1111 << 4) and data[1] == 0b1011
