"""Directed vectors for the HVX semantics: the worked examples of research/isa.md §3.5 and the
conventions other modules rely on (oddhalf = Rt bit 1, even/odd lanes of pairs, 0/1 predicates).

Unit tests of `isa_models.hvx` (lut, multiply, alu, shift, permute, predicate, widen, scalar);
the exhaustive check against qemu-hexagon is tests/oracle/test_hvx_qemu.py.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.execute import execute
from isa_models.hvx import ISA


def _v(values, dtype=np.uint8):
    return np.ascontiguousarray(np.asarray(values, dtype).reshape(1, -1)).view(np.uint8)


def _r(value):
    return np.array([value], "<i4").view(np.uint8).reshape(1, 4)


def _sem(name, *args):
    return ISA[name].semantics(*args)


def test_vlut16_worked_example():
    """Rt = 2, table 0x02FF in every halfword, indices 0..127: 767 exactly at halfword lanes
    16-23 of both output vectors (indices 32-47, top nibble 2), 0 elsewhere [qemu, isa.md §3.5]."""
    lo, hi = _sem("vlut16", _v(np.arange(128)), _v(np.full(64, 0x02FF), "<u2"), _r(2))
    want = np.zeros(64, np.int64)
    want[16:24] = 767
    assert np.array_equal(lo.view("<i2")[0], want) and np.array_equal(hi.view("<i2")[0], want)


def test_vlut_oddhalf_is_rt_bit1_and_nomatch_always_looks_up():
    table = _v(np.arange(64) * 0x0101 + 0x2010, "<u2")          # halfword j: bytes (0x10+j, 0x20+j)
    idx = _v(np.arange(128) % 32)
    even = _sem("vlut32", idx, table, _r(0))                            # match value 0, even bytes
    odd = _sem("vlut32", _v(64 + np.arange(128) % 32), table, _r(2))    # match value 2, oddhalf 1
    assert np.array_equal(even[0], 0x10 + np.arange(128) % 32) and np.array_equal(odd[0], 0x20 + np.arange(128) % 32)
    assert np.array_equal(_sem("vlut32", idx, table, _r(1))[0], np.zeros(128))   # bit 0 is the match value
    nm = _sem("vlut32_nm", _v(np.full(128, 0xE3)), table, _r(1))                  # top bits replaced by 1
    assert np.all(nm[0] == 0x10 + 32 + 3)


def test_vrmpy_worked_example_and_wrap():
    """Vu = 0..127, Vv = (-1, 2) repeated: lane 0 = 6, lane 1 = 14 [qemu, isa.md §3.5]."""
    out = _sem("vrmpy_ubb_vv", _v(np.arange(128)), _v(np.tile([-1, 2], 64), np.int8)).view("<i4")[0]
    assert out[0] == 6 and out[1] == 14
    acc = _v(np.full(32, 2**31 - 1), "<i4")
    got = _sem("vrmpy_ubb_vv_acc", acc, _v(np.full(128, 255)), _v(np.full(128, 127), np.int8)).view("<i4")[0]
    assert np.all(got == np.int32(-(2**31) + 4 * 255 * 127 - 1))


def test_saturation_boundaries():
    top = _v(np.full(64, 32767), "<i2")
    assert np.all(_sem("vadd_h_sat", top, _v(np.ones(64), "<i2")).view("<i2") == 32767)
    assert np.all(_sem("vadd_h", top, _v(np.ones(64), "<i2")).view("<i2") == -32768)
    assert np.all(_sem("vsub_ub_sat", _v(np.zeros(128)), _v(np.ones(128))) == 0)
    assert np.all(_sem("vadd_uh_sat", _v(np.full(64, 65535), "<u2"), top).view("<u2") == 65535)


def test_shift_by_vector_negative_counts_shift_the_other_way():
    one = _v(np.ones(64), "<i2")
    assert np.all(_sem("vasr_h_v", one, _v(np.full(64, 0x1D), "<u2")).view("<i2") == 8)    # count -3: << 3
    assert np.all(_sem("vasl_h_v", _v(np.full(64, -64), "<i2"), _v(np.full(64, 0x1E), "<u2")).view("<i2") == -16)
    assert np.all(_sem("vlsr_h_r", _v(np.full(64, -1), "<i2"), _r(17)).view("<u2") == 0x7FFF)   # Rt & 15 = 1


def test_pairs_even_lanes_low_odd_lanes_high():
    lo, hi = _sem("vadd_ubh", _v(np.arange(128)), _v(np.full(128, 255)))
    assert np.array_equal(lo.view("<i2")[0], np.arange(0, 128, 2) + 255)
    assert np.array_equal(hi.view("<i2")[0], np.arange(1, 128, 2) + 255)
    zlo, zhi = _sem("vzxt_ub", _v(np.arange(128)))
    assert np.array_equal(zlo.view("<u2")[0], np.arange(0, 128, 2)) and np.array_equal(zhi.view("<u2")[0], np.arange(1, 128, 2))
    c_lo, c_hi = _sem("vcombine", _v(np.ones(128)), _v(np.zeros(128)))          # vcombine(Vu, Vv): low = Vv
    assert np.all(c_lo == 0) and np.all(c_hi == 1)


def test_predicates_are_zero_one_bytes_and_drive_vmux():
    q = _sem("vcmp_gt_h", _v(np.tile([5, -5], 32), "<i2"), _v(np.zeros(64), "<i2"))
    assert set(np.unique(q)) == {0, 1} and np.array_equal(q[0], np.tile([1, 1, 0, 0], 32))
    mux = _sem("vmux", q, _v(np.full(128, 7)), _v(np.full(128, 9)))
    assert np.array_equal(mux[0], np.tile([7, 7, 9, 9], 32))
    part = _sem("vadd_h_q", _v(np.full(64, 0x00FF), "<u2"), _v(np.tile([1, 0], 64)), _v(np.ones(64), "<u2"))
    assert np.all(part.view("<u2") == 0x0000)     # only the low byte takes the sum's byte (0x0100 -> 0x00)


def test_shuffle_network_is_undone_by_the_deal_network():
    rng = np.random.default_rng(3)
    u, v = rng.integers(0, 256, (1, 128), dtype=np.uint8), rng.integers(0, 256, (1, 128), dtype=np.uint8)
    for ctl in (1, 2, 0x55, 127, -2):
        lo, hi = _sem("vshuff_r", u, v, _r(ctl))
        back_lo, back_hi = _sem("vdeal_r", hi, lo, _r(ctl))
        assert np.array_equal(back_lo, v) and np.array_equal(back_hi, u)
    assert np.array_equal(_sem("vdelta", u, np.zeros((1, 128), np.uint8)), u)
    assert np.array_equal(_sem("vror", u, _r(129)), np.roll(u, -1, axis=1))
    assert np.array_equal(_sem("vdeal_b", _sem("vshuff_b", u)), u)


def test_pair_accumulator_in_a_program():
    """vadd_hw_acc ties both halves of its accumulator pair: a loop carries the pair."""
    b = ProgramBuilder(ISA, "hvx_pair_acc")
    src, dst = b.buffer("x", 256), b.buffer("y", 256, role="output")
    zero = b.tfrsi(0)
    lo, hi = b.vsplat_w(zero), b.vsplat_w(zero)
    with b.loop("k", 2) as k:
        x = b.vmem_load(src[128 * k])
        b.vadd_hw_acc(lo, hi, x, x, out=(lo, hi))
    b.vmem_store(dst[0], lo)
    b.vmem_store(dst[128], hi)
    x = np.arange(256, dtype=np.uint8)
    y = execute(b.build(), {"x": x})["y"].view("<i4")
    h = x.view("<i2").astype(np.int64)
    assert np.array_equal(y[:32], 2 * (h[0:64:2] + h[64:128:2])) and np.array_equal(y[32:], 2 * (h[1:64:2] + h[65:128:2]))
