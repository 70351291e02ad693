"""Malformed input to the weight formats: one FormatError (a workbench.errors.UserError, so the
CLI reports it in one line with exit code 2) naming the problem, never a wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import UnknownNameError
from workbench.formats import FORMATS, FormatError, get_format

LAYOUT = {"tl1": dict(BM=32, BK=64, bm=32), "tl2": dict(BM=32, BK=96, bm=32)}
SHAPE = {"hf_2bit": (32, 256)}


def _packed(name, m=32, k=256):
    t = np.random.default_rng(0).integers(-1, 2, size=(m, k)).astype(np.int8)
    return FORMATS[name].pack(t, gamma=0.5, **LAYOUT.get(name, {}))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_wrong_length(name):
    data = _packed(name, m=128)      # 128 rows: the HVX tile formats need whole 128-row tiles
    with pytest.raises(FormatError, match=rf"{name}\.unpack: length {data.size - 1} is not {data.size} for M=128 K=256"):
        FORMATS[name].unpack(data[:-1], 128, 256, **LAYOUT.get(name, {}))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_codes_outside_ternary(name):
    t = np.zeros((32, 256), dtype=np.int8)
    t[3, 7] = 2
    with pytest.raises(FormatError, match=r"code 2 at row 3 col 7 is outside \{-1, 0, 1\}"):
        FORMATS[name].pack(t, gamma=1.0, **LAYOUT.get(name, {}))


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_bad_gamma(name):
    t = np.zeros((32, 256), dtype=np.int8)
    for gamma in (float("nan"), float("inf"), -1.0):
        with pytest.raises(FormatError, match="gamma"):
            FORMATS[name].pack(t, gamma=gamma, **LAYOUT.get(name, {}))


@pytest.mark.parametrize("name,k,what", [("i2s_x86", 64, "K=64 is not a positive multiple of 128"),
                                         ("i2s_arm", 96, "K=96 is not a positive multiple of 64"),
                                         ("tq1_0", 128, "K=128 is not a positive multiple of 256"),
                                         ("tq2_0", 300, "K=300 is not a positive multiple of 256"),
                                         ("tmac", 12, "K=12 is not a positive multiple of 8"),
                                         ("tl1", 96, "K=96 is not a positive multiple of BK=64"),
                                         ("tl2", 112, "K mod BK=96 is 16, not a multiple of 32")])
def test_k_not_multiple_of_block(name, k, what):
    with pytest.raises(FormatError, match=what):
        FORMATS[name].pack(np.zeros((32, k), np.int8), gamma=1.0, **LAYOUT.get(name, {}))


@pytest.mark.parametrize("name,m,what", [("hf_2bit", 6, "M=6 is not a positive multiple of 4"),
                                         ("tl1", 48, "M=48 is not a positive multiple of BM=32"),
                                         ("tl2", 40, "M=40 is not a positive multiple of BM=32")])
def test_m_not_multiple_of_block(name, m, what):
    with pytest.raises(FormatError, match=what):
        FORMATS[name].pack(np.zeros((m, 256), np.int8), gamma=1.0, **LAYOUT.get(name, {}))


def test_bad_tilings():
    with pytest.raises(FormatError, match="bm=16 must be 32 or 64"):
        FORMATS["tl1"].pack(np.zeros((32, 64), np.int8), gamma=1.0, BM=32, BK=64, bm=16)
    with pytest.raises(FormatError, match="bm=64 must be 32"):
        FORMATS["tl2"].pack(np.zeros((64, 96), np.int8), gamma=1.0, BM=64, BK=96, bm=64)
    with pytest.raises(FormatError, match="BK=100 is not a positive multiple of 24"):
        FORMATS["tl2"].pack(np.zeros((32, 100), np.int8), gamma=1.0, BM=32, BK=100, bm=32)


@pytest.mark.parametrize("name,byte", [("i2s_x86", 5), ("i2s_arm", 9), ("hf_2bit", 17)])
def test_code_3_in_2bit_field(name, byte):
    data = _packed(name).copy()
    data[byte] |= 0x0C     # bits 3:2 = 3
    with pytest.raises(FormatError, match="code 3 in"):
        FORMATS[name].unpack(data, 32, 256)


def test_tq2_0_code_3():
    data = _packed("tq2_0").copy()
    data[66 + 10] = 0xFF    # block 1
    with pytest.raises(FormatError, match="code 3 in a 2-bit field of block 1"):
        FORMATS["tq2_0"].unpack(data, 32, 256)


def test_tl1_index_above_8():
    data = _packed("tl1").copy()
    data[40] = 0x49
    with pytest.raises(FormatError, match="index 9 > 8 in the bottom nibble of byte 40"):
        FORMATS["tl1"].unpack(data, 32, 256, **LAYOUT["tl1"])


def test_tl2_index_above_13_sign_on_zero_and_tail_index():
    lay = LAYOUT["tl2"]
    data = _packed("tl2").copy()
    data[0] = 0xE0                                 # top nibble 14: row 0, triple 0
    with pytest.raises(FormatError, match="index 14 > 13 for row 0 triple 0"):
        FORMATS["tl2"].unpack(data, 32, 256, **lay)
    t = np.zeros((32, 256), np.int8)
    zero = FORMATS["tl2"].pack(t, gamma=1.0, **lay).copy()
    zero[32 * 192 // 6 + 1] = 0x80                 # lane 0, bit 15: triple 0 of row 0
    with pytest.raises(FormatError, match="sign bit set on index 0 for row 0 triple 0"):
        FORMATS["tl2"].unpack(zero, 32, 256, **lay)
    tail = FORMATS["tl2"].pack(t, gamma=1.0, **lay).copy()
    tail[32 * 192 // 6 + 32 * 192 // 24] = 0x9F    # first tail byte: row 0, pairs 0 and 1
    with pytest.raises(FormatError, match="tail index 9 > 8 for row 0 pair 0"):
        FORMATS["tl2"].unpack(tail, 32, 256, **lay)


def test_tmac_non_ternary_code():
    data = _packed("tmac").copy()
    data[0] = 0x00
    data[256 // 8] = 0x00                          # plane 1 of row 0, same groups
    with pytest.raises(FormatError, match="code 0 \\(t = -2\\) at row 0 col 0"):
        FORMATS["tmac"].unpack(data, 32, 256)


def test_wrong_dtype_and_rank():
    with pytest.raises(FormatError, match="data must be uint8"):
        FORMATS["i2s_x86"].unpack(np.zeros(8224, np.int8), 32, 256)
    with pytest.raises(FormatError, match=r"codes must be 2-D \[M, K\]"):
        FORMATS["i2s_x86"].pack(np.zeros(256, np.int8), gamma=1.0)
    with pytest.raises(FormatError, match="codes must be integers"):
        FORMATS["i2s_x86"].pack(np.zeros((1, 128), np.float32), gamma=1.0)
    with pytest.raises(UnknownNameError, match="unknown weight format 'q4_0'; valid: i2s_x86"):
        get_format("q4_0")


def test_tq_scale_not_representable():
    t = np.ones((1, 256), np.int8)
    with pytest.raises(FormatError, match="not representable as an fp16 block scale"):
        FORMATS["tq2_0"].pack(t, gamma=1e6)
    with pytest.raises(FormatError, match="not representable as an fp16 block scale"):
        FORMATS["tq1_0"].pack(t, gamma=1e-9)
