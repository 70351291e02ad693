"""Hexagon scalar forms a vector loop needs: transfers, immediates, address and index arithmetic,
shifts and multiplies on r registers, plus the two vector/scalar word moves (vextract, vinsert).

Semantics layer (`isa_models.hvx`). Values are int32 in 4-byte r registers, arithmetic wraps
(Hexagon V73 PRM, ALU32/XTYPE; QEMU ``target/hexagon/imported/alu.idef``/``shift.idef``/
``mpy.idef``). Loops themselves are the IR's loops: the asm renderer turns them into hardware
loops (``loop0``/``loop1`` ... ``:endloop0``) and post-increment addressing, so no loop or branch
form is needed here. ``attrs["since"]`` is 60 for forms every HVX core has. ``V6_extractw``:
``Rd = Vu.uw[(Rs & 127) >> 2]``; ``V6_vinsertwr``: ``Vx.uw[0] = Rt``.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import imm
from isa_models.hvx.forms import R, V, form, out32, rt, u32

__all__ = ["tfrsi", "tfr", "addi", "add", "sub", "and_", "or_", "xor", "andi", "asl_i", "asr_i", "lsr_i", "mpyi",
           "mpyi_i", "vextract_w", "vinsert_w"]


def _r(values):
    return out32(np.asarray(values, np.int64).reshape(-1, 1))


@form("tfrsi", llvm="A2_tfrsi", since=60, outs=(R,), ins=(imm(16),), asm="{o0} = #{i0}", c="{o0} = {i0};",
      scalar=True)
def tfrsi(k):
    """Rd = #s16."""
    return _r([k])


@form("tfr", llvm="A2_tfr", since=60, outs=(R,), ins=(R,), asm="{o0} = {i0}", c="{o0} = {i0};", scalar=True)
def tfr(a):
    return np.array(a, dtype=np.uint8, copy=True)


@form("addi", llvm="A2_addi", since=60, outs=(R,), ins=(R, imm(16)), asm="{o0} = add({i0},#{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} + (uint32_t)({i1}));", scalar=True)
def addi(a, k):
    return _r(rt(a) + int(k))


@form("add", llvm="A2_add", since=60, outs=(R,), ins=(R, R), asm="{o0} = add({i0},{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} + (uint32_t){i1});", scalar=True)
def add(a, b):
    return _r(rt(a) + rt(b))


@form("sub", llvm="A2_sub", since=60, outs=(R,), ins=(R, R), asm="{o0} = sub({i0},{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} - (uint32_t){i1});", scalar=True)
def sub(a, b):
    return _r(rt(a) - rt(b))


@form("and", llvm="A2_and", since=60, outs=(R,), ins=(R, R), asm="{o0} = and({i0},{i1})",
      c="{o0} = {i0} & {i1};", scalar=True)
def and_(a, b):
    return _r(rt(a) & rt(b))


@form("or", llvm="A2_or", since=60, outs=(R,), ins=(R, R), asm="{o0} = or({i0},{i1})",
      c="{o0} = {i0} | {i1};", scalar=True)
def or_(a, b):
    return _r(rt(a) | rt(b))


@form("xor", llvm="A2_xor", since=60, outs=(R,), ins=(R, R), asm="{o0} = xor({i0},{i1})",
      c="{o0} = {i0} ^ {i1};", scalar=True)
def xor(a, b):
    return _r(rt(a) ^ rt(b))


@form("andi", llvm="A2_andir", since=60, outs=(R,), ins=(R, imm(10)), asm="{o0} = and({i0},#{i1})",
      c="{o0} = {i0} & ({i1});", scalar=True)
def andi(a, k):
    return _r(rt(a) & int(k))


@form("asl_i", llvm="S2_asl_i_r", since=60, outs=(R,), ins=(R, imm(5)), asm="{o0} = asl({i0},#{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} << {i1});", scalar=True)
def asl_i(a, k):
    return _r(rt(a) << int(k))


@form("asr_i", llvm="S2_asr_i_r", since=60, outs=(R,), ins=(R, imm(5)), asm="{o0} = asr({i0},#{i1})",
      c="{o0} = {i0} >> {i1};", scalar=True)
def asr_i(a, k):
    return _r(rt(a) >> int(k))


@form("lsr_i", llvm="S2_lsr_i_r", since=60, outs=(R,), ins=(R, imm(5)), asm="{o0} = lsr({i0},#{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} >> {i1});", scalar=True)
def lsr_i(a, k):
    return _r(u32(a) >> int(k))


@form("mpyi", llvm="M2_mpyi", since=60, outs=(R,), ins=(R, R), asm="{o0} = mpyi({i0},{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} * (uint32_t){i1});", scalar=True)
def mpyi(a, b):
    return _r(rt(a) * rt(b))


@form("mpyi_i", llvm="M2_mpysip", since=60, outs=(R,), ins=(R, imm(8)), asm="{o0} = mpyi({i0},#{i1})",
      c="{o0} = (int32_t)((uint32_t){i0} * (uint32_t)({i1}));", scalar=True)
def mpyi_i(a, k):
    return _r(rt(a) * int(k))


@form("vextract_w", llvm="V6_extractw", since=60, outs=(R,), ins=(V, R), asm="{o0} = vextract({i0},{i1})",
      c="{o0} = Q6_R_vextract_VR({i0}, {i1});")
def vextract_w(u, r):
    idx = (rt(r) & 127) >> 2
    return _r(np.take_along_axis(np.broadcast_to(u32(u), (max(len(idx), np.shape(u)[0]), 32)),
                                 np.broadcast_to(idx, (max(len(idx), np.shape(u)[0]), 1)), axis=1))


@form("vinsert_w", llvm="V6_vinsertwr", since=60, outs=(V,), ins=(V, R), tied=(0,), asm="{o0}.w = vinsert({i1})",
      c="{o0} = Q6_Vw_vinsert_VwR({i0}, {i1});")
def vinsert_w(acc, r):
    x, y = np.broadcast_arrays(np.asarray(acc, np.uint8), np.zeros((np.shape(r)[0], 1), np.uint8))
    out = np.array(x, dtype=np.uint8, copy=True)
    out[:, :4] = np.broadcast_to(np.asarray(r, np.uint8), (out.shape[0], 4))
    return out
