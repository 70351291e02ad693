"""AVX2 multiply-add and horizontal reductions: vpmaddubsw, vpmaddwd, vpdpbusd, vphadd*, vpsadbw.

Semantics layer (`isa_models.avx2`). These carry the dot products of the ternary kernels:
``vpmaddubsw`` (u8 x s8 pairs, sum SATURATED to int16: the I2_S / TQ2_0 inner loop),
``vpmaddwd`` (s16 x s16 pairs into int32, wrapping), and the EVEX AVX512-VNNI ``vpdpbusd ymm``
(u8 x s8 quads accumulated into int32, wrapping, no saturation). ``vphaddw``/``vphaddd`` work
per 128-bit lane. Reference: Intel SDM vol. 2 (PMADDUBSW, PMADDWD, VPDPBUSD, PHADDW, PSADBW).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, Y, binary, mem_form, vnni_required
from isa_models.core.lanes import lanes, per128, saturate, to_bytes, wrap
from isa_models.core.isa import mem

__all__ = ["vpmaddubsw_ymm", "vpmaddwd_ymm", "vpdpbusd_ymm", "vphaddw_ymm", "vphaddd_ymm",
           "vpsadbw_ymm"]


@binary("maddubs_epi16", xmm="maddubs_epi16")
def vpmaddubsw_ymm(a, b):
    """int16 lane j = sat16(u8(a[2j]) * s8(b[2j]) + u8(a[2j+1]) * s8(b[2j+1]))."""
    prod = lanes(a, np.uint8).astype(np.int64) * lanes(b, np.int8)
    return saturate(prod[:, 0::2] + prod[:, 1::2], np.int16)


@binary("madd_epi16", xmm="madd_epi16")
def vpmaddwd_ymm(a, b):
    """int32 lane j = s16 a[2j]*b[2j] + a[2j+1]*b[2j+1], wrapping (only -32768^2 * 2 wraps)."""
    prod = lanes(a, np.int16).astype(np.int64) * lanes(b, np.int16)
    return wrap(prod[:, 0::2] + prod[:, 1::2], np.int32)


_DPBUSD_C = "{o0} = _mm256_dpbusd_epi32({i0}, {i1}, {i2});"


@AVX2.instruction("vpdpbusd_ymm", outs=(Y,), ins=(Y, Y, Y), tied=(0,), asm="vpdpbusd {i2}, {i1}, {o0}",
                  c=_DPBUSD_C, requires=vnni_required, encoding="evex")
def vpdpbusd_ymm(acc, a, b):
    """int32 lane j = acc[j] + sum_k u8(a[4j+k]) * s8(b[4j+k]), wrapping (EVEX AVX512-VNNI)."""
    prod = lanes(a, np.uint8).astype(np.int64) * lanes(b, np.int8)
    quad = prod.reshape(prod.shape[0], -1, 4).sum(axis=2)
    return wrap(lanes(acc, np.int32).astype(np.int64) + quad, np.int32)


AVX2.instruction("vpdpbusd_ymm_m", outs=(Y,), ins=(Y, Y, mem(32)), tied=(0,),
                 sched_class="avx2.vpdpbusd", asm="vpdpbusd {i2}, {i1}, {o0}",
                 c=mem_form(_DPBUSD_C, 2), requires=vnni_required, encoding="evex")(vpdpbusd_ymm)


def _hadd(a, b, t):
    la, lb = per128(a), per128(b)                    # (P, 2, 16) each
    n = la.shape[1]
    va = lanes(la.reshape(-1, 16), t).astype(np.int64)
    vb = lanes(lb.reshape(-1, 16), t).astype(np.int64)
    sums = np.concatenate([va[:, 0::2] + va[:, 1::2], vb[:, 0::2] + vb[:, 1::2]], axis=1)
    return wrap(sums, t).reshape(a.shape[0], n * 16)


@binary("hadd_epi16")
def vphaddw_ymm(a, b):
    """Per 128-bit lane: [a0+a1, a2+a3, .., a6+a7, b0+b1, .., b6+b7] of int16, wrapping."""
    return _hadd(a, b, np.int16)


@binary("hadd_epi32")
def vphaddd_ymm(a, b):
    """Per 128-bit lane: [a0+a1, a2+a3, b0+b1, b2+b3] of int32, wrapping."""
    return _hadd(a, b, np.int32)


@binary("sad_epu8")
def vpsadbw_ymm(a, b):
    """Per quadword: sum of |a - b| over its 8 unsigned bytes, in the low 16 bits, rest zero."""
    diff = np.abs(lanes(a, np.uint8).astype(np.int64) - lanes(b, np.uint8))
    return to_bytes(diff.reshape(diff.shape[0], -1, 8).sum(axis=2), np.uint64)
