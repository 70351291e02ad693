"""AVX2 shuffles and permutes: vpshufb, vpunpck*, vpalignr, vpshufd, vpsrldq, vpermq, vperm2i128,
vextracti128 / vinserti128, vpbroadcast* from a register.

Semantics layer (`isa_models.avx2`). Almost every AVX2 shuffle works on the two 128-bit lanes
independently (vpshufb indexes only its own lane; a set bit 7 in the index zeroes the byte);
only vpermq, vperm2i128, vextracti128/vinserti128 and the broadcasts cross lanes. Bodies work on
the ``(P, lanes, 16)`` split of `lanes.per128`. Reference: Intel SDM vol. 2.
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, I1, I8, X, Y, binary, mem_form
from isa_models.core.lanes import from128, per128
from isa_models.core.isa import mem

__all__ = ["vpshufb_ymm", "vpunpcklbw_ymm", "vpunpckhbw_ymm", "vpunpcklwd_ymm", "vpunpckhwd_ymm",
           "vpunpckldq_ymm", "vpunpckhdq_ymm", "vpunpcklqdq_ymm", "vpunpckhqdq_ymm", "vpalignr_ymm",
           "vpshufd_ymm", "vpsrldq_ymm", "vpslldq_ymm", "vpermq_ymm", "vperm2i128_ymm",
           "vextracti128_ymm", "vinserti128_ymm", "vpbroadcastb_ymm", "vpbroadcastw_ymm",
           "vpbroadcastd_ymm", "vpbroadcastq_ymm"]


@binary("shuffle_epi8", xmm="shuffle_epi8", xmm_sched_distinct=True)
def vpshufb_ymm(table, index):
    """Per 128-bit lane: byte j = table[index[j] & 15], or 0 when bit 7 of index[j] is set."""
    t, i = per128(table), per128(index)
    picked = np.take_along_axis(t, (i & 0x0F).astype(np.intp), axis=2)
    return from128(np.where(i & 0x80, 0, picked))


def _unpack(a, b, unit: int, high: bool):
    la, lb = per128(a), per128(b)
    p, n = la.shape[0], la.shape[1]
    ua, ub = la.reshape(p, n, 16 // unit, unit), lb.reshape(p, n, 16 // unit, unit)
    half = 8 // unit
    sel = slice(half, None) if high else slice(0, half)
    return np.stack([ua[:, :, sel], ub[:, :, sel]], axis=3).reshape(p, n * 16)


@binary("unpacklo_epi8")
def vpunpcklbw_ymm(a, b):
    """Per lane: a0 b0 a1 b1 .. a7 b7 (bytes)."""
    return _unpack(a, b, 1, False)


@binary("unpackhi_epi8")
def vpunpckhbw_ymm(a, b):
    """Per lane: a8 b8 .. a15 b15 (bytes)."""
    return _unpack(a, b, 1, True)


@binary("unpacklo_epi16")
def vpunpcklwd_ymm(a, b):
    return _unpack(a, b, 2, False)


@binary("unpackhi_epi16")
def vpunpckhwd_ymm(a, b):
    return _unpack(a, b, 2, True)


@binary("unpacklo_epi32")
def vpunpckldq_ymm(a, b):
    return _unpack(a, b, 4, False)


@binary("unpackhi_epi32")
def vpunpckhdq_ymm(a, b):
    return _unpack(a, b, 4, True)


@binary("unpacklo_epi64")
def vpunpcklqdq_ymm(a, b):
    return _unpack(a, b, 8, False)


@binary("unpackhi_epi64")
def vpunpckhqdq_ymm(a, b):
    return _unpack(a, b, 8, True)


_ALIGNR_C = "{o0} = _mm256_alignr_epi8({i0}, {i1}, {i2});"


@AVX2.instruction("vpalignr_ymm", outs=(Y,), ins=(Y, Y, I8), asm="vpalignr {i2}, {i1}, {i0}, {o0}",
                  c=_ALIGNR_C)
def vpalignr_ymm(a, b, shift):
    """Per lane: bytes shift..shift+15 of the 32-byte concatenation (a:b), b low; past the end 0."""
    cat = np.concatenate([per128(b), per128(a), np.zeros_like(per128(a))], axis=2)  # 48 bytes
    idx = np.minimum(np.arange(16) + shift, 32)
    return from128(cat[:, :, idx])


AVX2.instruction("vpalignr_ymm_m", outs=(Y,), ins=(Y, mem(32), I8), sched_class="avx2.vpalignr",
                 asm="vpalignr {i2}, {i1}, {i0}, {o0}", c=mem_form(_ALIGNR_C, 1))(vpalignr_ymm)


@AVX2.instruction("vpshufd_ymm", outs=(Y,), ins=(Y, I8), asm="vpshufd {i1}, {i0}, {o0}",
                  c="{o0} = _mm256_shuffle_epi32({i0}, {i1});")
def vpshufd_ymm(a, control):
    """Per lane: dword i = dword ((control >> 2i) & 3) of the same lane."""
    la = per128(a)
    dw = la.reshape(la.shape[0], la.shape[1], 4, 4)
    order = [(control >> (2 * i)) & 3 for i in range(4)]
    return dw[:, :, order].reshape(a.shape[0], -1)


@AVX2.instruction("vpsrldq_ymm", outs=(Y,), ins=(Y, I8), asm="vpsrldq {i1}, {i0}, {o0}",
                  c="{o0} = _mm256_bsrli_epi128({i0}, {i1});")
def vpsrldq_ymm(a, shift):
    """Per lane: shift right by `shift` bytes, zero fill (shift > 15 gives zero)."""
    la = np.concatenate([per128(a), np.zeros_like(per128(a))], axis=2)
    return from128(la[:, :, np.minimum(np.arange(16) + shift, 16)])


@AVX2.instruction("vpslldq_ymm", outs=(Y,), ins=(Y, I8), asm="vpslldq {i1}, {i0}, {o0}",
                  c="{o0} = _mm256_bslli_epi128({i0}, {i1});")
def vpslldq_ymm(a, shift):
    """Per lane: shift left by `shift` bytes, zero fill (shift > 15 gives zero)."""
    la = np.concatenate([np.zeros_like(per128(a)), per128(a)], axis=2)
    return from128(la[:, :, np.maximum(np.arange(16) + 16 - shift, 0)])


@AVX2.instruction("vpermq_ymm", outs=(Y,), ins=(Y, I8), asm="vpermq {i1}, {i0}, {o0}",
                  c="{o0} = _mm256_permute4x64_epi64({i0}, {i1});")
def vpermq_ymm(a, control):
    """Quadword i = quadword ((control >> 2i) & 3) of a (crosses lanes)."""
    q = np.asarray(a).reshape(a.shape[0], 4, 8)
    return q[:, [(control >> (2 * i)) & 3 for i in range(4)]].reshape(a.shape[0], 32)


_PERM2_C = "{o0} = _mm256_permute2x128_si256({i0}, {i1}, {i2});"


@AVX2.instruction("vperm2i128_ymm", outs=(Y,), ins=(Y, Y, I8), asm="vperm2i128 {i2}, {i1}, {i0}, {o0}",
                  c=_PERM2_C)
def vperm2i128_ymm(a, b, control):
    """Half h = (a.lo, a.hi, b.lo, b.hi)[(control >> 4h) & 3], or zero when bit 4h+3 is set."""
    halves = np.concatenate([per128(a), per128(b)], axis=1)            # (P, 4, 16)
    out = []
    for h in range(2):
        sel = (control >> (4 * h)) & 0xF
        out.append(np.zeros_like(halves[:, 0]) if sel & 8 else halves[:, sel & 3])
    return np.concatenate(out, axis=1)


AVX2.instruction("vperm2i128_ymm_m", outs=(Y,), ins=(Y, mem(32), I8), sched_class="avx2.vperm2i128",
                 asm="vperm2i128 {i2}, {i1}, {i0}, {o0}", c=mem_form(_PERM2_C, 1))(vperm2i128_ymm)


@AVX2.instruction("vextracti128_ymm", outs=(X,), ins=(Y, I1), asm="vextracti128 {i1}, {i0}, {o0}",
                  c="{o0} = WB_ZEXT128(_mm256_extracti128_si256({i0}, {i1}));")
def vextracti128_ymm(a, lane):
    """The 128-bit lane `lane` (bit 0 of the immediate) of a."""
    return np.ascontiguousarray(per128(a)[:, lane & 1])


_INSERT_C = "{o0} = _mm256_inserti128_si256({i0}, WB_LO128({i1}), {i2});"


@AVX2.instruction("vinserti128_ymm", outs=(Y,), ins=(Y, X, I1), asm="vinserti128 {i2}, {i1}, {i0}, {o0}",
                  c=_INSERT_C)
def vinserti128_ymm(a, b, lane):
    """a with its 128-bit lane `lane` (bit 0) replaced by the low 128 bits of b."""
    out = per128(a).copy()
    out[:, lane & 1] = np.asarray(b)[:, :16]
    return from128(out)


AVX2.instruction("vinserti128_ymm_m", outs=(Y,), ins=(Y, mem(16), I1), sched_class="avx2.vinserti128",
                 asm="vinserti128 {i2}, {i1}, {i0}, {o0}",
                 c="{o0} = _mm256_inserti128_si256({i0}, WB_LOAD128({i1}), {i2});")(vinserti128_ymm)


def _broadcast(a, unit):
    return np.tile(np.asarray(a)[:, :unit], (1, 32 // unit))


def _define_broadcast(mn: str, unit: int, intrinsic: str, fn) -> None:
    AVX2.instruction(f"{mn}_ymm", outs=(Y,), ins=(X,), asm=f"{mn} {{i0}}, {{o0}}",
                     c=f"{{o0}} = _mm256_{intrinsic}(WB_LO128({{i0}}));")(fn)


def vpbroadcastb_ymm(a):
    """Byte 0 of the xmm source in all 32 bytes."""
    return _broadcast(a, 1)


def vpbroadcastw_ymm(a):
    return _broadcast(a, 2)


def vpbroadcastd_ymm(a):
    return _broadcast(a, 4)


def vpbroadcastq_ymm(a):
    return _broadcast(a, 8)


_define_broadcast("vpbroadcastb", 1, "broadcastb_epi8", vpbroadcastb_ymm)
_define_broadcast("vpbroadcastw", 2, "broadcastw_epi16", vpbroadcastw_ymm)
_define_broadcast("vpbroadcastd", 4, "broadcastd_epi32", vpbroadcastd_ymm)
_define_broadcast("vpbroadcastq", 8, "broadcastq_epi64", vpbroadcastq_ymm)
