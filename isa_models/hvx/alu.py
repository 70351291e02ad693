"""HVX element-wise ALU forms: vsplat, logic, wrapping and saturating add/sub on b/h/w (single
vectors and pairs), max/min, and the vector copy.

Semantics layer (`isa_models.hvx`). ``ext.idef``: ``lvsplatb/h/w`` (``VdV.ub[i] = RtV`` keeps the
low bits), ``vand/vor/vxor/vnot``, ``MMVEC_ADDWRAP`` (``vadd##T``, ``vsub##T``, ``_dv``),
``MMVEC_ADDU_SAT``/``MMVEC_ADDS_SAT`` (``fVUADDSAT``/``fVSADDSAT``: the exact sum clamped to the
lane type), ``MMVEC_SORT`` (vmax/vmin), ``vassign``. One factory per shape of form below stamps
one small function per form; the lane math is in the factory body.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import to_bytes
from isa_models.hvx.forms import HVX, R, V, form, out8, s8, s16, s32, u8, u16, u32, rt

__all__ = ["vsplat_b", "vsplat_h", "vsplat_w", "vand", "vor", "vxor", "vnot", "vassign"]

_VIEW = {"b": (s8, 8), "ub": (u8, 8), "h": (s16, 16), "uh": (u16, 16), "w": (s32, 32), "uw": (u32, 32)}
_BOUNDS = {"b": (-128, 127), "ub": (0, 255), "h": (-(1 << 15), (1 << 15) - 1), "uh": (0, (1 << 16) - 1),
           "w": (-(1 << 31), (1 << 31) - 1), "uw": (0, (1 << 32) - 1)}
_DTYPE = {"b": np.int8, "ub": np.uint8, "h": np.int16, "uh": np.uint16, "w": np.int32, "uw": np.uint32}
_INTR = {"b": "Vb", "ub": "Vub", "h": "Vh", "uh": "Vuh", "w": "Vw", "uw": "Vuw"}


def _bytes(values, t):
    return to_bytes(np.asarray(values, np.int64).astype(_DTYPE[t]), _DTYPE[t])


# vsplat -----------------------------------------------------------------------------------------
@form("vsplat_b", llvm="V6_lvsplatb", since=62, outs=(V,), ins=(R,), asm="{o0}.b = vsplat({i0})",
      c="{o0} = Q6_Vb_vsplat_R({i0});")
def vsplat_b(r):
    """VdV.ub[i] = RtV: the low byte of Rt in every byte."""
    return out8(np.repeat(rt(r), 128, axis=1))


@form("vsplat_h", llvm="V6_lvsplath", since=62, outs=(V,), ins=(R,), asm="{o0}.h = vsplat({i0})",
      c="{o0} = Q6_Vh_vsplat_R({i0});")
def vsplat_h(r):
    return _bytes(np.repeat(rt(r), 64, axis=1).astype(np.int16), "h")


@form("vsplat_w", llvm="V6_lvsplatw", since=60, outs=(V,), ins=(R,), asm="{o0} = vsplat({i0})",
      c="{o0} = Q6_V_vsplat_R({i0});")
def vsplat_w(r):
    return np.tile(np.asarray(r, np.uint8), (1, 32))


# logic ------------------------------------------------------------------------------------------
@form("vand", llvm="V6_vand", since=60, outs=(V,), ins=(V, V), asm="{o0} = vand({i0},{i1})",
      c="{o0} = Q6_V_vand_VV({i0}, {i1});")
def vand(a, b):
    return np.bitwise_and(a, b).astype(np.uint8)


@form("vor", llvm="V6_vor", since=60, outs=(V,), ins=(V, V), asm="{o0} = vor({i0},{i1})",
      c="{o0} = Q6_V_vor_VV({i0}, {i1});")
def vor(a, b):
    return np.bitwise_or(a, b).astype(np.uint8)


@form("vxor", llvm="V6_vxor", since=60, outs=(V,), ins=(V, V), asm="{o0} = vxor({i0},{i1})",
      c="{o0} = Q6_V_vxor_VV({i0}, {i1});")
def vxor(a, b):
    return np.bitwise_xor(a, b).astype(np.uint8)


@form("vnot", llvm="V6_vnot", since=60, outs=(V,), ins=(V,), asm="{o0} = vnot({i0})",
      c="{o0} = Q6_V_vnot_V({i0});")
def vnot(a):
    return np.invert(np.asarray(a, np.uint8))


@form("vassign", llvm="V6_vassign", since=60, outs=(V,), ins=(V,), asm="{o0} = {i0}",
      c="{o0} = Q6_V_equals_V({i0});")
def vassign(a):
    return np.array(a, dtype=np.uint8, copy=True)


# add / sub, wrapping and saturating, single and pair ------------------------------------------
def _arith(t: str, op: str, sat: bool):
    view, _ = _VIEW[t]
    lo, hi = _BOUNDS[t]

    def f(a, b):
        x, y = view(a), view(b)
        r = x + y if op == "add" else x - y
        return _bytes(np.clip(r, lo, hi) if sat else r, t)
    return f


def _define_arith(t: str, op: str, sat: bool, since: int) -> None:
    suffix = "_sat" if sat else ""
    name = f"v{op}_{t}{suffix}"
    llvm = f"V6_v{op}{t}{'sat' if sat else ''}"
    f = _arith(t, op, sat)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"ext.idef V6_v{op}{t}{'sat' if sat else ''}: per {t} lane, {'clamped' if sat else 'wrapping'}."
    sat_txt = ":sat" if sat else ""
    form(name, llvm=llvm, since=since, outs=(V,), ins=(V, V),
         asm=f"{{o0}}.{t} = v{op}({{i0}}.{t},{{i1}}.{t}){sat_txt}",
         c=f"{{o0}} = Q6_{_INTR[t]}_v{op}_{_INTR[t]}{_INTR[t]}{suffix}({{i0}}, {{i1}});")(f)
    globals()[name] = f
    __all__.append(name)

    def g(a_lo, a_hi, b_lo, b_hi):
        return f(a_lo, b_lo), f(a_hi, b_hi)
    dv = f"{name}_dv" if not sat else f"v{op}_{t}_sat_dv"
    g.__name__ = g.__qualname__ = dv
    g.__doc__ = f"ext.idef {llvm}_dv: {name} on both halves of the pairs."
    w = "W" + _INTR[t][1:]
    form(dv, llvm=f"{llvm}_dv", since=since, outs=(V, V), ins=(V, V, V, V),
         asm=f"{{o1}}:{{o0n}}.{t} = v{op}({{i1}}:{{i0n}}.{t},{{i3}}:{{i2n}}.{t}){sat_txt}",
         c=f"WB_SPLIT(Q6_{w}_v{op}_{w}{w}{suffix}(WB_W({{i1}}, {{i0}}), WB_W({{i3}}, {{i2}})), {{o0}}, {{o1}});",
         pairs=(("o", 0, 1), ("i", 0, 1), ("i", 2, 3)))(g)
    globals()[dv] = g
    __all__.append(dv)


for _op in ("add", "sub"):
    for _t in ("b", "h", "w"):
        _define_arith(_t, _op, False, 60)
    for _t, _since in (("b", 62), ("ub", 60), ("h", 60), ("uh", 60), ("w", 60), ("uw", 62)):
        _define_arith(_t, _op, True, _since)


# max / min -------------------------------------------------------------------------------------
def _define_maxmin(t: str, op: str) -> None:
    view, _ = _VIEW[t]
    pick = np.maximum if op == "max" else np.minimum

    def f(a, b):
        return _bytes(pick(view(a), view(b)), t)
    name = f"v{op}_{t}"
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"ext.idef MMVEC_SORT V6_v{op}{t}: per-lane {op} of {t} lanes."
    form(name, llvm=f"V6_v{op}{t}", since=62 if t == "b" else 60, outs=(V,), ins=(V, V),
         asm=f"{{o0}}.{t} = v{op}({{i0}}.{t},{{i1}}.{t})",
         c=f"{{o0}} = Q6_{_INTR[t]}_v{op}_{_INTR[t]}{_INTR[t]}({{i0}}, {{i1}});")(f)
    globals()[name] = f
    __all__.append(name)


for _op in ("max", "min"):
    for _t in ("b", "ub", "h", "uh", "w"):
        _define_maxmin(_t, _op)

assert all(n in HVX for n in __all__)
