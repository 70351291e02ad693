"""Directed vectors for the NEON semantics, one or more per family, worked by hand from the Arm ARM.

Covers isa_models.neon.{loadstore, arith, widen, dot, table, shift, logic, permute, compare,
saturate, floatops} and the zero-extending narrow writes through the executor. Every form is
also checked against qemu-aarch64 in tests/oracle/test_neon_qemu.py; these cases pin the rules
that are easy to get wrong and run without QEMU.
"""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.execute import execute
from isa_models.neon import ISA


def _b(values, dtype=np.uint8) -> np.ndarray:
    """One (1, nbytes) value from lane values of `dtype`."""
    return np.ascontiguousarray(np.array([values], dtype=dtype)).view(np.uint8)


def _run(name, *args):
    return ISA[name].semantics(*args)


def _lanes(out, dtype):
    return np.ascontiguousarray(out).view(dtype)[0].tolist()


def test_tbl_out_of_range_gives_zero_and_tbx_keeps():
    t0, t1 = _b(range(100, 116)), _b(range(200, 216))
    idx = _b([0, 15, 16, 31, 32, 255, 1, 17, 40, 128, 5, 20, 33, 64, 30, 2])
    assert _lanes(_run("tbl2_16b", t0, t1, idx), np.uint8) == [100, 115, 200, 215, 0, 0, 101, 201, 0, 0, 105, 204,
                                                                 0, 0, 214, 102]
    old = _b([7] * 16)
    assert _lanes(_run("tbx2_16b", old, t0, t1, idx), np.uint8)[4:6] == [7, 7]
    assert _lanes(_run("tbl1_8b", t0, _b([0, 16, 3, 200, 1, 2, 3, 4])), np.uint8) == [100, 0, 103, 0, 101, 102,
                                                                                        103, 104]


def test_sdot_udot_usdot_and_lane():
    acc = _b([1, -1, 2**31 - 1, 0], np.int32)
    a = _b([-128, 127, 1, 2] * 4, np.int8)
    b = _b([-128, -128, 3, 4] * 4, np.int8)
    dot = 128 * 128 - 127 * 128 + 3 + 8
    assert _lanes(_run("sdot_4s", acc, a, b), np.int32) == [1 + dot, -1 + dot, (2**31 - 1 + dot) - 2**32, dot]
    # udot reads the same bytes unsigned: 128*128 + 127*128 + 3 + 8
    assert _lanes(_run("udot_4s", _b([0] * 4, np.int32), a, b), np.uint32)[0] == 128 * 128 + 127 * 128 + 11
    # usdot: a unsigned, b signed
    assert _lanes(_run("usdot_4s", _b([0] * 4, np.int32), a, b), np.int32)[0] == -128 * 128 - 127 * 128 + 11
    # by element: group 2 of b (bytes 8..11) against every group of a
    bl = _b(list(range(16)), np.int8)
    assert _lanes(_run("sdot_lane_4s", _b([0] * 4, np.int32), _b([1] * 16, np.int8), bl, 2), np.int32) == \
        [8 + 9 + 10 + 11] * 4


def test_smmla_is_a_times_b_transposed():
    a = np.arange(16, dtype=np.int8).reshape(2, 8)
    b = (np.arange(16, dtype=np.int8) - 8).reshape(2, 8)
    acc = _b([10, 20, 30, 40], np.int32)
    want = (a.astype(np.int64) @ b.T.astype(np.int64)).reshape(-1) + [10, 20, 30, 40]
    assert _lanes(_run("smmla_4s", acc, _b(a.reshape(-1), np.int8), _b(b.reshape(-1), np.int8)), np.int32) == \
        want.tolist()


def test_widening_and_pairwise():
    a = _b([-128, 127, -1, 5, 0, 0, 0, 0, 100, 100, 100, 100, 100, 100, 100, -100], np.int8)
    assert _lanes(_run("saddl_8h", a, a), np.int16)[:4] == [-256, 254, -2, 10]
    assert _lanes(_run("saddl2_8h", a, a), np.int16)[7] == -200
    assert _lanes(_run("uaddl_8h", a[:, :8], a[:, :8]), np.uint16)[:2] == [256, 254]
    assert _lanes(_run("sadalp_8h", _b([32767] + [0] * 7, np.int16), a), np.int16)[:2] == [32766, 4]
    assert _lanes(_run("saddlp_8h", a), np.int16)[:2] == [-1, 4]
    assert _lanes(_run("addv_16b", a), np.uint8) == [(-128 + 127 - 1 + 5 + 7 * 100 - 100) % 256]
    assert _lanes(_run("saddlv_16b", a), np.int16) == [-128 + 127 - 1 + 5 + 7 * 100 - 100]
    assert _lanes(_run("addp_4s", _b([1, 2, 3, 4], np.int32), _b([5, 6, 7, 8], np.int32)), np.int32) == [3, 7, 11, 15]
    assert _lanes(_run("smull_8h", a[:, :8], a[:, :8]), np.int16)[:2] == [16384, 16129]
    assert _lanes(_run("smlal2_4s", _b([1] * 4, np.int32), _b([0, 0, 0, 0, -32768, 2, 3, 4], np.int16),
                       _b([0, 0, 0, 0, -32768, 2, 3, 4], np.int16)), np.int32)[0] == 1 + 2**30


def test_saturation_and_narrowing():
    x = _b([120, -120, 127, -128] * 4, np.int8)
    y = _b([10, -10, 1, -1] * 4, np.int8)
    assert _lanes(_run("sqadd_16b", x, y), np.int8)[:4] == [127, -128, 127, -128]
    assert _lanes(_run("uqsub_16b", y, x), np.uint8)[:2] == [0, 246 - 136]
    big = _b([2**63 - 1, -2**63], np.int64)
    assert _lanes(_run("sqadd_2d", big, big), np.int64) == [2**63 - 1, -2**63]
    assert _lanes(_run("uqadd_2d", big, big), np.uint64) == [2**64 - 2, 2**64 - 1]
    wide = _b([300, -300, 127, -129, 255, 256, -1, 0], np.int16)
    assert _lanes(_run("sqxtn_8b", wide), np.int8) == [127, -128, 127, -128, 127, 127, -1, 0]
    assert _lanes(_run("sqxtun_8b", wide), np.uint8) == [255, 0, 127, 0, 255, 255, 0, 0]
    assert _lanes(_run("xtn_8b", wide), np.uint8) == [300 % 256, (-300) % 256, 127, (-129) % 256, 255, 0, 255, 0]
    old = _b(list(range(16)))
    assert _lanes(_run("sqxtn2_16b", old, wide), np.uint8)[:8] == list(range(8))


def test_shift_edges():
    a = _b([-128, 64, 1, -1] * 4, np.int8)
    assert _lanes(_run("sshr_16b", a, 8), np.int8)[:4] == [-1, 0, 0, -1]
    assert _lanes(_run("ushr_16b", a, 8), np.uint8)[:4] == [0, 0, 0, 0]
    assert _lanes(_run("shl_16b", a, 7), np.uint8)[:4] == [0, 0, 128, 128]
    assert _lanes(_run("sri_16b", _b([0xFF] * 16), _b([0x80] * 16), 8), np.uint8)[0] == 0xFF
    assert _lanes(_run("sri_16b", _b([0xFF] * 16), _b([0x80] * 16), 4), np.uint8)[0] == 0xF8
    assert _lanes(_run("sli_16b", _b([0xFF] * 16), _b([0x01] * 16), 4), np.uint8)[0] == 0x1F
    counts = _b([-8, -9, 8, 7, -1, 1, 127, -128] * 2, np.int8)
    assert _lanes(_run("sshl_16b", _b([-128] * 16, np.int8), counts), np.int8)[:8] == [-1, -1, 0, 0, -64, 0, 0, -1]
    assert _lanes(_run("ushl_16b", _b([0x80] * 16), counts), np.uint8)[:8] == [0, 0, 0, 0, 0x40, 0, 0, 0]
    # sshl reads only the low byte of each element of the count
    assert _lanes(_run("sshl_8h", _b([1] * 8, np.int16), _b([0x0103] * 8, np.uint16)), np.int16)[0] == 8


def test_logic_selects_and_permutes():
    d, n, m = _b([0xF0] * 16), _b([0xAA] * 16), _b([0x0F] * 16)
    assert _lanes(_run("bsl_16b", d, n, m), np.uint8)[0] == 0xAF
    assert _lanes(_run("bit_16b", d, n, m), np.uint8)[0] == 0xFA
    assert _lanes(_run("bif_16b", d, n, m), np.uint8)[0] == 0xA0
    assert _lanes(_run("cnt_16b", _b(range(16))), np.uint8)[:8] == [0, 1, 1, 2, 1, 2, 2, 3]
    a, b = _b(range(0, 4), np.int32), _b(range(10, 14), np.int32)
    assert _lanes(_run("zip1_4s", a, b), np.int32) == [0, 10, 1, 11]
    assert _lanes(_run("zip2_4s", a, b), np.int32) == [2, 12, 3, 13]
    assert _lanes(_run("uzp1_4s", a, b), np.int32) == [0, 2, 10, 12]
    assert _lanes(_run("trn2_4s", a, b), np.int32) == [1, 11, 3, 13]
    assert _lanes(_run("ext_16b", _b(range(16)), _b(range(16, 32)), 3), np.uint8) == list(range(3, 19))
    assert _lanes(_run("rev32_8h", _b(range(8), np.int16)), np.int16) == [1, 0, 3, 2, 5, 4, 7, 6]
    assert _lanes(_run("cmgt_16b", _b([-1] * 16, np.int8), _b([1] * 16, np.int8)), np.uint8)[0] == 0
    assert _lanes(_run("cmhi_16b", _b([-1] * 16, np.int8), _b([1] * 16, np.int8)), np.uint8)[0] == 0xFF
    assert _lanes(_run("cmtst_4s", _b([1, 2, 4, 8], np.int32), _b([1, 1, 5, 0], np.int32)), np.int32) == [-1, 0, -1,
                                                                                                          0]


def _f(values):
    return _b(values, np.uint32)


def test_fp_nan_rules():
    snan, qnan, qnan2, one = 0x7F800001, 0x7FC00005, 0xFFC00007, 0x3F800000
    # a signalling NaN wins over a quiet one whatever the order; then the first operand
    out = _lanes(_run("fadd_4s", _f([qnan, snan, qnan, one]), _f([snan, qnan, qnan2, qnan2])), np.uint32)
    assert out == [snan | 0x400000, snan | 0x400000, qnan, qnan2]
    # invalid operations give the positive default NaN
    inf, ninf, zero = 0x7F800000, 0xFF800000, 0
    assert _lanes(_run("fadd_4s", _f([inf] * 4), _f([ninf] * 4)), np.uint32) == [0x7FC00000] * 4
    assert _lanes(_run("fmul_4s", _f([inf] * 4), _f([zero] * 4)), np.uint32) == [0x7FC00000] * 4
    # fmla: addend first; a quiet-NaN addend with 0 * inf is the default NaN
    out = _lanes(_run("fmla_4s", _f([qnan, qnan, one, qnan]), _f([zero, snan, one, one]), _f([inf, one, qnan2, one])),
                 np.uint32)
    assert out == [0x7FC00000, snan | 0x400000, qnan2, qnan]


def test_fmla_rounds_once():
    a = np.float32(1 + 2**-12)
    c = np.float32(-(1 + 2**-11))                  # a*a = 1 + 2^-11 + 2^-24: the fused sum is 2^-24
    out = _lanes(_run("fmla_4s", _b([c] * 4, np.float32), _b([a] * 4, np.float32), _b([a] * 4, np.float32)),
                 np.float32)
    assert out == [2.0**-24] * 4                   # fmul then fadd would give 0
    assert _lanes(_run("fadd_4s", _b([c] * 4, np.float32), _run("fmul_4s", _b([a] * 4, np.float32),
                                                                  _b([a] * 4, np.float32))), np.float32) == [0.0] * 4


def test_conversions():
    assert _lanes(_run("scvtf_4s", _b([2**24 + 1, 2**24 + 3, -1, 2**31 - 1], np.int32)), np.float32) == \
        [2.0**24, 2.0**24 + 4, -1.0, 2.0**31]
    assert _lanes(_run("fcvtzs_4s", _b([-1.5, 3e9, np.nan, -3e9], np.float32)), np.int32) == [-1, 2**31 - 1, 0, -2**31]
    assert _lanes(_run("fcvtns_4s", _b([0.5, 1.5, 2.5, -2.5], np.float32)), np.int32) == [0, 2, 2, -2]


def test_moves():
    m = _b(range(64))
    assert [_lanes(v, np.uint8)[0] for v in _run("ld1x4_16b", m)] == [0, 16, 32, 48]
    assert _lanes(_run("ld1r_8h", _b([1, 2])), np.uint16) == [0x0201] * 8
    assert _lanes(_run("dup_4s", _b([-2], np.int64)), np.int32) == [-2] * 4
    assert _lanes(_run("movi_8h", 0xAB), np.uint16) == [0xAB] * 8
    assert _lanes(_run("st1x2_16b", _b(range(16)), _b(range(16, 32))), np.uint8) == list(range(32))
    with pytest.raises(ValueError, match="sshr_16b: immediate 0 outside 1..8"):
        _run("sshr_16b", _b(range(16)), 0)


def test_d_form_results_zero_the_upper_half_in_a_program():
    """The executor's zero_extend policy on an 8-byte result written over a full register."""
    b = ProgramBuilder(ISA, "dform")
    src = b.buffer("src", 16)
    out = b.buffer("out", 32, role="output")
    full = b.ld1_16b(src[0])
    acc = b.add_16b(full, full)
    low = b.add_8b(full, full)
    b.st1_16b(out[0], acc)
    b.st1_16b(out[16], low)
    result = execute(b.build(), {"src": np.arange(16, dtype=np.uint8)})["out"]
    assert result[:16].tolist() == [2 * k for k in range(16)]
    assert result[16:].tolist() == [2 * k for k in range(8)] + [0] * 8
