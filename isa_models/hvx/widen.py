"""HVX widening add/sub forms: byte to halfword and halfword to word results in register pairs,
and their accumulating variants.

Semantics layer (`isa_models.hvx`). ``ext.idef`` ``WIDENING``: ``vaddubh``/``vsububh``
(``VddV.v[0].h[i] = ub[2i] op ub'[2i]``, ``v[1]`` the odd bytes), ``vaddhw``/``vsubhw``,
``vadduhw``/``vsubuhw`` (even/odd halfwords into words), ``vaddhw_acc``, ``vadduhw_acc``,
``vaddubh_acc`` (``+=``, wrapping). Even source lanes land in the low vector o0, odd lanes in
the high vector o1. Accumulating forms take the accumulator pair as inputs 0/1, tied to o0/o1.
"""

from __future__ import annotations

from isa_models.hvx.forms import V, form, out16, out32, s16, s32, u8, u16

__all__ = ["vadd_ubh", "vsub_ubh", "vadd_hw", "vsub_hw", "vadd_uhw", "vsub_uhw", "vadd_ubh_acc", "vadd_hw_acc",
           "vadd_uhw_acc"]

_PAIR_OUT = (("o", 0, 1),)
_PAIR_ACC = (("o", 0, 1), ("i", 0, 1))


def _even_odd(view, a):
    x = view(a)
    return x[:, 0::2], x[:, 1::2]


@form("vadd_ubh", llvm="V6_vaddubh", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vadd({i0}.ub,{i1}.ub)", c="WB_SPLIT(Q6_Wh_vadd_VubVub({i0}, {i1}), {o0}, {o1});")
def vadd_ubh(a, b):
    (ae, ao), (be, bo) = _even_odd(u8, a), _even_odd(u8, b)
    return out16(ae + be), out16(ao + bo)


@form("vsub_ubh", llvm="V6_vsububh", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.h = vsub({i0}.ub,{i1}.ub)", c="WB_SPLIT(Q6_Wh_vsub_VubVub({i0}, {i1}), {o0}, {o1});")
def vsub_ubh(a, b):
    (ae, ao), (be, bo) = _even_odd(u8, a), _even_odd(u8, b)
    return out16(ae - be), out16(ao - bo)


@form("vadd_hw", llvm="V6_vaddhw", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.w = vadd({i0}.h,{i1}.h)", c="WB_SPLIT(Q6_Ww_vadd_VhVh({i0}, {i1}), {o0}, {o1});")
def vadd_hw(a, b):
    (ae, ao), (be, bo) = _even_odd(s16, a), _even_odd(s16, b)
    return out32(ae + be), out32(ao + bo)


@form("vsub_hw", llvm="V6_vsubhw", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.w = vsub({i0}.h,{i1}.h)", c="WB_SPLIT(Q6_Ww_vsub_VhVh({i0}, {i1}), {o0}, {o1});")
def vsub_hw(a, b):
    (ae, ao), (be, bo) = _even_odd(s16, a), _even_odd(s16, b)
    return out32(ae - be), out32(ao - bo)


@form("vadd_uhw", llvm="V6_vadduhw", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.w = vadd({i0}.uh,{i1}.uh)", c="WB_SPLIT(Q6_Ww_vadd_VuhVuh({i0}, {i1}), {o0}, {o1});")
def vadd_uhw(a, b):
    (ae, ao), (be, bo) = _even_odd(u16, a), _even_odd(u16, b)
    return out32(ae + be), out32(ao + bo)


@form("vsub_uhw", llvm="V6_vsubuhw", since=60, outs=(V, V), ins=(V, V), pairs=_PAIR_OUT,
      asm="{o1}:{o0n}.w = vsub({i0}.uh,{i1}.uh)", c="WB_SPLIT(Q6_Ww_vsub_VuhVuh({i0}, {i1}), {o0}, {o1});")
def vsub_uhw(a, b):
    (ae, ao), (be, bo) = _even_odd(u16, a), _even_odd(u16, b)
    return out32(ae - be), out32(ao - bo)


@form("vadd_ubh_acc", llvm="V6_vaddubh_acc", since=62, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.h += vadd({i2}.ub,{i3}.ub)",
      c="WB_SPLIT(Q6_Wh_vaddacc_WhVubVub(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vadd_ubh_acc(acc_lo, acc_hi, a, b):
    (ae, ao), (be, bo) = _even_odd(u8, a), _even_odd(u8, b)
    return out16(s16(acc_lo) + ae + be), out16(s16(acc_hi) + ao + bo)


@form("vadd_hw_acc", llvm="V6_vaddhw_acc", since=62, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.w += vadd({i2}.h,{i3}.h)",
      c="WB_SPLIT(Q6_Ww_vaddacc_WwVhVh(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vadd_hw_acc(acc_lo, acc_hi, a, b):
    (ae, ao), (be, bo) = _even_odd(s16, a), _even_odd(s16, b)
    return out32(s32(acc_lo) + ae + be), out32(s32(acc_hi) + ao + bo)


@form("vadd_uhw_acc", llvm="V6_vadduhw_acc", since=62, outs=(V, V), ins=(V, V, V, V), tied=(0, 1),
      pairs=_PAIR_ACC, asm="{o1}:{o0n}.w += vadd({i2}.uh,{i3}.uh)",
      c="WB_SPLIT(Q6_Ww_vaddacc_WwVuhVuh(WB_W({i1}, {i0}), {i2}, {i3}), {o0}, {o1});")
def vadd_uhw_acc(acc_lo, acc_hi, a, b):
    (ae, ao), (be, bo) = _even_odd(u16, a), _even_odd(u16, b)
    return out32(s32(acc_lo) + ae + be), out32(s32(acc_hi) + ao + bo)
