"""NEON fp32 forms for scaling: fadd, fsub, fmul, fmla (fused), their by-element fmul/fmla, and the
conversions scvtf, ucvtf, fcvtzs, fcvtns.

Semantics layer (`isa_models.neon`). AArch64 behaviour under Linux's FPCR (0: round to nearest
even, DN=0, FZ=0, no traps): one rounding per operation (fmla rounds once, after the exact
product and sum), denormals kept. NaNs follow the Arm ARM's FPProcessNaNs: a signalling NaN
operand wins over a quiet one, then operand order decides (fmla: addend, then the two
multiplicands); the NaN returned is quieted (bit 22 set, sign and payload kept). An invalid
operation on non-NaN operands (inf - inf, 0 * inf) gives the default NaN 0x7FC00000, and so does
fmla with a quiet-NaN addend when the product is 0 * inf (FPMulAdd). Conversions to integer
saturate and give 0 for NaN. The arithmetic C templates call the inline-asm helpers of
`forms.C_PRELUDE` so the compiled code runs exactly these instructions in this operand order.
Classes ``neon.<mnemonic>`` (``.lane`` for by-element forms).
Reference: Arm ARM (DDI 0487) J1 shared pseudocode FPProcessNaNs, FPProcessNaNs3, FPMulAdd,
FPRoundInt; C7.2 FADD, FMUL, FMLA, SCVTF, FCVTZS, FCVTNS.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import V, check_imm, define, imm_spec

__all__ = ["DEFAULT_NAN", "QUIET_BIT", "process_nans", "fp_binary", "fadd", "fsub", "fmul", "fmla",
           "fmul_lane", "fmla_lane", "scvtf", "ucvtf", "fcvtzs", "fcvtns"]

DEFAULT_NAN = np.uint32(0x7FC00000)   # AArch64 default NaN: positive, quiet, zero payload
QUIET_BIT = np.uint32(0x00400000)
_EXPONENT = np.uint32(0x7F800000)
_MANTISSA = np.uint32(0x007FFFFF)


def _is_nan(bits):
    return ((bits & _EXPONENT) == _EXPONENT) & ((bits & _MANTISSA) != 0)


def _is_snan(bits):
    return _is_nan(bits) & ((bits & QUIET_BIT) == 0)


def process_nans(result_bits, *operands):
    """Apply FPProcessNaNs(3) to `result_bits` (uint32 lanes): signalling NaNs first, in operand
    order, then quiet NaNs in operand order; the NaN chosen is returned quieted."""
    out = result_bits
    for test in (lambda x: _is_nan(x) & ~_is_snan(x), _is_snan):   # the last np.where wins
        for x in reversed(operands):
            out = np.where(test(x), x | QUIET_BIT, out)
    return out


def _bits(values32) -> np.ndarray:
    """fp32 results as bits, a NaN produced by the arithmetic itself (invalid op) as the default NaN."""
    v = np.asarray(values32, dtype=np.float32)
    return np.where(np.isnan(v), DEFAULT_NAN, v.view(np.uint32)).astype(np.uint32)


def fp_binary(a, b, op: Callable) -> np.ndarray:
    x, y = lanes(a, np.uint32), lanes(b, np.uint32)
    with np.errstate(all="ignore"):
        r = op(x.view(np.float32), y.view(np.float32)).astype(np.float32, copy=False)
    return to_bytes(process_nans(_bits(r), x, y), np.uint32)


def fadd(a, b):
    return fp_binary(a, b, np.add)


def fsub(a, b):
    """a - b."""
    return fp_binary(a, b, np.subtract)


def fmul(a, b):
    return fp_binary(a, b, np.multiply)


def _fused(acc, x, y) -> np.ndarray:
    """RN_fp32(acc + x * y) with one rounding, as float32 (NaN for an invalid operation).

    The fp64 product of two fp32 values is exact; the fp64 sum is rounded to odd (TwoSum gives
    the exact error) so that rounding it to fp32 is the correctly rounded fused result
    (53 >= 24 + 2 bits)."""
    with np.errstate(all="ignore"):
        p = x.astype(np.float64) * y.astype(np.float64)
        c = acc.astype(np.float64)
        s = p + c
        bb = s - p
        err = (p - (s - bb)) + (c - bb)
        bits = s.view(np.uint64)
        inexact = np.isfinite(s) & (err != 0) & ((bits & np.uint64(1)) == 0)
        away = (err > 0) == (s > 0)                      # exact value lies beyond s (magnitude)
        odd = np.where(away, bits + np.uint64(1), bits - np.uint64(1))
        s = np.where(inexact, odd, bits).view(np.float64)
        return s.astype(np.float32)


def fmla(acc, a, b):
    """acc + a * b, fused; NaNs by FPProcessNaNs3 (addend, a, b) and FPMulAdd's QNaN-addend rule."""
    c, x, y = lanes(acc, np.uint32), lanes(a, np.uint32), lanes(b, np.uint32)
    fx, fy = x.view(np.float32), y.view(np.float32)
    r = _bits(_fused(c.view(np.float32), fx, fy))
    r = process_nans(r, c, x, y)
    zero_inf = ((fx == 0) & np.isinf(fy)) | (np.isinf(fx) & (fy == 0))
    r = np.where(_is_nan(c) & ~_is_snan(c) & zero_inf, DEFAULT_NAN, r)
    return to_bytes(r.astype(np.uint32), np.uint32)


def _lane(b, lane: int, name: str):
    k = check_imm(name, lane, 0, 3)
    return np.tile(np.asarray(b, np.uint8)[:, 4 * k:4 * k + 4], (1, 4))


def fmul_lane(a, b, lane):
    return fmul(a, _lane(b, lane, "fmul_lane_4s"))


def fmla_lane(acc, a, b, lane):
    return fmla(acc, a, _lane(b, lane, "fmla_lane_4s"))


def scvtf(a):
    """int32 -> fp32, rounded to nearest even (int32 -> fp64 is exact)."""
    return to_bytes(lanes(a, np.int32).astype(np.float64).astype(np.float32).view(np.uint32), np.uint32)


def ucvtf(a):
    return to_bytes(lanes(a, np.uint32).astype(np.float64).astype(np.float32).view(np.uint32), np.uint32)


def _to_int32(a, rounding: Callable):
    with np.errstate(invalid="ignore"):                 # a signalling NaN widens quietly
        x = lanes(a, np.uint32).view(np.float32).astype(np.float64)
        r = np.clip(np.nan_to_num(rounding(x), nan=0.0), -2.0**31, 2.0**31 - 1)
    return to_bytes(r.astype(np.int64).astype(np.int32), np.int32)


def fcvtzs(a):
    """fp32 -> int32 toward zero, saturating; NaN -> 0."""
    return _to_int32(a, np.trunc)


def fcvtns(a):
    """fp32 -> int32 to nearest, ties to even, saturating; NaN -> 0."""
    return _to_int32(a, np.rint)


for _mn, _fn in (("fadd", fadd), ("fsub", fsub), ("fmul", fmul)):
    define(f"{_mn}_4s", _fn, outs=(V,), ins=(V, V), asm=f"{_mn} {{o0:4s}}, {{i0:4s}}, {{i1:4s}}",
           c=f"{{o0}} = wb_{_mn}_4s({{i0}}, {{i1}});", arrangements=("4s",) * 3)
define("fmla_4s", fmla, outs=(V,), ins=(V, V, V), asm="fmla {o0:4s}, {i1:4s}, {i2:4s}",
       c="{o0} = wb_fmla_4s({i0}, {i1}, {i2});", arrangements=("4s",) * 4, tied=(0,))
define("fmul_lane_4s", fmul_lane, outs=(V,), ins=(V, V, imm_spec(3)), asm="fmul {o0:4s}, {i0:4s}, {i1:.s}[{i2}]",
       c="{o0} = WB_FMUL_LANE_4S({i0}, {i1}, {i2});", arrangements=("4s", "4s", "4s", None),
       sched="neon.fmul.lane", imm_range=(0, 3))
define("fmla_lane_4s", fmla_lane, outs=(V,), ins=(V, V, V, imm_spec(3)),
       asm="fmla {o0:4s}, {i1:4s}, {i2:.s}[{i3}]", c="{o0} = WB_FMLA_LANE_4S({i0}, {i1}, {i2}, {i3});",
       arrangements=("4s", "4s", "4s", "4s", None), tied=(0,), sched="neon.fmla.lane", imm_range=(0, 3))
for _mn, _fn, _c in (("scvtf", scvtf, "WB_BQ_f32(vcvtq_f32_s32(WB_Q_s32({i0})))"),
                     ("ucvtf", ucvtf, "WB_BQ_f32(vcvtq_f32_u32(WB_Q_u32({i0})))"),
                     ("fcvtzs", fcvtzs, "WB_BQ_s32(vcvtq_s32_f32(WB_Q_f32({i0})))"),
                     ("fcvtns", fcvtns, "WB_BQ_s32(vcvtnq_s32_f32(WB_Q_f32({i0})))")):
    define(f"{_mn}_4s", _fn, outs=(V,), ins=(V,), asm=f"{_mn} {{o0:4s}}, {{i0:4s}}", c=f"{{o0}} = {_c};",
           arrangements=("4s", "4s"))
