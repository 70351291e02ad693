"""AVX2 bitwise logic, the vpxor zero idiom, byte blend and byte-mask extraction.

Semantics layer (`isa_models.avx2`). ``vpxor_zero_ymm`` is the dependency-breaking zero idiom
(``vpxor %ymm0, %ymm0, %ymm0``; class ``avx2.zero_idiom``: no source, no execution port on
modern cores). Its semantics returns one row of zeros, shape ``(1, 32)``, which broadcasts over
the P parallel iterations. ``vpmovmskb`` writes a general-purpose register (zero-extended 32-bit
mask). Reference: Intel SDM vol. 2 (PAND, PANDN, PBLENDVB, PMOVMSKB).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, G, Y, binary, mem_form
from isa_models.core.lanes import lanes, to_bytes
from isa_models.core.isa import mem

__all__ = ["vpand_ymm", "vpandn_ymm", "vpor_ymm", "vpxor_ymm", "vpxor_zero_ymm", "vpblendvb_ymm",
           "vpmovmskb_ymm"]


@binary("and_si256", xmm="and_si128")
def vpand_ymm(a, b):
    return np.bitwise_and(a, b)


@binary("andnot_si256")
def vpandn_ymm(a, b):
    """(NOT a) AND b."""
    return np.bitwise_and(np.invert(a), b)


@binary("or_si256")
def vpor_ymm(a, b):
    return np.bitwise_or(a, b)


@binary("xor_si256")
def vpxor_ymm(a, b):
    return np.bitwise_xor(a, b)


@AVX2.instruction("vpxor_zero_ymm", outs=(Y,), ins=(), sched_class="avx2.zero_idiom",
                  asm="vpxor {o0}, {o0}, {o0}", c="{o0} = _mm256_setzero_si256();", zero_idiom=True)
def vpxor_zero_ymm():
    """All-zero ymm; one row that broadcasts over the parallel iterations."""
    return np.zeros((1, 32), np.uint8)


_BLENDV_C = "{o0} = _mm256_blendv_epi8({i0}, {i1}, {i2});"


@AVX2.instruction("vpblendvb_ymm", outs=(Y,), ins=(Y, Y, Y), asm="vpblendvb {i2}, {i1}, {i0}, {o0}",
                  c=_BLENDV_C)
def vpblendvb_ymm(a, b, mask):
    """Byte j = b[j] where bit 7 of mask[j] is set, else a[j]."""
    return np.where(mask >= 0x80, b, a).astype(np.uint8)


AVX2.instruction("vpblendvb_ymm_m", outs=(Y,), ins=(Y, mem(32), Y), sched_class="avx2.vpblendvb",
                 asm="vpblendvb {i2}, {i1}, {i0}, {o0}", c=mem_form(_BLENDV_C, 1))(vpblendvb_ymm)


@AVX2.instruction("vpmovmskb_ymm", outs=(G,), ins=(Y,), asm="vpmovmskb {i0}, {o0}",
                  c="{o0} = (int64_t)(uint32_t)_mm256_movemask_epi8({i0});")
def vpmovmskb_ymm(a):
    """gpr bit j = bit 7 of byte j (32 bits), zero-extended to 64."""
    bits = (lanes(a, np.uint8) >> 7).astype(np.uint64)
    weights = np.left_shift(np.uint64(1), np.arange(bits.shape[1], dtype=np.uint64))
    return to_bytes((bits * weights).sum(axis=1, dtype=np.uint64)[:, None], np.uint64)
