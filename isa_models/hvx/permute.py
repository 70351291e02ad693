"""HVX permute forms: shuffles and deals (single vector, even/odd pairs, and the Rt-controlled
pair network), vdelta/vrdelta, vcombine/vlo/vhi, vror/valign/vlalign, zero/sign extension and
unpack into pairs, pack (even/odd, saturating) and vsat.

Semantics layer (`isa_models.hvx`), each form transcribed from ``ext.idef`` ("Pack elements",
"Zero/Sign Extend", "Unpack", "SHUFFLES", "Double Vector Shuffles", "Deal", "shuffle",
"GENERAL PERMUTE NETWORKS", ``vror``/``valignb``/``vlalignb``, ``vcombine``, ``hi``/``lo``).
``vshuff(Vu,Vv,Rt)``/``vdeal(Vu,Vv,Rt)`` start from (o0, o1) = (Vv, Vu) and, for each set bit
``offset`` of Rt (ascending for vshuff, descending for vdeal), swap ``o1[k]`` with
``o0[k + offset]`` for every k without that bit. ``vdelta``/``vrdelta`` run the Benes stages
(offsets 64..1 / 1..64): ``d[k] = (Vv[k] & offset) ? t[k ^ offset] : t[k]``.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import imm
from isa_models.hvx.forms import R, V, form, out8, out16, out32, rt, s8, s16, s32, u8, u16

__all__ = ["vshuff_b", "vdeal_b", "vshuff_h", "vdeal_h", "vshuffe_b", "vshuffo_b", "vshuffe_h", "vshuffo_h",
           "vshuffoe_b", "vshuffoe_h", "vshuff_r", "vdeal_r", "vdeale_b", "vdelta", "vrdelta", "vcombine", "vlo",
           "vhi", "vror", "valign", "vlalign", "valign_i", "vzxt_ub", "vzxt_uh", "vsxt_b", "vsxt_h", "vunpack_ub",
           "vunpack_b", "vunpack_uh", "vunpack_h", "vpacke_h", "vpacke_w", "vpacko_h", "vpacko_w",
           "vpack_hub_sat", "vpack_hb_sat", "vpack_wuh_sat", "vpack_wh_sat", "vsat_hub", "vsat_wh"]

_PAIR_OUT = (("o", 0, 1),)
_PAIR_IN = (("i", 0, 1),)


def _b(x):
    return np.asarray(x, np.uint8)


def _cat(*parts):
    return np.ascontiguousarray(np.concatenate(np.broadcast_arrays(*[_b(p) for p in parts]), axis=1))


def _interleave(even, odd):
    """Lanes even[i], odd[i] alternating (any element width, given as same-shaped arrays)."""
    even, odd = np.broadcast_arrays(even, odd)
    res = np.empty((even.shape[0], 2 * even.shape[1]), even.dtype)
    res[:, 0::2], res[:, 1::2] = even, odd
    return res


# single-vector shuffle / deal ---------------------------------------------------------------------
@form("vshuff_b", llvm="V6_vshuffb", since=60, outs=(V,), ins=(V,), asm="{o0}.b = vshuff({i0}.b)",
      c="{o0} = Q6_Vb_vshuff_Vb({i0});")
def vshuff_b(u):
    x = _b(u)
    return np.ascontiguousarray(_interleave(x[:, :64], x[:, 64:]))


@form("vdeal_b", llvm="V6_vdealb", since=60, outs=(V,), ins=(V,), asm="{o0}.b = vdeal({i0}.b)",
      c="{o0} = Q6_Vb_vdeal_Vb({i0});")
def vdeal_b(u):
    x = _b(u)
    return _cat(x[:, 0::2], x[:, 1::2])


@form("vshuff_h", llvm="V6_vshuffh", since=60, outs=(V,), ins=(V,), asm="{o0}.h = vshuff({i0}.h)",
      c="{o0} = Q6_Vh_vshuff_Vh({i0});")
def vshuff_h(u):
    x = u16(u)
    return out16(_interleave(x[:, :32], x[:, 32:]))


@form("vdeal_h", llvm="V6_vdealh", since=60, outs=(V,), ins=(V,), asm="{o0}.h = vdeal({i0}.h)",
      c="{o0} = Q6_Vh_vdeal_Vh({i0});")
def vdeal_h(u):
    x = u16(u)
    return out16(np.concatenate([x[:, 0::2], x[:, 1::2]], axis=1))


@form("vdeale_b", llvm="V6_vdealb4w", since=60, outs=(V,), ins=(V, V), asm="{o0}.b = vdeale({i0}.b,{i1}.b)",
      c="{o0} = Q6_Vb_vdeale_VbVb({i0}, {i1});")
def vdeale_b(u, v):
    a, b = _b(u), _b(v)
    return _cat(b[:, 0::4], b[:, 2::4], a[:, 0::4], a[:, 2::4])


# even / odd shuffles of two vectors ------------------------------------------------------------------
@form("vshuffe_b", llvm="V6_vshuffeb", since=60, outs=(V,), ins=(V, V), asm="{o0}.b = vshuffe({i0}.b,{i1}.b)",
      c="{o0} = Q6_Vb_vshuffe_VbVb({i0}, {i1});")
def vshuffe_b(u, v):
    return np.ascontiguousarray(_interleave(_b(v)[:, 0::2], _b(u)[:, 0::2]))


@form("vshuffo_b", llvm="V6_vshuffob", since=60, outs=(V,), ins=(V, V), asm="{o0}.b = vshuffo({i0}.b,{i1}.b)",
      c="{o0} = Q6_Vb_vshuffo_VbVb({i0}, {i1});")
def vshuffo_b(u, v):
    return np.ascontiguousarray(_interleave(_b(v)[:, 1::2], _b(u)[:, 1::2]))


@form("vshuffe_h", llvm="V6_vshufeh", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vshuffe({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vshuffe_VhVh({i0}, {i1});")
def vshuffe_h(u, v):
    return out16(_interleave(u16(v)[:, 0::2], u16(u)[:, 0::2]))


@form("vshuffo_h", llvm="V6_vshufoh", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vshuffo({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vshuffo_VhVh({i0}, {i1});")
def vshuffo_h(u, v):
    return out16(_interleave(u16(v)[:, 1::2], u16(u)[:, 1::2]))


@form("vshuffoe_b", llvm="V6_vshufoeb", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.b = vshuffoe({i0}.b,{i1}.b)", c="WB_SPLIT(Q6_Wb_vshuffoe_VbVb({i0}, {i1}), {o0}, {o1});")
def vshuffoe_b(u, v):
    return vshuffe_b(u, v), vshuffo_b(u, v)


@form("vshuffoe_h", llvm="V6_vshufoeh", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vshuffoe({i0}.h,{i1}.h)", c="WB_SPLIT(Q6_Wh_vshuffoe_VhVh({i0}, {i1}), {o0}, {o1});")
def vshuffoe_h(u, v):
    return vshuffe_h(u, v), vshuffo_h(u, v)


# the Rt-controlled pair network ----------------------------------------------------------------------
def _network(u, v, r, offsets):
    lo, hi = np.broadcast_arrays(_b(v), _b(u))
    lo, hi = lo.copy(), hi.copy()
    ctl = rt(r)
    for offset in offsets:
        ks = np.array([k for k in range(128) if not k & offset])
        on = (ctl & offset) != 0
        a, b = hi[:, ks], lo[:, ks + offset]
        hi[:, ks] = np.where(on, b, a)
        lo[:, ks + offset] = np.where(on, a, b)
    return lo, hi


@form("vshuff_r", llvm="V6_vshuffvdd", since=60, outs=(V, V), ins=(V, V, R), rt8=(2,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n} = vshuff({i0},{i1},{i2})", c="WB_SPLIT(Q6_W_vshuff_VVR({i0}, {i1}, {i2}), {o0}, {o1});")
def vshuff_r(u, v, r):
    return _network(u, v, r, (1, 2, 4, 8, 16, 32, 64))


@form("vdeal_r", llvm="V6_vdealvdd", since=60, outs=(V, V), ins=(V, V, R), rt8=(2,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n} = vdeal({i0},{i1},{i2})", c="WB_SPLIT(Q6_W_vdeal_VVR({i0}, {i1}, {i2}), {o0}, {o1});")
def vdeal_r(u, v, r):
    return _network(u, v, r, (64, 32, 16, 8, 4, 2, 1))


# Benes networks ------------------------------------------------------------------------------------
def _benes(u, v, offsets):
    tmp, ctl = np.broadcast_arrays(_b(u), _b(v))
    k = np.arange(128)
    for offset in offsets:
        tmp = np.where((ctl & offset) != 0, tmp[:, k ^ offset], tmp)
    return np.ascontiguousarray(tmp, dtype=np.uint8)


@form("vdelta", llvm="V6_vdelta", since=60, outs=(V,), ins=(V, V), asm="{o0} = vdelta({i0},{i1})",
      c="{o0} = Q6_V_vdelta_VV({i0}, {i1});")
def vdelta(u, v):
    return _benes(u, v, (64, 32, 16, 8, 4, 2, 1))


@form("vrdelta", llvm="V6_vrdelta", since=60, outs=(V,), ins=(V, V), asm="{o0} = vrdelta({i0},{i1})",
      c="{o0} = Q6_V_vrdelta_VV({i0}, {i1});")
def vrdelta(u, v):
    return _benes(u, v, (1, 2, 4, 8, 16, 32, 64))


# pairs ---------------------------------------------------------------------------------------------
@form("vcombine", llvm="V6_vcombine", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n} = vcombine({i0},{i1})", c="WB_SPLIT(Q6_W_vcombine_VV({i0}, {i1}), {o0}, {o1});")
def vcombine(u, v):
    """Vdd = vcombine(Vu, Vv): the low vector is Vv, the high one Vu."""
    return _b(v).copy(), _b(u).copy()


# ``lo(Vss)``/``hi(Vss)`` (LLVM's V6_lo/V6_hi) are assembler pseudos with no encoding: the half of a
# pair is a register of its own, so a copy of it is a vector assign (V6_vassign) of that register.
@form("vlo", llvm="V6_vassign", since=60, outs=(V,), ins=(V, V), pairs=_PAIR_IN, asm="{o0} = {i0}",
      c="{o0} = Q6_V_lo_W(WB_W({i1}, {i0}));", intrinsic_of="V6_lo")
def vlo(lo, hi):
    return _b(lo).copy()


@form("vhi", llvm="V6_vassign", since=60, outs=(V,), ins=(V, V), pairs=_PAIR_IN, asm="{o0} = {i1}",
      c="{o0} = Q6_V_hi_W(WB_W({i1}, {i0}));", intrinsic_of="V6_hi")
def vhi(lo, hi):
    return _b(hi).copy()


# rotate and align ------------------------------------------------------------------------------------
def _take(src, start):
    """src[:, start + k] for k in 0..127, with a per-row start of shape (P, 1) (or (1, 1))."""
    pos = np.asarray(start, np.int64) + np.arange(128)
    rows = max(src.shape[0], pos.shape[0])
    return np.ascontiguousarray(np.take_along_axis(np.broadcast_to(src, (rows, src.shape[1])),
                                                   np.broadcast_to(pos, (rows, 128)), axis=1), dtype=np.uint8)


@form("vror", llvm="V6_vror", since=60, outs=(V,), ins=(V, R), asm="{o0} = vror({i0},{i1})",
      c="{o0} = Q6_V_vror_VR({i0}, {i1});")
def vror(u, r):
    x = _b(u)
    return _take(_cat(x, x), rt(r) & 127)


@form("valign", llvm="V6_valignb", since=60, outs=(V,), ins=(V, V, R), rt8=(2,), asm="{o0} = valign({i0},{i1},{i2})",
      c="{o0} = Q6_V_valign_VVR({i0}, {i1}, {i2});")
def valign(u, v, r):
    """Bytes shift .. shift+127 of the 256-byte concatenation Vv (low) : Vu (high), shift = Rt & 127."""
    return _take(_cat(v, u), rt(r) & 127)


@form("vlalign", llvm="V6_vlalignb", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0} = vlalign({i0},{i1},{i2})", c="{o0} = Q6_V_vlalign_VVR({i0}, {i1}, {i2});")
def vlalign(u, v, r):
    return _take(_cat(v, u), 128 - (rt(r) & 127))


@form("valign_i", llvm="V6_valignbi", since=60, outs=(V,), ins=(V, V, imm(3)), asm="{o0} = valign({i0},{i1},#{i2})",
      c="{o0} = Q6_V_valign_VVI({i0}, {i1}, {i2});")
def valign_i(u, v, k):
    return _take(_cat(v, u), np.array([[int(k)]]))


# zero / sign extension and unpack --------------------------------------------------------------------
@form("vzxt_ub", llvm="V6_vzb", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT, asm="{o1}:{o0n}.uh = vzxt({i0}.ub)",
      c="WB_SPLIT(Q6_Wuh_vzxt_Vub({i0}), {o0}, {o1});")
def vzxt_ub(u):
    x = u8(u)
    return out16(x[:, 0::2]), out16(x[:, 1::2])


@form("vsxt_b", llvm="V6_vsb", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT, asm="{o1}:{o0n}.h = vsxt({i0}.b)",
      c="WB_SPLIT(Q6_Wh_vsxt_Vb({i0}), {o0}, {o1});")
def vsxt_b(u):
    x = s8(u)
    return out16(x[:, 0::2]), out16(x[:, 1::2])


@form("vzxt_uh", llvm="V6_vzh", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT, asm="{o1}:{o0n}.uw = vzxt({i0}.uh)",
      c="WB_SPLIT(Q6_Wuw_vzxt_Vuh({i0}), {o0}, {o1});")
def vzxt_uh(u):
    x = u16(u)
    return out32(x[:, 0::2]), out32(x[:, 1::2])


@form("vsxt_h", llvm="V6_vsh", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT, asm="{o1}:{o0n}.w = vsxt({i0}.h)",
      c="WB_SPLIT(Q6_Ww_vsxt_Vh({i0}), {o0}, {o1});")
def vsxt_h(u):
    x = s16(u)
    return out32(x[:, 0::2]), out32(x[:, 1::2])


def _unpack(x, out, half):
    return out(x[:, :half]), out(x[:, half:])


@form("vunpack_ub", llvm="V6_vunpackub", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.uh = vunpack({i0}.ub)", c="WB_SPLIT(Q6_Wuh_vunpack_Vub({i0}), {o0}, {o1});")
def vunpack_ub(u):
    return _unpack(u8(u), out16, 64)


@form("vunpack_b", llvm="V6_vunpackb", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vunpack({i0}.b)", c="WB_SPLIT(Q6_Wh_vunpack_Vb({i0}), {o0}, {o1});")
def vunpack_b(u):
    return _unpack(s8(u), out16, 64)


@form("vunpack_uh", llvm="V6_vunpackuh", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.uw = vunpack({i0}.uh)", c="WB_SPLIT(Q6_Wuw_vunpack_Vuh({i0}), {o0}, {o1});")
def vunpack_uh(u):
    return _unpack(u16(u), out32, 32)


@form("vunpack_h", llvm="V6_vunpackh", since=60, outs=(V, V), ins=(V,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.w = vunpack({i0}.h)", c="WB_SPLIT(Q6_Ww_vunpack_Vh({i0}), {o0}, {o1});")
def vunpack_h(u):
    return _unpack(s16(u), out32, 32)


# pack and saturate ------------------------------------------------------------------------------------
@form("vpacke_h", llvm="V6_vpackeb", since=60, outs=(V,), ins=(V, V), asm="{o0}.b = vpacke({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vb_vpacke_VhVh({i0}, {i1});")
def vpacke_h(u, v):
    return _cat(_b(v)[:, 0::2], _b(u)[:, 0::2])


@form("vpacko_h", llvm="V6_vpackob", since=60, outs=(V,), ins=(V, V), asm="{o0}.b = vpacko({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vb_vpacko_VhVh({i0}, {i1});")
def vpacko_h(u, v):
    return _cat(_b(v)[:, 1::2], _b(u)[:, 1::2])


@form("vpacke_w", llvm="V6_vpackeh", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vpacke({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vh_vpacke_VwVw({i0}, {i1});")
def vpacke_w(u, v):
    return out16(np.concatenate([u16(v)[:, 0::2], u16(u)[:, 0::2]], axis=1))


@form("vpacko_w", llvm="V6_vpackoh", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vpacko({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vh_vpacko_VwVw({i0}, {i1});")
def vpacko_w(u, v):
    return out16(np.concatenate([u16(v)[:, 1::2], u16(u)[:, 1::2]], axis=1))


def _packsat(u, v, view, lo, hi, out):
    return out(np.clip(np.concatenate([view(v), view(u)], axis=1), lo, hi))


@form("vpack_hub_sat", llvm="V6_vpackhub_sat", since=60, outs=(V,), ins=(V, V),
      asm="{o0}.ub = vpack({i0}.h,{i1}.h):sat", c="{o0} = Q6_Vub_vpack_VhVh_sat({i0}, {i1});")
def vpack_hub_sat(u, v):
    return _packsat(u, v, s16, 0, 255, out8)


@form("vpack_hb_sat", llvm="V6_vpackhb_sat", since=60, outs=(V,), ins=(V, V),
      asm="{o0}.b = vpack({i0}.h,{i1}.h):sat", c="{o0} = Q6_Vb_vpack_VhVh_sat({i0}, {i1});")
def vpack_hb_sat(u, v):
    return _packsat(u, v, s16, -128, 127, out8)


@form("vpack_wuh_sat", llvm="V6_vpackwuh_sat", since=60, outs=(V,), ins=(V, V),
      asm="{o0}.uh = vpack({i0}.w,{i1}.w):sat", c="{o0} = Q6_Vuh_vpack_VwVw_sat({i0}, {i1});")
def vpack_wuh_sat(u, v):
    return _packsat(u, v, s32, 0, 65535, out16)


@form("vpack_wh_sat", llvm="V6_vpackwh_sat", since=60, outs=(V,), ins=(V, V),
      asm="{o0}.h = vpack({i0}.w,{i1}.w):sat", c="{o0} = Q6_Vh_vpack_VwVw_sat({i0}, {i1});")
def vpack_wh_sat(u, v):
    return _packsat(u, v, s32, -32768, 32767, out16)


@form("vsat_hub", llvm="V6_vsathub", since=60, outs=(V,), ins=(V, V), asm="{o0}.ub = vsat({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vub_vsat_VhVh({i0}, {i1});")
def vsat_hub(u, v):
    """Byte 2i = satub(Vv.h[i]), byte 2i+1 = satub(Vu.h[i])."""
    return out8(_interleave(np.clip(s16(v), 0, 255), np.clip(s16(u), 0, 255)))


@form("vsat_wh", llvm="V6_vsatwh", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vsat({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vh_vsat_VwVw({i0}, {i1});")
def vsat_wh(u, v):
    return out16(_interleave(np.clip(s32(v), -32768, 32767), np.clip(s32(u), -32768, 32767)))
