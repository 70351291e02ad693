"""NEON integer compares: cmeq, cmgt, cmge (signed), cmhi, cmhs (unsigned), cmtst, and the
compares against zero (cmeq, cmge, cmgt, cmle, cmlt ``#0``).

Semantics layer (`isa_models.neon`). Each lane of the result is all ones when the relation
holds, else zero; cmtst tests ``(a & b) != 0``. Every form for 16b 8h 4s 2d and 8b 4h 2s; the
zero forms are named ``<mnemonic>_zero_<arr>``. Classes ``neon.<mnemonic>`` (``.d`` for D forms;
a zero form shares its register form's class; cmle/cmlt exist only against zero).
Reference: Arm ARM (DDI 0487) C7.2 CMEQ (register, zero), CMGT, CMGE, CMHI, CMHS, CMTST, CMLE, CMLT.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, D_ARRS, Q_ARRS, define

__all__ = ["compare", "compare_zero", "cmtst"]

_RELATIONS = {"eq": np.equal, "gt": np.greater, "ge": np.greater_equal, "le": np.less_equal, "lt": np.less}


def _mask(cond, arr):
    u = arr.unsigned
    return to_bytes(np.where(cond, ~u(0), u(0)).astype(u), u)


def compare(a, b, *, arr, relation: str, signed: bool):
    t = arr.signed if signed else arr.unsigned
    return _mask(_RELATIONS[relation](lanes(a, t), lanes(b, t)), arr)


def compare_zero(a, *, arr, relation: str):
    x = lanes(a, arr.signed)
    return _mask(_RELATIONS[relation](x, np.zeros_like(x)), arr)


def cmtst(a, b, *, arr):
    u = arr.unsigned
    return _mask((lanes(a, u) & lanes(b, u)) != 0, arr)


for _arr in (*Q_ARRS, *D_ARRS):
    _a = ARR[_arr]
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
    _u = f"u{_a.esize}"
    for _mn, _rel, _signed, _intr in (("cmeq", "eq", False, "vceq"), ("cmgt", "gt", True, "vcgt"),
                                      ("cmge", "ge", True, "vcge"), ("cmhi", "gt", False, "vcgt"),
                                      ("cmhs", "ge", False, "vcge")):
        _t = f"{'s' if _signed else 'u'}{_a.esize}"
        define(f"{_mn}_{_arr}", lambda a, b, x=_a, r=_rel, s=_signed: compare(a, b, arr=x, relation=r, signed=s),
               outs=(_a.spec,), ins=(_a.spec,) * 2, asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}",
               c=f"{{o0}} = {_back}_{_u}({_intr}{_q}_{_t}({_view}_{_t}({{i0}}), {_view}_{_t}({{i1}})));",
               arrangements=(_arr,) * 3)
    define(f"cmtst_{_arr}", lambda a, b, x=_a: cmtst(a, b, arr=x), outs=(_a.spec,), ins=(_a.spec,) * 2,
           asm=f"cmtst {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}",
           c=f"{{o0}} = {_back}_{_u}(vtst{_q}_{_u}({_view}_{_u}({{i0}}), {_view}_{_u}({{i1}})));",
           arrangements=(_arr,) * 3)
    _s = f"s{_a.esize}"
    for _rel in ("eq", "ge", "gt", "le", "lt"):
        _mn = f"cm{_rel}"
        define(f"{_mn}_zero_{_arr}", lambda a, x=_a, r=_rel: compare_zero(a, arr=x, relation=r), outs=(_a.spec,),
               ins=(_a.spec,), asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}, #0",
               c=f"{{o0}} = {_back}_{_u}(v{'c' + _rel}z{_q}_{_s}({_view}_{_s}({{i0}})));",
               arrangements=(_arr,) * 2, mnemonic=_mn,
               sched=f"neon.{_mn}" + ("" if _a.is_q else ".d"))
