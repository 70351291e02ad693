"""AVX2 element shifts by immediate and by an xmm count: vpsrlw/vpsllw/vpsraw, vpsrld/vpslld/vpsrad.

Semantics layer (`isa_models.avx2`). A count at or above the lane width gives zero for logical
shifts and the sign fill for arithmetic ones (no masking of the count, unlike scalar shifts). The
immediate forms ``<mn>_ymm`` take any 8-bit count; the count forms ``<mn>_ymm_x`` take the
unsigned 64-bit count from the low quadword of an xmm register (class ``avx2.<mn>.count``: its
timing differs from the immediate form). Reference: Intel SDM vol. 2 (PSRLW/PSLLW/PSRAW).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, I8, X, Y
from isa_models.core.lanes import lanes, shift_count, to_bytes

__all__ = ["vpsrlw_ymm", "vpsllw_ymm", "vpsraw_ymm", "vpsrld_ymm", "vpslld_ymm", "vpsrad_ymm",
           "vpsrlw_ymm_x", "vpsllw_ymm_x", "vpsraw_ymm_x", "vpsrld_ymm_x", "vpslld_ymm_x",
           "vpsrad_ymm_x"]


def _logical_right(a, count, t):
    v, bits = lanes(a, t), 8 * np.dtype(t).itemsize
    c = np.minimum(np.asarray(count, dtype=np.uint64), bits)            # count >= bits -> 0
    return to_bytes(np.where(c >= bits, 0, v.astype(np.uint64) >> np.minimum(c, bits - 1)), t)


def _left(a, count, t):
    v, bits = lanes(a, t), 8 * np.dtype(t).itemsize
    c = np.minimum(np.asarray(count, dtype=np.uint64), bits)
    shifted = (v.astype(np.uint64) << np.minimum(c, bits - 1)) & np.uint64((1 << bits) - 1)
    return to_bytes(np.where(c >= bits, 0, shifted), t)


def _arith_right(a, count, t, signed):
    bits = 8 * np.dtype(t).itemsize
    c = np.minimum(np.asarray(count, dtype=np.uint64), bits - 1).astype(np.int64)  # sign fill
    return to_bytes(lanes(a, signed).astype(np.int64) >> c, signed)


def _define(mn: str, intrinsic: str, fn, fn_count) -> None:
    AVX2.instruction(f"{mn}_ymm", outs=(Y,), ins=(Y, I8), asm=f"{mn} {{i1}}, {{i0}}, {{o0}}",
                     c=f"{{o0}} = _mm256_{intrinsic}i_{intrinsic_suffix[mn]}({{i0}}, {{i1}});")(fn)
    AVX2.instruction(f"{mn}_ymm_x", outs=(Y,), ins=(Y, X), sched_class=f"avx2.{mn}.count",
                     asm=f"{mn} {{i1}}, {{i0}}, {{o0}}", count_operand=1,
                     c=f"{{o0}} = _mm256_{intrinsic}_{intrinsic_suffix[mn]}({{i0}}, WB_LO128({{i1}}));"
                     )(fn_count)


intrinsic_suffix = {"vpsrlw": "epi16", "vpsllw": "epi16", "vpsraw": "epi16",
                    "vpsrld": "epi32", "vpslld": "epi32", "vpsrad": "epi32"}


def vpsrlw_ymm(a, count):
    """uint16 lanes >> count (0 when count >= 16)."""
    return _logical_right(a, count, np.uint16)


def vpsllw_ymm(a, count):
    """uint16 lanes << count (0 when count >= 16)."""
    return _left(a, count, np.uint16)


def vpsraw_ymm(a, count):
    """int16 lanes >> count with sign fill (count >= 16 acts as 15)."""
    return _arith_right(a, count, np.uint16, np.int16)


def vpsrld_ymm(a, count):
    return _logical_right(a, count, np.uint32)


def vpslld_ymm(a, count):
    return _left(a, count, np.uint32)


def vpsrad_ymm(a, count):
    return _arith_right(a, count, np.uint32, np.int32)


def vpsrlw_ymm_x(a, count):
    return vpsrlw_ymm(a, shift_count(count))


def vpsllw_ymm_x(a, count):
    return vpsllw_ymm(a, shift_count(count))


def vpsraw_ymm_x(a, count):
    return vpsraw_ymm(a, shift_count(count))


def vpsrld_ymm_x(a, count):
    return vpsrld_ymm(a, shift_count(count))


def vpslld_ymm_x(a, count):
    return vpslld_ymm(a, shift_count(count))


def vpsrad_ymm_x(a, count):
    return vpsrad_ymm(a, shift_count(count))


_define("vpsrlw", "srl", vpsrlw_ymm, vpsrlw_ymm_x)
_define("vpsllw", "sll", vpsllw_ymm, vpsllw_ymm_x)
_define("vpsraw", "sra", vpsraw_ymm, vpsraw_ymm_x)
_define("vpsrld", "srl", vpsrld_ymm, vpsrld_ymm_x)
_define("vpslld", "sll", vpslld_ymm, vpslld_ymm_x)
_define("vpsrad", "sra", vpsrad_ymm, vpsrad_ymm_x)
