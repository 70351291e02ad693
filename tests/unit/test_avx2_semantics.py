"""Directed semantic vectors for the AVX2 model (no compiler needed).

Each test pins one behaviour a ternary kernel depends on and that is easy to get wrong: saturation
of vpmaddubsw, vpshufb zeroing and per-lane indexing, int16 wrap of vpaddw, per-lane vpalignr and
packs, vpermq order, shift counts past the lane width, vpsignb of -128, vpdpbusd wrap; and the fp32
forms: x86's NaN choice (src1 first, quieted), the default NaN of inf - inf and 0 * inf, denormals
kept, one rounding per op, vcvtdq2ps ties to even.
"""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.avx2 import ISA


def run(name, *args):
    """Run `name`'s semantics on rows given as lists/arrays of bytes (or lane arrays via .view)."""
    conv = [a if isinstance(a, int) else np.asarray(a).reshape(1, -1).view(np.uint8) for a in args]
    return ISA[name].semantics(*conv)


def i16(values):
    return np.asarray(values, np.int16).view(np.uint8)


def as_i16(out):
    return out.view(np.int16)[0]


def test_vpmaddubsw_saturates_to_int16():
    a = np.full(32, 255, np.uint8)
    plus = np.full(32, 127, np.int8).view(np.uint8)
    minus = np.full(32, -128, np.int8).view(np.uint8)
    assert (as_i16(run("vpmaddubsw_ymm", a, plus)) == 32767).all()      # 2*255*127 = 64770
    assert (as_i16(run("vpmaddubsw_ymm", a, minus)) == -32768).all()    # 2*255*-128 = -65280
    # exactly at the bound: 255*127 + 191*2 = 32767 stays; +1 more would saturate
    a2 = np.tile(np.array([255, 191], np.uint8), 16)
    b2 = np.tile(np.array([127, 2], np.int8), 16).view(np.uint8)
    assert (as_i16(run("vpmaddubsw_ymm", a2, b2)) == 32767).all()
    # first operand is unsigned, second signed: 0x80 * -1 = -128 (not +128)
    a3 = np.tile(np.array([0x80, 0], np.uint8), 16)
    b3 = np.tile(np.array([-1, 0], np.int8), 16).view(np.uint8)
    assert (as_i16(run("vpmaddubsw_ymm", a3, b3)) == -128).all()


def test_vpshufb_zeroes_on_bit7_and_indexes_per_lane():
    table = np.arange(32, dtype=np.uint8) + 100                 # lane 0: 100..115, lane 1: 116..131
    index = np.array([0, 15, 0x80, 0x8F, 16, 31, 0x10 | 3, 0xFF] * 4, np.uint8)
    out = run("vpshufb_ymm", table, index)[0]
    lane0 = [100, 115, 0, 0, 100, 115, 103, 0]                   # index & 15, bit 7 -> 0
    lane1 = [116, 131, 0, 0, 116, 131, 119, 0]                   # same indices select from lane 1
    np.testing.assert_array_equal(out, lane0 * 2 + lane1 * 2)
    x = run("vpshufb_xmm", table[:16], index[:16])
    assert x.shape == (1, 16)
    np.testing.assert_array_equal(x[0], lane0 * 2)


def test_vpaddw_wraps_and_vpaddsw_saturates():
    a = i16([32767, -32768, 1000, -1] * 4)
    b = i16([1, -1, 32767, -32768] * 4)
    np.testing.assert_array_equal(as_i16(run("vpaddw_ymm", a, b)), [-32768, 32767, -31769, 32767] * 4)
    np.testing.assert_array_equal(as_i16(run("vpaddsw_ymm", a, b)), [32767, -32768, 32767, -32768] * 4)


def test_vpaddb_wraps_vpaddsb_saturates():
    a = np.array([0x7F, 0x80, 0xFF, 0x01] * 8, np.uint8)
    b = np.array([0x01, 0xFF, 0x01, 0x7F] * 8, np.uint8)
    np.testing.assert_array_equal(run("vpaddb_ymm", a, b)[0], [0x80, 0x7F, 0x00, 0x80] * 8)
    np.testing.assert_array_equal(run("vpaddsb_ymm", a, b)[0], [0x7F, 0x80, 0x00, 0x7F] * 8)


def test_vpalignr_works_per_lane():
    a = np.arange(32, dtype=np.uint8) + 64                       # high part of each concatenation
    b = np.arange(32, dtype=np.uint8)                            # low part
    out = run("vpalignr_ymm", a, b, 4)[0]
    np.testing.assert_array_equal(out[:16], [*range(4, 16), 64, 65, 66, 67])
    np.testing.assert_array_equal(out[16:], [*range(20, 32), 80, 81, 82, 83])
    np.testing.assert_array_equal(run("vpalignr_ymm", a, b, 20)[0][:16], [68, 69, 70, 71, 72, 73, 74, 75,
                                                                           76, 77, 78, 79, 0, 0, 0, 0])
    assert not run("vpalignr_ymm", a, b, 32).any()


def test_packs_work_per_lane_and_saturate():
    a = i16([1, -1, 300, -300, 127, -128, 32767, -32768, 10, 11, 12, 13, 14, 15, 16, 17])
    b = i16([100 + k for k in range(16)])
    out = run("vpacksswb_ymm", a, b)[0].view(np.int8)
    np.testing.assert_array_equal(out[:8], [1, -1, 127, -128, 127, -128, 127, -128])   # a, lane 0
    np.testing.assert_array_equal(out[8:16], range(100, 108))                          # b, lane 0
    np.testing.assert_array_equal(out[16:24], range(10, 18))                           # a, lane 1
    np.testing.assert_array_equal(out[24:], range(108, 116))                           # b, lane 1
    us = run("vpackuswb_ymm", a, b)[0]
    np.testing.assert_array_equal(us[:8], [1, 0, 255, 0, 127, 0, 255, 0])


def test_vpermq_order():
    a = np.repeat(np.arange(4, dtype=np.uint8), 8)                # quadword q holds bytes == q
    out = run("vpermq_ymm", a, 0b00_01_10_11)[0]                   # reverse
    np.testing.assert_array_equal(out, np.repeat([3, 2, 1, 0], 8))
    out = run("vpermq_ymm", a, 0xD8)[0]                            # 0,2,1,3: the TL2 row permutation
    np.testing.assert_array_equal(out, np.repeat([0, 2, 1, 3], 8))


def test_vperm2i128_select_and_zero():
    a = np.repeat(np.array([1, 2], np.uint8), 16)
    b = np.repeat(np.array([3, 4], np.uint8), 16)
    np.testing.assert_array_equal(run("vperm2i128_ymm", a, b, 0x21)[0], np.repeat([2, 3], 16))
    np.testing.assert_array_equal(run("vperm2i128_ymm", a, b, 0x08)[0], np.repeat([0, 1], 16))


@pytest.mark.parametrize("count", [16, 17, 255])
def test_shift_counts_past_lane_width(count):
    a = i16([-2, 0x4000, 1, -32768] * 4)
    assert not run("vpsrlw_ymm", a, count).any()
    assert not run("vpsllw_ymm", a, count).any()
    np.testing.assert_array_equal(as_i16(run("vpsraw_ymm", a, count)), [-1, 0, 0, -1] * 4)
    huge = np.zeros(16, np.uint8)
    huge[4] = 1                                                   # count 2**32 in the low quadword
    assert not run("vpsrlw_ymm_x", a, huge).any()


def test_shift_by_four_extracts_nibbles():
    codes = np.array([0xA7] * 32, np.uint8)
    out = run("vpsrlw_ymm", codes, 4)[0]
    np.testing.assert_array_equal(out[::2], [0x7A] * 16)          # low byte gets high nibble + next byte
    np.testing.assert_array_equal(out[1::2], [0x0A] * 16)


def test_vpsignb_and_vpabsb_at_minus_128():
    a = np.array([0x80, 5, 5, 0x80] * 8, np.uint8)
    s = np.array([0xFF, 0xFF, 0, 1] * 8, np.uint8)
    np.testing.assert_array_equal(run("vpsignb_ymm", a, s)[0], [0x80, 0xFB, 0, 0x80] * 8)
    np.testing.assert_array_equal(run("vpabsb_ymm", a)[0], [0x80, 5, 5, 0x80] * 8)


def test_vpdpbusd_accumulates_and_wraps():
    acc = np.full(8, 2**31 - 10, np.int32).view(np.uint8)
    a = np.full(32, 255, np.uint8)
    b = np.full(32, 1, np.uint8)
    out = run("vpdpbusd_ymm", acc, a, b)[0].view(np.int32)        # + 4*255 wraps past int32 max
    np.testing.assert_array_equal(out, np.full(8, (2**31 - 10 + 1020) - 2**32))


def test_vpmaddwd_only_overflow_case_wraps():
    a = i16([-32768] * 16)
    out = run("vpmaddwd_ymm", a, a)[0].view(np.int32)
    np.testing.assert_array_equal(out, np.full(8, -2**31))


def test_widen_extract_insert_broadcast():
    x = np.arange(32, dtype=np.uint8) * 9                        # bytes with bit 7 set in places
    hi = run("vextracti128_ymm", x, 1)
    np.testing.assert_array_equal(hi[0], x[16:])
    w = run("vpmovsxbw_ymm", hi)[0].view(np.int16)
    np.testing.assert_array_equal(w, x[16:].view(np.int8))
    ins = run("vinserti128_ymm", np.zeros(32, np.uint8), x[:16], 1)[0]
    np.testing.assert_array_equal(ins, [0] * 16 + list(x[:16]))
    np.testing.assert_array_equal(run("vbroadcasti128_ymm_m", x[:16])[0], np.tile(x[:16], 2))
    np.testing.assert_array_equal(run("vpbroadcastw_ymm", x[:16])[0], np.tile(x[:2], 16))


def test_unpack_hadd_sad_blend_movemask():
    a = np.arange(32, dtype=np.uint8)
    b = np.arange(32, dtype=np.uint8) + 100
    lo = run("vpunpcklbw_ymm", a, b)[0]
    np.testing.assert_array_equal(lo[:4], [0, 100, 1, 101])
    np.testing.assert_array_equal(lo[16:20], [16, 116, 17, 117])      # lane 1 uses lane 1 bytes
    h = run("vphaddd_ymm", np.arange(8, dtype=np.int32).view(np.uint8),
            np.arange(8, 16, dtype=np.int32).view(np.uint8))[0].view(np.int32)
    np.testing.assert_array_equal(h, [1, 5, 17, 21, 9, 13, 25, 29])
    sad = run("vpsadbw_ymm", a, np.zeros(32, np.uint8))[0].view(np.uint64)
    np.testing.assert_array_equal(sad, [28, 92, 156, 220])
    mask = np.array([0x80, 0x7F] * 16, np.uint8)
    np.testing.assert_array_equal(run("vpblendvb_ymm", a, b, mask)[0], np.where(mask >= 0x80, b, a))
    assert run("vpmovmskb_ymm", mask)[0].view(np.uint64)[0] == 0x55555555


def test_semantics_vectorize_over_rows():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (5, 32), dtype=np.uint8)
    b = rng.integers(0, 256, (5, 32), dtype=np.uint8)
    whole = ISA["vpmaddubsw_ymm"].semantics(a, b)
    rows = np.concatenate([ISA["vpmaddubsw_ymm"].semantics(a[k:k + 1], b[k:k + 1]) for k in range(5)])
    np.testing.assert_array_equal(whole, rows)
    assert ISA["vpxor_zero_ymm"].semantics().shape == (1, 32)


def f32(bits):
    """Eight fp32 lanes given as bit patterns (one value is repeated)."""
    return np.resize(np.asarray(bits, np.uint32), 8).view(np.uint8)


def bits_of(out):
    return out.view(np.uint32)[0]


@pytest.mark.parametrize("name", ["vaddps_ymm", "vsubps_ymm", "vmulps_ymm", "vaddps_ymm_m"])
def test_fp32_nan_of_src1_wins_and_is_quieted(name):
    snan1, qnan2 = 0xFF812345, 0x7FC0BEEF                 # payloads and signs differ
    assert (bits_of(run(name, f32(snan1), f32(qnan2))) == 0xFFC12345).all()   # src1, bit 22 set
    assert (bits_of(run(name, f32(qnan2), f32(snan1))) == 0x7FC0BEEF).all()
    assert (bits_of(run(name, f32(0x3F800000), f32(0x7F800001))) == 0x7FC00001).all()  # src2 quieted
    assert (bits_of(run(name, f32(0x7F800001), f32(0x3F800000))) == 0x7FC00001).all()


def test_fp32_invalid_operations_give_the_default_nan():
    inf, ninf, zero = 0x7F800000, 0xFF800000, 0x00000000
    assert (bits_of(run("vaddps_ymm", f32(inf), f32(ninf))) == 0xFFC00000).all()
    assert (bits_of(run("vsubps_ymm", f32(inf), f32(inf))) == 0xFFC00000).all()
    assert (bits_of(run("vmulps_ymm", f32(zero), f32(ninf))) == 0xFFC00000).all()
    assert (bits_of(run("vaddps_ymm", f32(inf), f32(inf))) == inf).all()          # not invalid
    assert (bits_of(run("vsubps_ymm", f32(zero), f32(zero))) == zero).all()       # +0 - +0 = +0


def test_fp32_denormals_kept_and_one_rounding_per_op():
    tiny = 0x00000001                                      # 2^-149, the smallest denormal
    assert (bits_of(run("vaddps_ymm", f32(tiny), f32(tiny))) == 0x00000002).all()    # no DAZ
    half_min = run("vmulps_ymm", f32(0x00800000), f32(0x3F000000))                   # 2^-126 / 2
    assert (bits_of(half_min) == 0x00400000).all()                                   # no FTZ
    # 1 + 2^-24 is a tie between 1 and 1 + 2^-23: to even (1); 1 + 3*2^-25 rounds up
    assert (bits_of(run("vaddps_ymm", f32(0x3F800000), f32(0x33800000))) == 0x3F800000).all()
    assert (bits_of(run("vaddps_ymm", f32(0x3F800000), f32(0x33C00000))) == 0x3F800001).all()
    # (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46: one rounding gives 1 + 2^-22 (0x3F800002)
    assert (bits_of(run("vmulps_ymm", f32(0x3F800001), f32(0x3F800001))) == 0x3F800002).all()


def test_vcvtdq2ps_rounds_to_nearest_even():
    ints = np.array([2**24 + 1, 2**24 + 3, -(2**24 + 1), 2**25 + 2, 2**31 - 1, -2**31, 2**31 - 65, 7],
                    np.int32)
    got = run("vcvtdq2ps_ymm", ints.view(np.uint8))[0].view(np.float32)
    want = [2.0**24, 2.0**24 + 4, -2.0**24, 2.0**25, 2.0**31, -2.0**31, 2.0**31 - 128, 7.0]
    np.testing.assert_array_equal(got, np.array(want, np.float32))


def test_vbroadcastss_keeps_signalling_nan_bits():
    m = np.array([0x7F800001, 0x3F800000], np.uint32).view(np.uint8)
    assert (bits_of(run("vbroadcastss_ymm_m", m[:4])) == 0x7F800001).all()
