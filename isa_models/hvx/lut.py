"""HVX table lookups: vlut32 (byte results) and vlut16 (halfword results into a pair), each with
the ``:nomatch``, ``|=`` (oracc) and immediate-selector variants.

Semantics layer (`isa_models.hvx`). ``ext.idef`` ``vlutvvb*``/``vlutvwh*`` (128-byte mode,
``fVECLOGSIZE() = 7``): ``oddhalf = (Rt >> 1) & 1`` (Rt bit 1, not bit 0), ``matchval = Rt & 7``
(vlut32) or ``Rt & 0xF`` (vlut16). vlut32: ``Vd.b[i] = ((idx & 0xE0) == matchval << 5) ?
byte[oddhalf] of Vv.h[idx % 64] : 0`` with ``idx = Vu.ub[i]``. vlut16: even index bytes feed o0,
odd ones o1: ``((idx & 0xF0) == matchval << 4) ? half[oddhalf] of Vv.w[idx % 32] : 0``.
``:nomatch`` replaces the top index bits by matchval (the lookup always happens); ``|=`` ORs
into the destination; ``#u3`` forms take matchval/oddhalf from the immediate. ``Rt8``: the
selector register is r0-r7 (``attrs["rt8"]``).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import imm
from isa_models.hvx.forms import R, V, form, rt

__all__ = ["vlut32", "vlut32_nm", "vlut32_oracc", "vlut32_i", "vlut32_oracc_i",
           "vlut16", "vlut16_nm", "vlut16_oracc", "vlut16_i", "vlut16_oracc_i"]

_I3 = imm(3)


def _sel(r):
    """(matchval bits source, oddhalf) of a selector register or immediate, as (P, 1) arrays."""
    s = rt(r) if not isinstance(r, (int, np.integer)) else np.array([[int(r)]], np.int64)
    return s, (s >> 1) & 1


def _lut32(u, v, r, *, nomatch):
    s, odd = _sel(r)
    m = s & 7
    idx = np.asarray(u, np.uint8).astype(np.int64)
    if nomatch:
        idx = (idx & 0x1F) | (m << 5)
    tbl = np.asarray(v, np.uint8)
    pos = 2 * (idx % 64) + odd
    val = np.take_along_axis(np.broadcast_to(tbl, (max(tbl.shape[0], pos.shape[0]), 128)), pos, axis=1)
    return np.where((idx & 0xE0) == (m << 5), val, 0).astype(np.uint8)


def _lut16(u, v, r, *, nomatch):
    s, odd = _sel(r)
    m = s & 0xF
    idx = np.asarray(u, np.uint8).astype(np.int64)
    if nomatch:
        idx = (idx & 0x0F) | (m << 4)
    tbl = np.asarray(v, np.uint8).view("<u2")
    pos = 2 * (idx % 32) + odd
    val = np.take_along_axis(np.broadcast_to(tbl, (max(tbl.shape[0], pos.shape[0]), 64)), pos, axis=1)
    res = np.where((idx & 0xF0) == (m << 4), val, 0).astype("<u2")
    lo, hi = np.ascontiguousarray(res[:, 0::2]), np.ascontiguousarray(res[:, 1::2])
    return lo.view(np.uint8), hi.view(np.uint8)


@form("vlut32", llvm="V6_vlutvvb", since=60, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.b = vlut32({i0}.b,{i1}.b,{i2})", c="{o0} = Q6_Vb_vlut32_VbVbR({i0}, {i1}, {i2});")
def vlut32(u, v, r):
    return _lut32(u, v, r, nomatch=False)


@form("vlut32_nm", llvm="V6_vlutvvb_nm", since=62, outs=(V,), ins=(V, V, R), rt8=(2,),
      asm="{o0}.b = vlut32({i0}.b,{i1}.b,{i2}):nomatch", c="{o0} = Q6_Vb_vlut32_VbVbR_nomatch({i0}, {i1}, {i2});")
def vlut32_nm(u, v, r):
    return _lut32(u, v, r, nomatch=True)


@form("vlut32_oracc", llvm="V6_vlutvvb_oracc", since=60, outs=(V,), ins=(V, V, V, R), tied=(0,), rt8=(3,),
      asm="{o0}.b |= vlut32({i1}.b,{i2}.b,{i3})", c="{o0} = Q6_Vb_vlut32or_VbVbVbR({i0}, {i1}, {i2}, {i3});")
def vlut32_oracc(acc, u, v, r):
    return np.bitwise_or(acc, _lut32(u, v, r, nomatch=False)).astype(np.uint8)


@form("vlut32_i", llvm="V6_vlutvvbi", since=62, outs=(V,), ins=(V, V, _I3),
      asm="{o0}.b = vlut32({i0}.b,{i1}.b,#{i2})", c="{o0} = Q6_Vb_vlut32_VbVbI({i0}, {i1}, {i2});")
def vlut32_i(u, v, k):
    return _lut32(u, v, k, nomatch=False)


@form("vlut32_oracc_i", llvm="V6_vlutvvb_oracci", since=62, outs=(V,), ins=(V, V, V, _I3), tied=(0,),
      asm="{o0}.b |= vlut32({i1}.b,{i2}.b,#{i3})", c="{o0} = Q6_Vb_vlut32or_VbVbVbI({i0}, {i1}, {i2}, {i3});")
def vlut32_oracc_i(acc, u, v, k):
    return np.bitwise_or(acc, _lut32(u, v, k, nomatch=False)).astype(np.uint8)


_PAIR_OUT = (("o", 0, 1),)
_PAIR_ACC = (("o", 0, 1), ("i", 0, 1))


@form("vlut16", llvm="V6_vlutvwh", since=60, outs=(V, V), ins=(V, V, R), rt8=(2,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vlut16({i0}.b,{i1}.h,{i2})", c="WB_SPLIT(Q6_Wh_vlut16_VbVhR({i0}, {i1}, {i2}), {o0}, {o1});")
def vlut16(u, v, r):
    return _lut16(u, v, r, nomatch=False)


@form("vlut16_nm", llvm="V6_vlutvwh_nm", since=62, outs=(V, V), ins=(V, V, R), rt8=(2,), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vlut16({i0}.b,{i1}.h,{i2}):nomatch",
      c="WB_SPLIT(Q6_Wh_vlut16_VbVhR_nomatch({i0}, {i1}, {i2}), {o0}, {o1});")
def vlut16_nm(u, v, r):
    return _lut16(u, v, r, nomatch=True)


@form("vlut16_oracc", llvm="V6_vlutvwh_oracc", since=60, outs=(V, V), ins=(V, V, V, V, R), tied=(0, 1), rt8=(4,),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h |= vlut16({i2}.b,{i3}.h,{i4})",
      c="WB_SPLIT(Q6_Wh_vlut16or_WhVbVhR(WB_W({i1}, {i0}), {i2}, {i3}, {i4}), {o0}, {o1});")
def vlut16_oracc(acc_lo, acc_hi, u, v, r):
    lo, hi = _lut16(u, v, r, nomatch=False)
    return np.bitwise_or(acc_lo, lo).astype(np.uint8), np.bitwise_or(acc_hi, hi).astype(np.uint8)


@form("vlut16_i", llvm="V6_vlutvwhi", since=62, outs=(V, V), ins=(V, V, _I3), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vlut16({i0}.b,{i1}.h,#{i2})",
      c="WB_SPLIT(Q6_Wh_vlut16_VbVhI({i0}, {i1}, {i2}), {o0}, {o1});")
def vlut16_i(u, v, k):
    return _lut16(u, v, k, nomatch=False)


@form("vlut16_oracc_i", llvm="V6_vlutvwh_oracci", since=62, outs=(V, V), ins=(V, V, V, V, _I3), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h |= vlut16({i2}.b,{i3}.h,#{i4})",
      c="WB_SPLIT(Q6_Wh_vlut16or_WhVbVhI(WB_W({i1}, {i0}), {i2}, {i3}, {i4}), {o0}, {o1});")
def vlut16_oracc_i(acc_lo, acc_hi, u, v, k):
    lo, hi = _lut16(u, v, k, nomatch=False)
    return np.bitwise_or(acc_lo, lo).astype(np.uint8), np.bitwise_or(acc_hi, hi).astype(np.uint8)
