"""HVX multiply forms: vrmpy (4-way byte dot products into words), vmpy (widening byte products
into halfword pairs), vmpa (2-way vertical products), vdmpy (2-way dot into halfwords), vmpyi.

Semantics layer (`isa_models.hvx`). ``ext.idef`` "4-WAY REDUCTION": ``vrmpybus`` (Vu.ub x Rt.b),
``vrmpyub`` (Vu.ub x Rt.ub), ``vrmpybusv`` (Vu.ub x Vv.b), ``vrmpybv`` (b x b), ``vrmpyubv``
(ub x ub), each ``w[i] = sum_j x[4i+j] * y[4i+j]`` (with Rt: byte j of Rt) wrapping to 32 bits,
``_acc`` adding into Vx; ``vrmpybusi``/``vrmpyubi`` (pair, ``#u1`` sliding window, transcribed
index for index). ``vmpybusv``/``vmpybv``/``vmpyubv``/``vmpybus``/``vmpyub``: even byte products
in o0.h, odd in o1.h (Rt: byte ``(2i)%4`` / ``(2i+1)%4``). ``vmpabus``: ``o0.h[i] =
Vuu0.ub[2i]*Rt.b0 + Vuu1.ub[2i]*Rt.b1``, ``o1.h[i] = Vuu0.ub[2i+1]*Rt.b2 + Vuu1.ub[2i+1]*Rt.b3``;
``vmpabusv`` the same with Vvv bytes. ``vdmpybus``: ``h[i] = ub[2i]*Rt.b[(2i)%4] +
ub[2i+1]*Rt.b[(2i+1)%4]``. Halfword results wrap to 16 bits.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import imm
from isa_models.hvx.forms import R, V, form, out16, out32, rt_bytes, rt_ubytes, s8, s16, s32, u8, u32

__all__ = ["vrmpy_ubb_vr", "vrmpy_ubb_vr_acc", "vrmpy_ubub_vr", "vrmpy_ubub_vr_acc",
           "vrmpy_ubb_vv", "vrmpy_ubb_vv_acc", "vrmpy_bb_vv", "vrmpy_bb_vv_acc", "vrmpy_ubub_vv",
           "vrmpy_ubub_vv_acc", "vrmpy_ubb_pair", "vrmpy_ubb_pair_acc", "vrmpy_ubub_pair", "vrmpy_ubub_pair_acc",
           "vmpy_ubb_vv", "vmpy_ubb_vv_acc", "vmpy_bb_vv", "vmpy_bb_vv_acc", "vmpy_ubub_vv", "vmpy_ubub_vv_acc",
           "vmpy_ubb_vr", "vmpy_ubb_vr_acc", "vmpy_ubub_vr", "vmpy_ubub_vr_acc", "vmpa_ubb", "vmpa_ubb_acc",
           "vmpa_ubb_vv", "vdmpy_ubb_vr", "vdmpy_ubb_vr_acc", "vmpyi_hh", "vmpyi_hh_acc"]

_PAIR_OUT = (("o", 0, 1),)
_PAIR_ACC = (("o", 0, 1), ("i", 0, 1))


def _dot4(x, y):
    """sum over each group of 4 byte lanes of x*y -> (P, 32); y is (P, 128) or (P, 4) (Rt bytes)."""
    xs = x.reshape(x.shape[0], 32, 4)
    ys = y.reshape(y.shape[0], -1, 4)
    return (xs * ys).sum(axis=2)


# vrmpy by scalar -----------------------------------------------------------------------------------
@form("vrmpy_ubb_vr", llvm="V6_vrmpybus", since=60, outs=(V,), ins=(V, R), asm="{o0}.w = vrmpy({i0}.ub,{i1}.b)",
      c="{o0} = Q6_Vw_vrmpy_VubRb({i0}, {i1});")
def vrmpy_ubb_vr(u, r):
    return out32(_dot4(u8(u), rt_bytes(r)))


@form("vrmpy_ubb_vr_acc", llvm="V6_vrmpybus_acc", since=60, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.w += vrmpy({i1}.ub,{i2}.b)", c="{o0} = Q6_Vw_vrmpyacc_VwVubRb({i0}, {i1}, {i2});")
def vrmpy_ubb_vr_acc(acc, u, r):
    return out32(s32(acc) + _dot4(u8(u), rt_bytes(r)))


@form("vrmpy_ubub_vr", llvm="V6_vrmpyub", since=60, outs=(V,), ins=(V, R), asm="{o0}.uw = vrmpy({i0}.ub,{i1}.ub)",
      c="{o0} = Q6_Vuw_vrmpy_VubRub({i0}, {i1});")
def vrmpy_ubub_vr(u, r):
    return out32(_dot4(u8(u), rt_ubytes(r)))


@form("vrmpy_ubub_vr_acc", llvm="V6_vrmpyub_acc", since=60, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.uw += vrmpy({i1}.ub,{i2}.ub)", c="{o0} = Q6_Vuw_vrmpyacc_VuwVubRub({i0}, {i1}, {i2});")
def vrmpy_ubub_vr_acc(acc, u, r):
    return out32(u32(acc) + _dot4(u8(u), rt_ubytes(r)))


# vrmpy by vector -----------------------------------------------------------------------------------
@form("vrmpy_ubb_vv", llvm="V6_vrmpybusv", since=60, outs=(V,), ins=(V, V), asm="{o0}.w = vrmpy({i0}.ub,{i1}.b)",
      c="{o0} = Q6_Vw_vrmpy_VubVb({i0}, {i1});")
def vrmpy_ubb_vv(u, v):
    return out32(_dot4(u8(u), s8(v)))


@form("vrmpy_ubb_vv_acc", llvm="V6_vrmpybusv_acc", since=60, outs=(V,), ins=(V, V, V), tied=(0,),
      asm="{o0}.w += vrmpy({i1}.ub,{i2}.b)", c="{o0} = Q6_Vw_vrmpyacc_VwVubVb({i0}, {i1}, {i2});")
def vrmpy_ubb_vv_acc(acc, u, v):
    return out32(s32(acc) + _dot4(u8(u), s8(v)))


@form("vrmpy_bb_vv", llvm="V6_vrmpybv", since=60, outs=(V,), ins=(V, V), asm="{o0}.w = vrmpy({i0}.b,{i1}.b)",
      c="{o0} = Q6_Vw_vrmpy_VbVb({i0}, {i1});")
def vrmpy_bb_vv(u, v):
    return out32(_dot4(s8(u), s8(v)))


@form("vrmpy_bb_vv_acc", llvm="V6_vrmpybv_acc", since=60, outs=(V,), ins=(V, V, V), tied=(0,),
      asm="{o0}.w += vrmpy({i1}.b,{i2}.b)", c="{o0} = Q6_Vw_vrmpyacc_VwVbVb({i0}, {i1}, {i2});")
def vrmpy_bb_vv_acc(acc, u, v):
    return out32(s32(acc) + _dot4(s8(u), s8(v)))


@form("vrmpy_ubub_vv", llvm="V6_vrmpyubv", since=60, outs=(V,), ins=(V, V),
      asm="{o0}.uw = vrmpy({i0}.ub,{i1}.ub)", c="{o0} = Q6_Vuw_vrmpy_VubVub({i0}, {i1});")
def vrmpy_ubub_vv(u, v):
    return out32(_dot4(u8(u), u8(v)))


@form("vrmpy_ubub_vv_acc", llvm="V6_vrmpyubv_acc", since=60, outs=(V,), ins=(V, V, V), tied=(0,),
      asm="{o0}.uw += vrmpy({i1}.ub,{i2}.ub)", c="{o0} = Q6_Vuw_vrmpyacc_VuwVubVub({i0}, {i1}, {i2});")
def vrmpy_ubub_vv_acc(acc, u, v):
    return out32(u32(acc) + _dot4(u8(u), u8(v)))


# vrmpy on a pair with the #u1 sliding window ---------------------------------------------------------
def _rmpyi(u_lo, u_hi, r, k, rbytes):
    """vrmpybusi / vrmpyubi transcribed: byte lanes of Vuu0/Vuu1 words against Rt bytes rotated by k."""
    lo, hi = u8(u_lo).reshape(-1, 32, 4), u8(u_hi).reshape(-1, 32, 4)
    sel = hi if k else lo
    c = [rbytes(r)[:, (j - k) & 3][:, None] for j in range(4)]
    o0 = sel[:, :, 0] * c[0] + lo[:, :, 1] * c[1] + lo[:, :, 2] * c[2] + lo[:, :, 3] * c[3]
    o1 = hi[:, :, 0] * c[2] + hi[:, :, 1] * c[3] + sel[:, :, 2] * c[0] + lo[:, :, 3] * c[1]
    return o0, o1


@form("vrmpy_ubb_pair", llvm="V6_vrmpybusi", since=60, outs=(V, V), ins=(V, V, R, imm(1)), pairs=(*_PAIR_OUT, ("i", 0, 1)),
      asm="{o1}:{o0n}.w = vrmpy({i1}:{i0n}.ub,{i2}.b,#{i3})",
      c="WB_SPLIT(Q6_Ww_vrmpy_WubRbI(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vrmpy_ubb_pair(u_lo, u_hi, r, k):
    o0, o1 = _rmpyi(u_lo, u_hi, r, k, rt_bytes)
    return out32(o0), out32(o1)


@form("vrmpy_ubb_pair_acc", llvm="V6_vrmpybusi_acc", since=60, outs=(V, V), ins=(V, V, V, V, R, imm(1)),
      tied=(0, 1), pairs=(*_PAIR_ACC, ("i", 2, 3)), asm="{o1}:{o0n}.w += vrmpy({i3}:{i2n}.ub,{i4}.b,#{i5})",
      c="WB_SPLIT(Q6_Ww_vrmpyacc_WwWubRbI(WB_W({i1}, {i0}), WB_W({i3}, {i2}), {i4}, {i5}), {o0}, {o1});")
def vrmpy_ubb_pair_acc(acc_lo, acc_hi, u_lo, u_hi, r, k):
    o0, o1 = _rmpyi(u_lo, u_hi, r, k, rt_bytes)
    return out32(s32(acc_lo) + o0), out32(s32(acc_hi) + o1)


@form("vrmpy_ubub_pair", llvm="V6_vrmpyubi", since=60, outs=(V, V), ins=(V, V, R, imm(1)), pairs=(*_PAIR_OUT, ("i", 0, 1)),
      asm="{o1}:{o0n}.uw = vrmpy({i1}:{i0n}.ub,{i2}.ub,#{i3})",
      c="WB_SPLIT(Q6_Wuw_vrmpy_WubRubI(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vrmpy_ubub_pair(u_lo, u_hi, r, k):
    o0, o1 = _rmpyi(u_lo, u_hi, r, k, rt_ubytes)
    return out32(o0), out32(o1)


@form("vrmpy_ubub_pair_acc", llvm="V6_vrmpyubi_acc", since=60, outs=(V, V), ins=(V, V, V, V, R, imm(1)),
      tied=(0, 1), pairs=(*_PAIR_ACC, ("i", 2, 3)), asm="{o1}:{o0n}.uw += vrmpy({i3}:{i2n}.ub,{i4}.ub,#{i5})",
      c="WB_SPLIT(Q6_Wuw_vrmpyacc_WuwWubRubI(WB_W({i1}, {i0}), WB_W({i3}, {i2}), {i4}, {i5}), {o0}, {o1});")
def vrmpy_ubub_pair_acc(acc_lo, acc_hi, u_lo, u_hi, r, k):
    o0, o1 = _rmpyi(u_lo, u_hi, r, k, rt_ubytes)
    return out32(u32(acc_lo) + o0), out32(u32(acc_hi) + o1)


# vmpy: widening byte products into a halfword pair ----------------------------------------------------
def _mpy(x, y):
    """Even byte products (o0) and odd byte products (o1); y is (P, 128) or Rt bytes (P, 4)."""
    if y.shape[1] == 4:
        y = np.tile(y, (1, 32))
    p = x * y
    return p[:, 0::2], p[:, 1::2]


def _mpy_acc(acc_lo, acc_hi, x, y):
    e, o = _mpy(x, y)
    return out16(s16(acc_lo) + e), out16(s16(acc_hi) + o)


@form("vmpy_ubb_vv", llvm="V6_vmpybusv", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vmpy({i0}.ub,{i1}.b)", c="WB_SPLIT(Q6_Wh_vmpy_VubVb({i0}, {i1}), {o0}, {o1});")
def vmpy_ubb_vv(u, v):
    e, o = _mpy(u8(u), s8(v))
    return out16(e), out16(o)


@form("vmpy_ubb_vv_acc", llvm="V6_vmpybusv_acc", since=60, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h += vmpy({i2}.ub,{i3}.b)",
      c="WB_SPLIT(Q6_Wh_vmpyacc_WhVubVb(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vmpy_ubb_vv_acc(acc_lo, acc_hi, u, v):
    return _mpy_acc(acc_lo, acc_hi, u8(u), s8(v))


@form("vmpy_bb_vv", llvm="V6_vmpybv", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vmpy({i0}.b,{i1}.b)", c="WB_SPLIT(Q6_Wh_vmpy_VbVb({i0}, {i1}), {o0}, {o1});")
def vmpy_bb_vv(u, v):
    e, o = _mpy(s8(u), s8(v))
    return out16(e), out16(o)


@form("vmpy_bb_vv_acc", llvm="V6_vmpybv_acc", since=60, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h += vmpy({i2}.b,{i3}.b)",
      c="WB_SPLIT(Q6_Wh_vmpyacc_WhVbVb(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vmpy_bb_vv_acc(acc_lo, acc_hi, u, v):
    return _mpy_acc(acc_lo, acc_hi, s8(u), s8(v))


@form("vmpy_ubub_vv", llvm="V6_vmpyubv", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.uh = vmpy({i0}.ub,{i1}.ub)", c="WB_SPLIT(Q6_Wuh_vmpy_VubVub({i0}, {i1}), {o0}, {o1});")
def vmpy_ubub_vv(u, v):
    e, o = _mpy(u8(u), u8(v))
    return out16(e), out16(o)


@form("vmpy_ubub_vv_acc", llvm="V6_vmpyubv_acc", since=60, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.uh += vmpy({i2}.ub,{i3}.ub)",
      c="WB_SPLIT(Q6_Wuh_vmpyacc_WuhVubVub(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vmpy_ubub_vv_acc(acc_lo, acc_hi, u, v):
    return _mpy_acc(acc_lo, acc_hi, u8(u), u8(v))


@form("vmpy_ubb_vr", llvm="V6_vmpybus", since=60, outs=(V, V), ins=(V, R), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vmpy({i0}.ub,{i1}.b)", c="WB_SPLIT(Q6_Wh_vmpy_VubRb({i0}, {i1}), {o0}, {o1});")
def vmpy_ubb_vr(u, r):
    e, o = _mpy(u8(u), rt_bytes(r))
    return out16(e), out16(o)


@form("vmpy_ubb_vr_acc", llvm="V6_vmpybus_acc", since=60, outs=(V, V), ins=(V, V, V, R), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h += vmpy({i2}.ub,{i3}.b)",
      c="WB_SPLIT(Q6_Wh_vmpyacc_WhVubRb(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vmpy_ubb_vr_acc(acc_lo, acc_hi, u, r):
    return _mpy_acc(acc_lo, acc_hi, u8(u), rt_bytes(r))


@form("vmpy_ubub_vr", llvm="V6_vmpyub", since=60, outs=(V, V), ins=(V, R), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.uh = vmpy({i0}.ub,{i1}.ub)", c="WB_SPLIT(Q6_Wuh_vmpy_VubRub({i0}, {i1}), {o0}, {o1});")
def vmpy_ubub_vr(u, r):
    e, o = _mpy(u8(u), rt_ubytes(r))
    return out16(e), out16(o)


@form("vmpy_ubub_vr_acc", llvm="V6_vmpyub_acc", since=60, outs=(V, V), ins=(V, V, V, R), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.uh += vmpy({i2}.ub,{i3}.ub)",
      c="WB_SPLIT(Q6_Wuh_vmpyacc_WuhVubRub(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vmpy_ubub_vr_acc(acc_lo, acc_hi, u, r):
    return _mpy_acc(acc_lo, acc_hi, u8(u), rt_ubytes(r))


# vmpa: two vertical products per halfword ------------------------------------------------------------
def _mpa_vr(u_lo, u_hi, r):
    c = rt_bytes(r)
    a, b = u8(u_lo), u8(u_hi)
    o0 = a[:, 0::2] * c[:, 0:1] + b[:, 0::2] * c[:, 1:2]
    o1 = a[:, 1::2] * c[:, 2:3] + b[:, 1::2] * c[:, 3:4]
    return o0, o1


@form("vmpa_ubb", llvm="V6_vmpabus", since=60, outs=(V, V), ins=(V, V, R), pairs=(*_PAIR_OUT, ("i", 0, 1)),
      asm="{o1}:{o0n}.h = vmpa({i1}:{i0n}.ub,{i2}.b)",
      c="WB_SPLIT(Q6_Wh_vmpa_WubRb(WB_W({i1}, {i0}), {i2}), {o0}, {o1});")
def vmpa_ubb(u_lo, u_hi, r):
    o0, o1 = _mpa_vr(u_lo, u_hi, r)
    return out16(o0), out16(o1)


@form("vmpa_ubb_acc", llvm="V6_vmpabus_acc", since=60, outs=(V, V), ins=(V, V, V, V, R), tied=(0, 1),
      pairs=(*_PAIR_ACC, ("i", 2, 3)), asm="{o1}:{o0n}.h += vmpa({i3}:{i2n}.ub,{i4}.b)",
      c="WB_SPLIT(Q6_Wh_vmpaacc_WhWubRb(WB_W({i1}, {i0}), WB_W({i3}, {i2}), {i4}), {o0}, {o1});")
def vmpa_ubb_acc(acc_lo, acc_hi, u_lo, u_hi, r):
    o0, o1 = _mpa_vr(u_lo, u_hi, r)
    return out16(s16(acc_lo) + o0), out16(s16(acc_hi) + o1)


@form("vmpa_ubb_vv", llvm="V6_vmpabusv", since=60, outs=(V, V), ins=(V, V, V, V),
      pairs=(*_PAIR_OUT, ("i", 0, 1), ("i", 2, 3)), asm="{o1}:{o0n}.h = vmpa({i1}:{i0n}.ub,{i3}:{i2n}.b)",
      c="WB_SPLIT(Q6_Wh_vmpa_WubWb(WB_W({i1}, {i0}), WB_W({i3}, {i2})), {o0}, {o1});")
def vmpa_ubb_vv(u_lo, u_hi, v_lo, v_hi):
    p0, p1 = u8(u_lo) * s8(v_lo), u8(u_hi) * s8(v_hi)
    return out16(p0[:, 0::2] + p1[:, 0::2]), out16(p0[:, 1::2] + p1[:, 1::2])


# vdmpy: 2-way dot into halfwords -------------------------------------------------------------------------
def _dmpy(u, r):
    c = np.tile(rt_bytes(r), (1, 32))
    p = u8(u) * c
    return p[:, 0::2] + p[:, 1::2]


@form("vdmpy_ubb_vr", llvm="V6_vdmpybus", since=60, outs=(V,), ins=(V, R), asm="{o0}.h = vdmpy({i0}.ub,{i1}.b)",
      c="{o0} = Q6_Vh_vdmpy_VubRb({i0}, {i1});")
def vdmpy_ubb_vr(u, r):
    return out16(_dmpy(u, r))


@form("vdmpy_ubb_vr_acc", llvm="V6_vdmpybus_acc", since=60, outs=(V,), ins=(V, V, R), tied=(0,),
      asm="{o0}.h += vdmpy({i1}.ub,{i2}.b)", c="{o0} = Q6_Vh_vdmpyacc_VhVubRb({i0}, {i1}, {i2});")
def vdmpy_ubb_vr_acc(acc, u, r):
    return out16(s16(acc) + _dmpy(u, r))


# vmpyi: halfword products, low 16 bits ----------------------------------------------------------------
@form("vmpyi_hh", llvm="V6_vmpyih", since=60, outs=(V,), ins=(V, V), asm="{o0}.h = vmpyi({i0}.h,{i1}.h)",
      c="{o0} = Q6_Vh_vmpyi_VhVh({i0}, {i1});")
def vmpyi_hh(u, v):
    return out16(s16(u) * s16(v))


@form("vmpyi_hh_acc", llvm="V6_vmpyih_acc", since=60, outs=(V,), ins=(V, V, V), tied=(0,),
      asm="{o0}.h += vmpyi({i1}.h,{i2}.h)", c="{o0} = Q6_Vh_vmpyiacc_VhVhVh({i0}, {i1}, {i2});")
def vmpyi_hh_acc(acc, u, v):
    return out16(s16(acc) + s16(u) * s16(v))
