"""AVX2 widening and narrowing: vpmovsx/zx (xmm or m128 -> ymm) and the saturating packs.

Semantics layer (`isa_models.avx2`). The widening moves read the low 16 bytes of an xmm source
(or 16 bytes of memory, class shared with the register form) and cross lanes; the packs work
per 128-bit lane: lane l of the result is [sat(a lane l), sat(b lane l)], which is why packed
results come out in lane-interleaved order. Reference: Intel SDM vol. 2 (PMOVSX, PACKSSWB).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, X, Y, binary
from isa_models.core.lanes import lanes, per128, saturate, to_bytes
from isa_models.core.isa import mem

__all__ = ["vpmovsxbw_ymm", "vpmovzxbw_ymm", "vpmovsxwd_ymm", "vpmovzxwd_ymm", "vpmovsxbd_ymm",
           "vpacksswb_ymm", "vpackssdw_ymm", "vpackuswb_ymm", "vpackusdw_ymm"]


def _widen(a, src, dst, nbytes):
    return to_bytes(lanes(np.asarray(a)[:, :nbytes], src).astype(dst), dst)


def _define_widen(mn: str, intrinsic: str, src_bytes: int, fn) -> None:
    AVX2.instruction(f"{mn}_ymm", outs=(Y,), ins=(X,), asm=f"{mn} {{i0}}, {{o0}}",
                     c=f"{{o0}} = _mm256_{intrinsic}(WB_LO128({{i0}}));")(fn)
    load = "WB_LOAD128({i0})" if src_bytes == 16 else "_mm_loadu_si64({i0})"
    AVX2.instruction(f"{mn}_ymm_m", outs=(Y,), ins=(mem(src_bytes),), sched_class=f"avx2.{mn}",
                     asm=f"{mn} {{i0}}, {{o0}}", c=f"{{o0}} = _mm256_{intrinsic}({load});")(fn)


def vpmovsxbw_ymm(a):
    """16 int8 -> 16 int16 (sign-extended)."""
    return _widen(a, np.int8, np.int16, 16)


def vpmovzxbw_ymm(a):
    return _widen(a, np.uint8, np.uint16, 16)


def vpmovsxwd_ymm(a):
    return _widen(a, np.int16, np.int32, 16)


def vpmovzxwd_ymm(a):
    return _widen(a, np.uint16, np.uint32, 16)


def vpmovsxbd_ymm(a):
    """8 int8 (low 8 bytes) -> 8 int32."""
    return _widen(a, np.int8, np.int32, 8)


_define_widen("vpmovsxbw", "cvtepi8_epi16", 16, vpmovsxbw_ymm)
_define_widen("vpmovzxbw", "cvtepu8_epi16", 16, vpmovzxbw_ymm)
_define_widen("vpmovsxwd", "cvtepi16_epi32", 16, vpmovsxwd_ymm)
_define_widen("vpmovzxwd", "cvtepu16_epi32", 16, vpmovzxwd_ymm)
_define_widen("vpmovsxbd", "cvtepi8_epi32", 8, vpmovsxbd_ymm)


def _pack(a, b, src, dst):
    la, lb = per128(a), per128(b)
    p, n = la.shape[0], la.shape[1]
    wa = lanes(la.reshape(p * n, 16), src).astype(np.int64)
    wb = lanes(lb.reshape(p * n, 16), src).astype(np.int64)
    return saturate(np.concatenate([wa, wb], axis=1), dst).reshape(p, n * 16)


@binary("packs_epi16")
def vpacksswb_ymm(a, b):
    """Per lane: [sat8(a words), sat8(b words)] (signed saturation)."""
    return _pack(a, b, np.int16, np.int8)


@binary("packs_epi32")
def vpackssdw_ymm(a, b):
    return _pack(a, b, np.int32, np.int16)


@binary("packus_epi16")
def vpackuswb_ymm(a, b):
    """Per lane: signed int16 -> unsigned saturated bytes."""
    return _pack(a, b, np.int16, np.uint8)


@binary("packus_epi32")
def vpackusdw_ymm(a, b):
    return _pack(a, b, np.int32, np.uint16)
