"""The rows4 weight format (workbench/formats/rows4.py): exact round trip, the documented byte and
field layout, the signed reading of the top row that rowdot relies on, and its one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from workbench.formats import FormatError, get_format
from workbench.formats.rows4 import field_values

FMT = get_format("rows4")


@settings(max_examples=20, deadline=None)
@given(g=st.integers(1, 4), k=st.integers(1, 70), seed=st.integers(0, 2**16),
       gamma=st.floats(0.0, 8.0, width=32))
def test_round_trip(g, k, seed, gamma):
    t = np.random.default_rng(seed).integers(-1, 2, (4 * g, k)).astype(np.int8)
    data = FMT.pack(t, gamma=gamma)
    assert data.dtype == np.uint8 and data.size == FMT.nbytes(4 * g, k) == g * k + 4
    codes, scale = FMT.unpack(data, 4 * g, k)
    assert np.array_equal(codes, t) and scale == np.float32(gamma)


def test_byte_layout_and_signed_top_row():
    t = np.array([[1], [0], [-1], [-1], [-1], [1], [0], [1]], np.int8)      # two byte rows, one column
    data = FMT.pack(t, gamma=1.0)
    # rows 0..2 as t+1 in bits 1:0, 3:2, 5:4; row 3 as t & 3 in bits 7:6
    assert data[0] == (2 | 1 << 2 | 0 << 4 | 3 << 6) and data[1] == (0 | 2 << 2 | 1 << 4 | 1 << 6)
    x = data[:2].view(np.int8).astype(int)
    low = data[:2].astype(int) & 0x3F
    assert list((x - low) // 64) == [-1, 1]             # the signed byte is 64 t + its low six bits
    assert field_values(t).shape == (4, 2, 1)


def test_errors_name_the_culprit():
    with pytest.raises(FormatError, match="M=6 is not a positive multiple of 4"):
        FMT.pack(np.zeros((6, 8), np.int8), gamma=1.0)
    bad = FMT.pack(np.zeros((4, 8), np.int8), gamma=1.0).copy()
    bad[3] = 0b11                                       # row 0 field holding 3
    with pytest.raises(FormatError, match="field 3 of row 0 col 3 is not a ternary code"):
        FMT.unpack(bad, 4, 8)
    bad[3] = 0b10 << 6 | 0b01 | 0b01 << 2 | 0b01 << 4   # row 3 field holding 2 (t = -2)
    with pytest.raises(FormatError, match="field 2 of row 3 col 3"):
        FMT.unpack(bad, 4, 8)
