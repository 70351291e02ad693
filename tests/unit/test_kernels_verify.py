"""kernels.verify, the one result checker: status words, integer equality, the one rule for bounded
kernels (any differing row fails, rows outside the bound counted), lossy error, byte-level
cross-check comparison, and the sweep built on them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kernels import registry
from kernels.registry import KernelSpec
from kernels.verify import (STATUSES, Check, check_accumulators, compare_buffers, overall_status, unsupported,
                            verify)

CODES = np.ones((6, 4), np.int8)
Q = np.full(4, 3, np.int8)
EXPECTED = np.arange(6, dtype=np.int32) * 10


def _spec(exactness: str, **kw) -> KernelSpec:
    """A kernel record for the checker alone (it never builds or runs)."""
    def never(*a, **k):
        raise AssertionError("the checker must not run the kernel")
    return KernelSpec(name="toy", isa="toy", weight_format="tl2", description="checker test",
                      params={"chunk": 2}, exactness=exactness, build=never, prepare=never, result=never,
                      check_shape=never, **kw)


EXACT = _spec("exact")
#: bounded: rows 4 and 5 lie outside the bound; diagnose echoes its arguments
BOUNDED = _spec("bounded", bound="every row below 4", bound_holds=lambda codes, q, *, chunk: np.arange(6) < 4,
                diagnose=lambda codes, q, row, e, g, *, chunk: f"diag row {row} chunk {chunk}")
LOSSY = _spec("lossy", error={"relative_rms_error": 0.01})


def test_statuses_are_the_four_words():
    assert STATUSES == ("VERIFIED", "FAILED", "LOSSY", "UNSUPPORTED")
    with pytest.raises(ValueError, match="'exact' is not one of VERIFIED"):
        Check("exact", 3)


def test_equal_rows_are_verified():
    c = check_accumulators(EXACT, CODES, Q, EXPECTED.copy(), EXPECTED)
    assert c.status == "VERIFIED" and c.ok and c.compared == 6 and c.mismatches == 0
    assert c.describe() == "VERIFIED (6 rows equal)"


def test_one_wrong_row_fails_by_integer_equality():
    got = EXPECTED.copy()
    got[3] += 1
    c = check_accumulators(EXACT, CODES, Q, got, EXPECTED)
    assert c.status == "FAILED" and not c.ok and c.mismatches == 1
    assert c.first_mismatch == "row 3: expected 30, got 31"
    assert c.describe() == "FAILED: 1 of 6 rows differ; row 3: expected 30, got 31"
    # int64 results off by 2**32 are not equal to int32 ones (no wrapping comparison)
    wide = EXPECTED.astype(np.int64)
    wide[0] += 2 ** 32
    assert check_accumulators(EXACT, CODES, Q, wide, EXPECTED).first_mismatch == "row 0: expected 0, got 4294967296"


def test_non_integers_and_wrong_row_counts_fail_with_the_reason():
    c = check_accumulators(EXACT, CODES, Q, EXPECTED.astype(np.float32), EXPECTED)
    assert c.status == "FAILED" and c.first_mismatch == "kernel returned float32, not integers"
    c = check_accumulators(EXACT, CODES, Q, EXPECTED[:5], EXPECTED)
    assert c.status == "FAILED" and "kernel returned 5 accumulators" in c.first_mismatch and "expected 6" in c.first_mismatch
    c = check_accumulators(LOSSY, CODES, Q, EXPECTED.reshape(2, 3), EXPECTED)
    assert c.status == "FAILED" and "of shape (2, 3)" in c.first_mismatch


def test_bounded_rows_outside_the_bound_that_match_are_verified_and_counted():
    c = check_accumulators(BOUNDED, CODES, Q, EXPECTED.copy(), EXPECTED)
    assert c.status == "VERIFIED" and c.outside_bound == 2 and c.mismatches == 0
    assert c.describe() == "VERIFIED (6 rows equal; 2 rows outside the kernel's bound, equal anyway)"


def test_bounded_row_outside_the_bound_that_differs_fails():
    got = EXPECTED.copy()
    got[5] -= 65536
    c = check_accumulators(BOUNDED, CODES, Q, got, EXPECTED)
    assert c.status == "FAILED" and c.mismatches == 1 and c.mismatches_outside_bound == 1 and c.outside_bound == 2
    assert c.first_mismatch == ("row 5: expected 50, got -65486 (diag row 5 chunk 2) "
                                "[inputs outside the kernel's bound: every row below 4]")
    assert c.describe().startswith("FAILED: 1 of 6 rows differ, 1 of them outside the kernel's bound "
                                   "(2 rows outside it in all); row 5:")


def test_bounded_row_inside_the_bound_is_shown_first_as_a_kernel_bug():
    spec = dataclasses.replace(BOUNDED, bound_holds=lambda codes, q, *, chunk: np.arange(6) >= 2)
    got = EXPECTED.copy()
    got[0] += 1                     # outside the bound, the first differing row
    got[3] += 7                     # inside: a kernel bug, shown first
    got[5] += 1                     # inside
    c = check_accumulators(spec, CODES, Q, got, EXPECTED, params={"chunk": 9})
    assert c.mismatches == 3 and c.mismatches_outside_bound == 1 and c.outside_bound == 2
    assert c.first_mismatch == ("row 3: expected 30, got 37 (diag row 3 chunk 9) "
                                "[inputs within the kernel's bound: a kernel bug]")
    only_outside = EXPECTED.copy()
    only_outside[1] += 1
    assert check_accumulators(spec, CODES, Q, only_outside, EXPECTED).first_mismatch.startswith("row 1:")


def test_a_scalar_bound_applies_to_every_row():
    spec = dataclasses.replace(BOUNDED, bound_holds=lambda codes, q, *, chunk: False)
    c = check_accumulators(spec, CODES, Q, EXPECTED.copy(), EXPECTED)
    assert c.status == "VERIFIED" and c.outside_bound == 6


def test_lossy_is_measured_never_equal():
    got = EXPECTED + np.array([0, 0, 0, 3, 0, -1])
    c = check_accumulators(LOSSY, CODES, Q, got, EXPECTED)
    rms = np.sqrt(np.mean(EXPECTED.astype(float) ** 2))
    assert c.status == "LOSSY" and c.ok and c.mismatches == 0
    assert c.error["max_abs"] == 3.0 and c.error["rel_rms"] == pytest.approx(np.sqrt(10 / 6) / rms)
    assert c.describe() == f"LOSSY (rel RMS {np.sqrt(10 / 6) / rms:.2e}, max |err| 3)"
    same = check_accumulators(LOSSY, CODES, Q, EXPECTED.astype(np.float32), EXPECTED)
    assert same.status == "LOSSY" and same.error == {"rel_rms": 0.0, "max_abs": 0.0}
    nan = EXPECTED.astype(np.float32)
    nan[2] = np.nan
    bad = check_accumulators(LOSSY, CODES, Q, nan, EXPECTED)
    assert bad.status == "FAILED" and bad.first_mismatch == "row 2: kernel returned a non-finite value"


def test_unsupported_is_neither_ok_nor_failed():
    c = unsupported("K=100 is not a multiple of 128", rows=4)
    assert c.status == "UNSUPPORTED" and not c.ok and c.describe() == "UNSUPPORTED: K=100 is not a multiple of 128"


def test_to_json_carries_every_field_and_ok():
    got = EXPECTED.copy()
    got[1] = 0
    data = check_accumulators(BOUNDED, CODES, Q, got, EXPECTED).to_json()
    assert data["status"] == "FAILED" and data["ok"] is False and data["mismatches"] == 1
    assert data["outside_bound"] == 2 and data["unit"] == "rows" and data["first_mismatch"].startswith("row 1:")


def test_compare_buffers_names_the_first_differing_buffer_and_byte():
    a = {"w": np.arange(8, dtype=np.uint8), "y": np.array([1, 2, 3], np.int32)}
    assert compare_buffers(a, {k: v.copy() for k, v in a.items()}) == Check("VERIFIED", 20, unit="bytes")
    got = {k: v.copy() for k, v in a.items()}
    got["y"][1] = 0x0102          # 2 -> 0x0102: little-endian, byte 5 of y changes
    got["y"][2] = 0x0303          # 3 -> 0x0303: byte 9 changes
    c = compare_buffers(a, got)
    assert c.status == "FAILED" and c.mismatches == 2 and c.unit == "bytes"
    assert c.first_mismatch == "buffer 'y' byte 5: expected 0x00, got 0x01"
    assert c.describe() == "FAILED: 2 of 20 bytes differ; buffer 'y' byte 5: expected 0x00, got 0x01"
    # only the named buffers, extras in the run under test ignored
    assert compare_buffers(a, {"w": a["w"].copy(), "junk": np.zeros(1)}, names=["w"]).status == "VERIFIED"


def test_compare_buffers_missing_and_resized_buffers_fail():
    a = {"w": np.arange(8, dtype=np.uint8), "y": np.zeros(2, np.int32)}
    c = compare_buffers(a, {"w": a["w"]})
    assert c.status == "FAILED" and c.first_mismatch == "buffer 'y': missing from the run under test"
    c = compare_buffers(a, {"w": a["w"][:7], "y": a["y"]})
    assert c.first_mismatch == "buffer 'w': expected 8 bytes, got 7"
    with pytest.raises(KeyError, match="no buffer 'z'"):
        compare_buffers(a, a, names=["z"])


def test_overall_status_orders_the_words():
    v, f, lo, u = (Check("VERIFIED", 1), Check("FAILED", 1, mismatches=1), Check("LOSSY", 1, error={}),
                   unsupported("no"))
    assert overall_status([v, lo, f, u]) == "FAILED"
    assert overall_status([v, lo, u]) == "LOSSY"
    assert overall_status([v, u]) == "VERIFIED"
    assert overall_status([u]) == overall_status([]) == "UNSUPPORTED"


@pytest.fixture
def vnni_variants():
    """vnni/avx2 with row 3 off by one, and vnni/avx2 refusing K=512 (tiny's down projection)."""
    good = registry.get("vnni", "avx2")

    def wrong_row_3(buffers, _result=good.result):
        acc = np.array(_result(buffers))
        acc[3] ^= 1
        return acc

    def refuse_512(M, K, _check=good.check_shape, **p):
        if K == 512:
            raise ValueError("K=512 refused by this test")
        _check(M, K, **p)
    specs = [registry.register(dataclasses.replace(good, name="vnni_wrong_row", result=wrong_row_3)),
             registry.register(dataclasses.replace(good, name="vnni_no_512", check_shape=refuse_512))]
    yield specs
    for s in specs:
        registry.unregister(s.name, s.isa)


def test_sweep_fails_on_a_wrong_row_and_reports_unsupported_shapes(vnni_variants):
    wrong, no512 = vnni_variants
    bad = verify(wrong, model="tiny", projections=("k",), inputs=("realistic", "max"))
    assert not bad.ok and bad.status == "FAILED" and [c.status for c in bad.cases] == ["FAILED", "FAILED"]
    assert bad.cases[0].check.first_mismatch.startswith("row 3: expected ")
    assert bad.describe().splitlines()[0] == "kernel vnni_wrong_row/avx2 on tiny: FAILED (2 FAILED)"
    partial = verify("vnni_no_512", isa="avx2", model="tiny", projections=("q", "down"), inputs=("max",))
    assert partial.ok and partial.status == "VERIFIED"
    assert [c.status for c in partial.cases] == ["VERIFIED", "UNSUPPORTED"]
    assert partial.cases[1].describe() == "layer 0 down 256x512 -: UNSUPPORTED: K=512 refused by this test"
    data = partial.to_json()
    assert data["ok"] is True and data["cases"][1]["reason"] == "K=512 refused by this test"
    assert data["cases"][0]["shape"] == [256, 256] and data["compared_against"].startswith("every int32")


def test_sweep_of_a_kernel_name_needs_its_isa():
    with pytest.raises(TypeError, match="needs isa="):
        verify("vnni", model="tiny")
