"""HVX shift forms: arithmetic/logical shifts of h/w (and ub) lanes by a scalar or per lane by a
vector, shift-and-accumulate, and the narrowing shift-right-and-pack forms.

Semantics layer (`isa_models.hvx`). ``ext.idef`` ``V_SHIFT``: by Rt the count is ``Rt & (size-1)``
(``vlsrb``: ``Rt & 7``); by vector the count is the lane of Vv sign-extended from log2(size)+1
bits (``fSXTN``), and a negative count shifts the other way (``fBIDIR_ASHIFTR``/``fBIDIR_ASHIFTL``/
``fBIDIR_LSHIFTR`` of QEMU's ``macros.h``), the result kept to the lane width. ``vaslw_acc``,
``vasrw_acc``, ``vaslh_acc``, ``vasrh_acc`` add the shifted lane into Vx (wrapping).
``NARROWING_SHIFT``: per wide lane i, the even narrow half comes from Vv, the odd one from Vu:
``sat(rnd(x, n) >> n)`` with ``n = Rt & 0xF`` (w->h) or ``Rt & 7`` (h->b), ``fVROUND(x, n) =
x + (1 << (n - 1))`` when n > 0. Forms with an ``Rt8`` operand (narrowing) take r0-r7 only
(``attrs["rt8"]`` names the input).
"""

from __future__ import annotations

import numpy as np

from isa_models.hvx.forms import R, V, form, out8, out16, out32, rt, s16, s32, u8, u16, u32

__all__ = ["vasr_h_r", "vasr_w_r", "vlsr_h_r", "vlsr_w_r", "vasl_h_r", "vasl_w_r", "vlsr_ub_r",
           "vasr_h_v", "vasr_w_v", "vlsr_h_v", "vlsr_w_v", "vasl_h_v", "vasl_w_v",
           "vasl_w_r_acc", "vasr_w_r_acc", "vasl_h_r_acc", "vasr_h_r_acc",
           "vasr_wh", "vasr_wh_sat", "vasr_wh_rnd_sat", "vasr_wuh_sat", "vasr_hub_sat", "vasr_hub_rnd_sat",
           "vasr_hb_sat", "vasr_hb_rnd_sat"]


# by scalar ----------------------------------------------------------------------------------------
@form("vasr_h_r", llvm="V6_vasrh", since=60, outs=(V,), ins=(V, R), asm="{o0}.h = vasr({i0}.h,{i1})",
      c="{o0} = Q6_Vh_vasr_VhR({i0}, {i1});")
def vasr_h_r(a, r):
    return out16(s16(a) >> (rt(r) & 15))


@form("vasr_w_r", llvm="V6_vasrw", since=60, outs=(V,), ins=(V, R), asm="{o0}.w = vasr({i0}.w,{i1})",
      c="{o0} = Q6_Vw_vasr_VwR({i0}, {i1});")
def vasr_w_r(a, r):
    return out32(s32(a) >> (rt(r) & 31))


@form("vlsr_h_r", llvm="V6_vlsrh", since=60, outs=(V,), ins=(V, R), asm="{o0}.uh = vlsr({i0}.uh,{i1})",
      c="{o0} = Q6_Vuh_vlsr_VuhR({i0}, {i1});")
def vlsr_h_r(a, r):
    return out16(u16(a) >> (rt(r) & 15))


@form("vlsr_w_r", llvm="V6_vlsrw", since=60, outs=(V,), ins=(V, R), asm="{o0}.uw = vlsr({i0}.uw,{i1})",
      c="{o0} = Q6_Vuw_vlsr_VuwR({i0}, {i1});")
def vlsr_w_r(a, r):
    return out32(u32(a) >> (rt(r) & 31))


@form("vasl_h_r", llvm="V6_vaslh", since=60, outs=(V,), ins=(V, R), asm="{o0}.h = vasl({i0}.h,{i1})",
      c="{o0} = Q6_Vh_vasl_VhR({i0}, {i1});")
def vasl_h_r(a, r):
    return out16(s16(a) << (rt(r) & 15))


@form("vasl_w_r", llvm="V6_vaslw", since=60, outs=(V,), ins=(V, R), asm="{o0}.w = vasl({i0}.w,{i1})",
      c="{o0} = Q6_Vw_vasl_VwR({i0}, {i1});")
def vasl_w_r(a, r):
    return out32(s32(a) << (rt(r) & 31))


@form("vlsr_ub_r", llvm="V6_vlsrb", since=62, outs=(V,), ins=(V, R), asm="{o0}.ub = vlsr({i0}.ub,{i1})",
      c="{o0} = Q6_Vub_vlsr_VubR({i0}, {i1});")
def vlsr_ub_r(a, r):
    return out8(u8(a) >> (rt(r) & 7))


# by vector (bidirectional: a negative count shifts the other way) --------------------------------
def _count(v, view, bits):
    """fSXTN(bits, size, Vv lane): the low `bits` bits of each lane, sign-extended."""
    low = view(v) & ((1 << bits) - 1)
    return np.where(low >= 1 << (bits - 1), low - (1 << bits), low)


def _ashiftr(x, n):
    """fBIDIR_ASHIFTR: x >> n for n >= 0, x << -n otherwise (x already signed)."""
    return np.where(n >= 0, x >> np.maximum(n, 0), x << np.maximum(-n, 0))


def _ashiftl(x, n):
    """fBIDIR_ASHIFTL: x << n for n >= 0, x >> -n (arithmetic) otherwise."""
    return np.where(n >= 0, x << np.maximum(n, 0), x >> np.maximum(-n, 0))


@form("vasr_h_v", llvm="V6_vasrhv", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vasr({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vasr_VhVh({i0}, {i1});")
def vasr_h_v(a, v):
    return out16(_ashiftr(s16(a), _count(v, u16, 5)))


@form("vasr_w_v", llvm="V6_vasrwv", since=60, outs=(V,), ins=(V, V), asm="{o0}.w = vasr({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vw_vasr_VwVw({i0}, {i1});")
def vasr_w_v(a, v):
    return out32(_ashiftr(s32(a), _count(v, u32, 6)))


@form("vlsr_h_v", llvm="V6_vlsrhv", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vlsr({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vlsr_VhVh({i0}, {i1});")
def vlsr_h_v(a, v):
    return out16(_ashiftr(u16(a), _count(v, u16, 5)))


@form("vlsr_w_v", llvm="V6_vlsrwv", since=60, outs=(V,), ins=(V, V), asm="{o0}.w = vlsr({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vw_vlsr_VwVw({i0}, {i1});")
def vlsr_w_v(a, v):
    return out32(_ashiftr(u32(a), _count(v, u32, 6)))


@form("vasl_h_v", llvm="V6_vaslhv", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vasl({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vasl_VhVh({i0}, {i1});")
def vasl_h_v(a, v):
    return out16(_ashiftl(s16(a), _count(v, u16, 5)))


@form("vasl_w_v", llvm="V6_vaslwv", since=60, outs=(V,), ins=(V, V), asm="{o0}.w = vasl({i0}.w,{i1}.w)",
      c="{o0} = Q6_Vw_vasl_VwVw({i0}, {i1});")
def vasl_w_v(a, v):
    return out32(_ashiftl(s32(a), _count(v, u32, 6)))


# shift and accumulate -----------------------------------------------------------------------------
@form("vasl_w_r_acc", llvm="V6_vaslw_acc", since=60, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.w += vasl({i1}.w,{i2})", c="{o0} = Q6_Vw_vaslacc_VwVwR({i0}, {i1}, {i2});")
def vasl_w_r_acc(acc, a, r):
    return out32(s32(acc) + (s32(a) << (rt(r) & 31)))


@form("vasr_w_r_acc", llvm="V6_vasrw_acc", since=60, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.w += vasr({i1}.w,{i2})", c="{o0} = Q6_Vw_vasracc_VwVwR({i0}, {i1}, {i2});")
def vasr_w_r_acc(acc, a, r):
    return out32(s32(acc) + (s32(a) >> (rt(r) & 31)))


@form("vasl_h_r_acc", llvm="V6_vaslh_acc", since=65, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.h += vasl({i1}.h,{i2})", c="{o0} = Q6_Vh_vaslacc_VhVhR({i0}, {i1}, {i2});")
def vasl_h_r_acc(acc, a, r):
    return out16(s16(acc) + (s16(a) << (rt(r) & 15)))


@form("vasr_h_r_acc", llvm="V6_vasrh_acc", since=65, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.h += vasr({i1}.h,{i2})", c="{o0} = Q6_Vh_vasracc_VhVhR({i0}, {i1}, {i2});")
def vasr_h_r_acc(acc, a, r):
    return out16(s16(acc) + (s16(a) >> (rt(r) & 15)))


# narrowing shift right and pack -------------------------------------------------------------------
def _narrow(u, v, r, *, wide, mask, lo, hi, rnd, out):
    n = rt(r) & mask
    bias = np.where(n > 0, np.left_shift(1, np.maximum(n - 1, 0)), 0) if rnd else 0
    res = np.empty((np.shape(u)[0], 2 * wide(u).shape[1]), np.int64)
    for k, src in ((0, v), (1, u)):
        x = (wide(src) + bias) >> n
        res[:, k::2] = x if lo is None else np.clip(x, lo, hi)
    return out(res)


_H = dict(wide=s32, mask=0xF, out=out16)
_B = dict(wide=s16, mask=0x7, out=out8)


@form("vasr_wh", llvm="V6_vasrwh", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.h = vasr({i0}.w,{i1}.w,{i2})", c="{o0} = Q6_Vh_vasr_VwVwR({i0}, {i1}, {i2});")
def vasr_wh(u, v, r):
    return _narrow(u, v, r, lo=None, hi=None, rnd=False, **_H)


@form("vasr_wh_sat", llvm="V6_vasrwhsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.h = vasr({i0}.w,{i1}.w,{i2}):sat", c="{o0} = Q6_Vh_vasr_VwVwR_sat({i0}, {i1}, {i2});")
def vasr_wh_sat(u, v, r):
    return _narrow(u, v, r, lo=-32768, hi=32767, rnd=False, **_H)


@form("vasr_wh_rnd_sat", llvm="V6_vasrwhrndsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.h = vasr({i0}.w,{i1}.w,{i2}):rnd:sat", c="{o0} = Q6_Vh_vasr_VwVwR_rnd_sat({i0}, {i1}, {i2});")
def vasr_wh_rnd_sat(u, v, r):
    return _narrow(u, v, r, lo=-32768, hi=32767, rnd=True, **_H)


@form("vasr_wuh_sat", llvm="V6_vasrwuhsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.uh = vasr({i0}.w,{i1}.w,{i2}):sat", c="{o0} = Q6_Vuh_vasr_VwVwR_sat({i0}, {i1}, {i2});")
def vasr_wuh_sat(u, v, r):
    return _narrow(u, v, r, lo=0, hi=65535, rnd=False, **_H)


@form("vasr_hub_sat", llvm="V6_vasrhubsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.ub = vasr({i0}.h,{i1}.h,{i2}):sat", c="{o0} = Q6_Vub_vasr_VhVhR_sat({i0}, {i1}, {i2});")
def vasr_hub_sat(u, v, r):
    return _narrow(u, v, r, lo=0, hi=255, rnd=False, **_B)


@form("vasr_hub_rnd_sat", llvm="V6_vasrhubrndsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.ub = vasr({i0}.h,{i1}.h,{i2}):rnd:sat", c="{o0} = Q6_Vub_vasr_VhVhR_rnd_sat({i0}, {i1}, {i2});")
def vasr_hub_rnd_sat(u, v, r):
    return _narrow(u, v, r, lo=0, hi=255, rnd=True, **_B)


@form("vasr_hb_sat", llvm="V6_vasrhbsat", since=62, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.b = vasr({i0}.h,{i1}.h,{i2}):sat", c="{o0} = Q6_Vb_vasr_VhVhR_sat({i0}, {i1}, {i2});")
def vasr_hb_sat(u, v, r):
    return _narrow(u, v, r, lo=-128, hi=127, rnd=False, **_B)


@form("vasr_hb_rnd_sat", llvm="V6_vasrhbrndsat", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.b = vasr({i0}.h,{i1}.h,{i2}):rnd:sat", c="{o0} = Q6_Vb_vasr_VhVhR_rnd_sat({i0}, {i1}, {i2});")
def vasr_hb_rnd_sat(u, v, r):
    return _narrow(u, v, r, lo=-128, hi=127, rnd=True, **_B)
