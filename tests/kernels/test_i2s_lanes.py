"""I2_S lane model (kernels/i2s/lanes.py): the lanes partition the row, their sums are the kernel's
own `lane_sums`, and the probe reads what the int16 lanes really held (the exact sums, wrapped)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.i2s import avx2 as i2s
from kernels.i2s.lanes import AVX2_LANES, INT16_MAX, lanes, probe
from workbench.errors import UserError


@pytest.mark.parametrize("k, chunk", [(128, 32), (640, 2), (4096, 32), (6912, 32)])
def test_lanes_partition_the_row_into_chunks_of_16(k, chunk):
    found = lanes(k, blocks_per_chunk=chunk)
    members = np.concatenate([lane.members for lane in found])
    assert np.array_equal(np.sort(members), np.arange(k))              # every element in exactly one lane
    n_chunks = -(-(k // 128) // chunk)
    assert [(lane.chunk, lane.lane) for lane in found] == [(c, L) for c in range(n_chunks) for L in range(16)]
    first = found[0].members
    assert sorted(first[:8]) == [0, 1, 32, 33, 64, 65, 96, 97]         # maddubs pairs of the four slices


@pytest.mark.parametrize("seed", [0, 1])
def test_sums_equal_the_kernels_lane_sums_and_probe_wraps_them(seed):
    rng = np.random.default_rng(seed)
    k, chunk = 5120, 32                                  # a 32-block chunk and an 8-block one
    codes = rng.integers(-1, 2, (4, k)).astype(np.int8)
    codes[0, :4096] = 1
    q = rng.integers(-128, 128, k).astype(np.int8)
    q[:4096] = 127                                       # row 0's first chunk: 2 * 127 * 256 per lane
    exact = AVX2_LANES.sums(codes[0], q, blocks_per_chunk=chunk)
    assert np.array_equal(exact, i2s.lane_sums(codes[:1], q, blocks_per_chunk=chunk)[0].reshape(-1))
    assert exact.max() > INT16_MAX
    held = probe(codes[0], q, blocks_per_chunk=chunk)
    assert np.array_equal(held, [AVX2_LANES.wrap(v) for v in exact])
    assert AVX2_LANES.wrap(32768) == -32768 and AVX2_LANES.wrap(-32769) == 32767


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="K=100 is not a positive multiple of 128"):
        lanes(100)
    with pytest.raises(UserError, match="need a weight row"):
        probe(np.zeros(128, np.int8), np.zeros(256, np.int8))
