"""The HVX weight layouts (workbench.formats.vector_tiles): exact round trips, the documented byte
positions, and bad input refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.formats import FormatError, get_format
from workbench.formats.vector_tiles import rows128_positions


@pytest.mark.parametrize("name", ["tman", "rows128"])
@pytest.mark.parametrize("shape", [(128, 128), (256, 384), (640, 2560)])
def test_round_trip(name, shape):
    fmt = get_format(name)
    codes = np.random.default_rng(sum(shape)).integers(-1, 2, shape).astype(np.int8)
    data = fmt.pack(codes, gamma=0.25)
    assert data.size == fmt.nbytes(*shape)
    back, gamma = fmt.unpack(data, *shape)
    assert np.array_equal(back, codes) and gamma == np.float32(0.25)


def test_rows128_byte_position():
    # row 32f + i of tile T, column 128 (g // 32) + 4 ((g + i) % 32) + s -> byte (T, g, 4i + s), field f
    m, k = 256, 256
    T, f, i, s, g = 1, 2, 5, 3, 40
    row, col = 128 * T + 32 * f + i, 128 * (g // 32) + 4 * ((g + i) % 32) + s
    codes = np.full((m, k), -1, np.int8)          # code 0 everywhere
    codes[row, col] = 1                           # code 2 in one field
    body = get_format("rows128").pack(codes, gamma=1.0)[:m * k // 4]
    hot = np.flatnonzero(body)
    assert hot.tolist() == [(T * (k // 4) + g) * 128 + 4 * i + s]
    assert body[hot[0]] == 2 << 2 * f


def test_rows128_positions_cover_every_weight_once():
    row, col, _ = rows128_positions(384)
    flat = (row * 384 + col).reshape(-1)
    assert np.array_equal(np.sort(flat), np.arange(128 * 384))


def test_tman_byte_position():
    # chunk c, 16-column step g, plane j, vector h: byte 4i + s is row 128c + 32s + i;
    # the low nibble holds group 4g + 2h, the high nibble 4g + 2h + 1 (index bit = weight position)
    m, k = 256, 64
    c, s, i, g, h, nib, pos = 1, 2, 7, 3, 1, 1, 2
    row, col = 128 * c + 32 * s + i, 4 * (4 * g + 2 * h + nib) + pos
    codes = np.zeros((m, k), np.int8)             # u = 2: plane 0 clear, plane 1 set
    codes[row, col] = -1                          # u = 1: plane 0 set, plane 1 clear
    body = get_format("tman").pack(codes, gamma=1.0)[:m * k // 4].reshape(m // 128, k // 16, 2, 2, 128)
    plane0 = body[:, :, 0]
    hot = np.argwhere(plane0)
    assert hot.tolist() == [[c, g, h, 4 * i + s]]
    assert plane0[c, g, h, 4 * i + s] == 1 << (pos + 4 * nib)


@pytest.mark.parametrize("name, m, k", [("rows128", 100, 128), ("rows128", 128, 100), ("tman", 128, 8)])
def test_bad_shapes_refused(name, m, k):
    with pytest.raises(FormatError, match=name):
        get_format(name).pack(np.zeros((m, k), np.int8), gamma=1.0)


def test_rows128_code_three_refused():
    data = get_format("rows128").pack(np.zeros((128, 128), np.int8), gamma=1.0)
    data[5] |= 0x03
    with pytest.raises(FormatError, match="code 3"):
        get_format("rows128").unpack(data, 128, 128)


def test_tman_minus_two_refused():
    data = get_format("tman").pack(np.zeros((128, 16), np.int8), gamma=1.0)
    data[256:512] = 0                            # plane 1 (bytes [c, g, j=1, h, p]) cleared: u = 0
    with pytest.raises(FormatError, match="t = -2"):
        get_format("tman").unpack(data, 128, 16)
