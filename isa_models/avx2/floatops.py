"""AVX fp32 forms: vcvtdq2ps, vmulps / vaddps / vsubps (register or m256 second source), vbroadcastss.

Semantics layer (`isa_models.avx2`). Exact x86 behaviour under the default MXCSR (round to
nearest even, no DAZ/FTZ, exceptions masked): the arithmetic runs in numpy float32, one rounding
per operation as the hardware does, denormal inputs and results kept. NaNs follow the SSE/AVX
rule for two-source ops (Intel SDM vol. 1, table 4-7): if src1 is a NaN the result is src1
quieted (bit 22 set, payload and sign kept), else if src2 is a NaN, src2 quieted; an invalid
operation on non-NaN inputs (inf - inf, 0 * inf) gives the default QNaN 0xFFC00000. src1 is
input 0 (Intel ``dst, src1, src2``; the AT&T template prints it second). The C templates of the
two-source ops and of vbroadcastss call the inline-asm helpers of `forms.C_PRELUDE`
(``wb_vaddps`` ...), so a compiled Program runs exactly these instructions in this operand order
(no FMA contraction, no swapped sources, no vpbroadcastd in place of vbroadcastss).
Classes: ``avx2.<mnemonic>``; vbroadcastss from memory is a pure load, ``avx2.broadcast_load``
like the integer broadcasts from memory.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from isa_models.avx2.forms import AVX2, Y
from isa_models.core.lanes import lanes, to_bytes
from isa_models.avx2.loadstore import vpbroadcastd_ymm_m
from isa_models.core.isa import InstrDef, mem

__all__ = ["vcvtdq2ps_ymm", "vmulps_ymm", "vaddps_ymm", "vsubps_ymm", "vbroadcastss_ymm_m",
           "DEFAULT_NAN", "QUIET_BIT"]

DEFAULT_NAN = np.uint32(0xFFC00000)   # the "real indefinite" QNaN of an invalid operation
QUIET_BIT = np.uint32(0x00400000)     # bit 22: set on a NaN passed through an arithmetic op
_EXPONENT = np.uint32(0x7F800000)
_MANTISSA = np.uint32(0x007FFFFF)


def _is_nan(bits: np.ndarray) -> np.ndarray:
    return ((bits & _EXPONENT) == _EXPONENT) & ((bits & _MANTISSA) != 0)


def _fp_binary(a, b, op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Lane-wise fp32 ``op(src1, src2)`` with x86's NaN propagation, as bytes."""
    x, y = lanes(a, np.uint32), lanes(b, np.uint32)
    with np.errstate(all="ignore"):                    # masked exceptions: no traps, no warnings
        r = op(x.view(np.float32), y.view(np.float32)).astype(np.float32, copy=False)
    bits = np.where(np.isnan(r), DEFAULT_NAN, r.view(np.uint32))
    bits = np.where(_is_nan(y), y | QUIET_BIT, bits)
    bits = np.where(_is_nan(x), x | QUIET_BIT, bits)   # src1's NaN wins over src2's
    return to_bytes(bits, np.uint32)


def _define_fp_binary(fn: Callable) -> Callable:
    """Register ``<mn>_ymm`` and ``<mn>_ymm_m`` (src2 from 32 bytes of memory), class avx2.<mn>."""
    mn = fn.__name__.split("_")[0]
    asm = f"{mn} {{i1}}, {{i0}}, {{o0}}"
    AVX2.define(InstrDef(fn.__name__, mn, (Y,), (Y, Y), f"avx2.{mn}", fn, asm,
                         f"{{o0}} = wb_{mn}({{i0}}, {{i1}});"))
    AVX2.define(InstrDef(f"{fn.__name__}_m", mn, (Y,), (Y, mem(32)), f"avx2.{mn}", fn, asm,
                         f"{{o0}} = wb_{mn}_m({{i0}}, {{i1}});"))
    return fn


@_define_fp_binary
def vmulps_ymm(a, b):
    return _fp_binary(a, b, np.multiply)


@_define_fp_binary
def vaddps_ymm(a, b):
    return _fp_binary(a, b, np.add)


@_define_fp_binary
def vsubps_ymm(a, b):
    """src1 - src2."""
    return _fp_binary(a, b, np.subtract)


@AVX2.instruction("vcvtdq2ps_ymm", outs=(Y,), ins=(Y,), asm="vcvtdq2ps {i0}, {o0}",
                  c="{o0} = _mm256_castps_si256(_mm256_cvtepi32_ps({i0}));")
def vcvtdq2ps_ymm(a):
    """8 int32 -> 8 fp32, rounded to nearest even (|x| > 2^24 may round; int32 -> float64 is exact)."""
    return to_bytes(lanes(a, np.int32).astype(np.float64).astype(np.float32).view(np.uint32), np.uint32)


@AVX2.instruction("vbroadcastss_ymm_m", outs=(Y,), ins=(mem(4),), sched_class="avx2.broadcast_load",
                  asm="vbroadcastss {i0}, {o0}",
                  c="{o0} = wb_vbroadcastss({i0});")
def vbroadcastss_ymm_m(m):
    """The 4 bytes at m in all 8 lanes, bits unchanged (a move: a signalling NaN stays signalling)."""
    return vpbroadcastd_ymm_m(m)
