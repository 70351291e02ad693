"""NEON widening and reducing integer forms: [su]addl/subl/addw/subw(2), [su]mull/mlal/mlsl(2),
sxtl/uxtl(2), [su]adalp, [su]addlp, addp, addv and [su]addlv.

Semantics layer (`isa_models.neon`). A ``...2`` form reads the upper halves of its narrow
sources, the plain form the lower halves (a D view). Widened results are exact (they fit the
wide lane); accumulating forms wrap in the wide lane. addp adds adjacent pairs of the
concatenation (first source, then second); addv/addlv reduce a whole register to a scalar in
lane 0 (the rest zeroed). Form names carry the destination arrangement, the across forms
(addv, saddlv) their source arrangement. Classes ``neon.<mnemonic>`` (``.d`` for D forms).
Reference: Arm ARM (DDI 0487) C7.2 SADDL, SADDW, SMULL, SMLAL, SADALP, SADDLP, ADDP, ADDV, SADDLV.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, S1, S2, S4, S8, define

__all__ = ["widen", "addl", "subl", "addw", "subw", "mull", "mlal", "mlsl", "adalp", "addlp", "addp",
           "addv", "addlv"]


def widen(v, src, *, signed: bool, high: bool) -> np.ndarray:
    """The lanes of the half of `v` a (2-)form reads, as int64 values of element type `src`."""
    v = np.asarray(v, dtype=np.uint8)
    part = v[:, 8:16] if high else v[:, :8]
    return lanes(part, src.signed if signed else src.unsigned).astype(np.int64)


def _out(values, dst):
    """int64 values wrapped into the wide lanes of `dst`."""
    return to_bytes(np.asarray(values, dtype=np.int64).astype(dst.unsigned), dst.unsigned)


def addl(a, b, *, src, dst, signed, high):
    return _out(widen(a, src, signed=signed, high=high) + widen(b, src, signed=signed, high=high), dst)


def subl(a, b, *, src, dst, signed, high):
    return _out(widen(a, src, signed=signed, high=high) - widen(b, src, signed=signed, high=high), dst)


def addw(a, b, *, src, dst, signed, high):
    return _out(lanes(a, dst.unsigned).astype(np.int64) + widen(b, src, signed=signed, high=high), dst)


def subw(a, b, *, src, dst, signed, high):
    return _out(lanes(a, dst.unsigned).astype(np.int64) - widen(b, src, signed=signed, high=high), dst)


def sxtl(a, *, src, dst, signed, high):
    return _out(widen(a, src, signed=signed, high=high), dst)


def mull(a, b, *, src, dst, signed, high):
    """Full products; for 32-bit sources they reach 2^63 (unsigned), kept exact in uint64."""
    x, y = widen(a, src, signed=signed, high=high), widen(b, src, signed=signed, high=high)
    if src.esize == 32 and not signed:
        return to_bytes(x.astype(np.uint64) * y.astype(np.uint64), np.uint64)
    return _out(x * y, dst)


def mlal(acc, a, b, *, src, dst, signed, high):
    return to_bytes(lanes(acc, dst.unsigned) + lanes(mull(a, b, src=src, dst=dst, signed=signed, high=high),
                                                      dst.unsigned), dst.unsigned)


def mlsl(acc, a, b, *, src, dst, signed, high):
    return to_bytes(lanes(acc, dst.unsigned) - lanes(mull(a, b, src=src, dst=dst, signed=signed, high=high),
                                                      dst.unsigned), dst.unsigned)


def _pairs(v, src, signed):
    x = lanes(v, src.signed if signed else src.unsigned).astype(np.int64)
    return x[:, 0::2] + x[:, 1::2]


def adalp(acc, v, *, src, dst, signed):
    """acc + pairwise sums of `v`'s lanes, in the wide lane (wrapping)."""
    return _out(lanes(acc, dst.unsigned).astype(np.int64) + _pairs(v, src, signed), dst)


def addlp(v, *, src, dst, signed):
    return _out(_pairs(v, src, signed), dst)


def addp(a, b, *, arr):
    """Pairwise sums of concat(a, b), wrapping."""
    u = arr.unsigned
    x = np.concatenate([lanes(a, u), lanes(b, u)], axis=1)
    return to_bytes(x[:, 0::2] + x[:, 1::2], u)


def addv(v, *, arr):
    """Sum of all lanes, wrapped to the element size."""
    u = arr.unsigned
    return to_bytes(lanes(v, u).astype(np.uint64).sum(axis=1, keepdims=True).astype(u), u)


def addlv(v, *, arr, signed):
    """Sum of all lanes in an element twice as wide (exact)."""
    x = lanes(v, arr.signed if signed else arr.unsigned).astype(np.int64)
    wide = {8: np.uint16, 16: np.uint32, 32: np.uint64}[arr.esize]
    return to_bytes(x.sum(axis=1, keepdims=True).astype(wide), wide)


# widening two-source forms ------------------------------------------------------------------
_WIDE = (("8h", "8b", "16b"), ("4s", "4h", "8h"), ("2d", "2s", "4s"))

for _sign, _p in ((True, "s"), (False, "u")):
    for _mn, _fn, _intr in (("addl", addl, "vaddl"), ("subl", subl, "vsubl"), ("mull", mull, "vmull")):
        for _dst, _lo, _hi in _WIDE:
            _d, _s = ARR[_dst], ARR[_lo]
            _t = f"{_p}{_s.esize}"
            for _high in (False, True):
                _src_arr = _hi if _high else _lo
                _view = "WB_Q" if _high else "WB_D"
                _name = f"{_p}{_mn}{'2' if _high else ''}_{_dst}"
                define(_name, lambda a, b, s=_s, d=_d, sg=_sign, h=_high, f=_fn: f(a, b, src=s, dst=d, signed=sg,
                                                                                     high=h),
                       outs=(_d.spec,), ins=(ARR[_src_arr].spec,) * 2,
                       asm=f"{_p}{_mn}{'2' if _high else ''} {{o0:{_dst}}}, {{i0:{_src_arr}}}, {{i1:{_src_arr}}}",
                       c=(f"{{o0}} = WB_BQ_{_p}{_d.esize}({_intr}{'_high' if _high else ''}_{_t}("
                          f"{_view}_{_t}({{i0}}), {_view}_{_t}({{i1}})));"),
                       arrangements=(_dst, _src_arr, _src_arr))
    for _mn, _fn, _intr in (("addw", addw, "vaddw"), ("subw", subw, "vsubw")):
        for _dst, _lo, _hi in _WIDE:
            _d, _s = ARR[_dst], ARR[_lo]
            _t = f"{_p}{_s.esize}"
            for _high in (False, True):
                _src_arr = _hi if _high else _lo
                _view = "WB_Q" if _high else "WB_D"
                _name = f"{_p}{_mn}{'2' if _high else ''}_{_dst}"
                define(_name, lambda a, b, s=_s, d=_d, sg=_sign, h=_high, f=_fn: f(a, b, src=s, dst=d, signed=sg,
                                                                                     high=h),
                       outs=(_d.spec,), ins=(_d.spec, ARR[_src_arr].spec),
                       asm=f"{_p}{_mn}{'2' if _high else ''} {{o0:{_dst}}}, {{i0:{_dst}}}, {{i1:{_src_arr}}}",
                       c=(f"{{o0}} = WB_BQ_{_p}{_d.esize}({_intr}{'_high' if _high else ''}_{_t}("
                          f"WB_Q_{_p}{_d.esize}({{i0}}), {_view}_{_t}({{i1}})));"),
                       arrangements=(_dst, _dst, _src_arr))
    for _mn, _fn, _intr in (("mlal", mlal, "vmlal"), ("mlsl", mlsl, "vmlsl")):
        for _dst, _lo, _hi in _WIDE:
            _d, _s = ARR[_dst], ARR[_lo]
            _t = f"{_p}{_s.esize}"
            for _high in (False, True):
                _src_arr = _hi if _high else _lo
                _view = "WB_Q" if _high else "WB_D"
                _name = f"{_p}{_mn}{'2' if _high else ''}_{_dst}"
                define(_name, lambda acc, a, b, s=_s, d=_d, sg=_sign, h=_high, f=_fn: f(acc, a, b, src=s, dst=d,
                                                                                         signed=sg, high=h),
                       outs=(_d.spec,), ins=(_d.spec, ARR[_src_arr].spec, ARR[_src_arr].spec),
                       asm=f"{_p}{_mn}{'2' if _high else ''} {{o0:{_dst}}}, {{i1:{_src_arr}}}, {{i2:{_src_arr}}}",
                       c=(f"{{o0}} = WB_BQ_{_p}{_d.esize}({_intr}{'_high' if _high else ''}_{_t}("
                          f"WB_Q_{_p}{_d.esize}({{i0}}), {_view}_{_t}({{i1}}), {_view}_{_t}({{i2}})));"),
                       arrangements=(_dst, _dst, _src_arr, _src_arr), tied=(0,))
    # sxtl / uxtl (aliases of sshll/ushll #0)
    for _dst, _lo, _hi in _WIDE:
        _d, _s = ARR[_dst], ARR[_lo]
        _t = f"{_p}{_s.esize}"
        for _high in (False, True):
            _src_arr = _hi if _high else _lo
            _view = "WB_Q" if _high else "WB_D"
            _mn = f"{_p}xtl{'2' if _high else ''}"
            define(f"{_mn}_{_dst}", lambda a, s=_s, d=_d, sg=_sign, h=_high: sxtl(a, src=s, dst=d, signed=sg, high=h),
                   outs=(_d.spec,), ins=(ARR[_src_arr].spec,), asm=f"{_mn} {{o0:{_dst}}}, {{i0:{_src_arr}}}",
                   c=f"{{o0}} = WB_BQ_{_p}{_d.esize}(vmovl{'_high' if _high else ''}_{_t}({_view}_{_t}({{i0}})));",
                   arrangements=(_dst, _src_arr))
    # pairwise long: sadalp / saddlp (Q: 16b->8h, 8h->4s, 4s->2d; D: 8b->4h, 4h->2s)
    for _dst, _src in (("8h", "16b"), ("4s", "8h"), ("2d", "4s"), ("4h", "8b"), ("2s", "4h")):
        _d, _s = ARR[_dst], ARR[_src]
        _t, _tw = f"{_p}{_s.esize}", f"{_p}{_d.esize}"
        _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _d.is_q else ("WB_D", "WB_BD", "")
        define(f"{_p}adalp_{_dst}", lambda acc, v, s=_s, d=_d, sg=_sign: adalp(acc, v, src=s, dst=d, signed=sg),
               outs=(_d.spec,), ins=(_d.spec, _s.spec), asm=f"{_p}adalp {{o0:{_dst}}}, {{i1:{_src}}}",
               c=f"{{o0}} = {_back}_{_tw}(vpadal{_q}_{_t}({_view}_{_tw}({{i0}}), {_view}_{_t}({{i1}})));",
               arrangements=(_dst, _dst, _src), tied=(0,))
        define(f"{_p}addlp_{_dst}", lambda v, s=_s, d=_d, sg=_sign: addlp(v, src=s, dst=d, signed=sg),
               outs=(_d.spec,), ins=(_s.spec,), asm=f"{_p}addlp {{o0:{_dst}}}, {{i0:{_src}}}",
               c=f"{{o0}} = {_back}_{_tw}(vpaddl{_q}_{_t}({_view}_{_t}({{i0}})));",
               arrangements=(_dst, _src))
    # across: saddlv / uaddlv (named by the source arrangement)
    for _src, _spec, _e in (("16b", S2, "h"), ("8h", S4, "s"), ("4s", S8, "d"), ("8b", S2, "h"), ("4h", S4, "s")):
        _s = ARR[_src]
        _t = f"{_p}{_s.esize}"
        _tw = f"{_p}{2 * _s.esize}"
        _view, _q = ("WB_Q", "q") if _s.is_q else ("WB_D", "")
        define(f"{_p}addlv_{_src}", lambda v, s=_s, sg=_sign: addlv(v, arr=s, signed=sg), outs=(_spec,),
               ins=(_s.spec,), asm=f"{_p}addlv {{o0:{_e}}}, {{i0:{_src}}}",
               c=f"{{o0}} = WB_BQ_{_tw}(vsetq_lane_{_tw}(vaddlv{_q}_{_t}({_view}_{_t}({{i0}})), vdupq_n_{_tw}(0), 0));",
               arrangements=(_e, _src))

# addp / addv --------------------------------------------------------------------------------------
for _arr in ("16b", "8h", "4s", "2d", "8b", "4h", "2s"):
    _a = ARR[_arr]
    _t = f"u{_a.esize}"
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
    define(f"addp_{_arr}", lambda a, b, x=_a: addp(a, b, arr=x), outs=(_a.spec,), ins=(_a.spec,) * 2,
           asm=f"addp {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}",
           c=f"{{o0}} = {_back}_{_t}(vpadd{_q}_{_t}({_view}_{_t}({{i0}}), {_view}_{_t}({{i1}})));",
           arrangements=(_arr,) * 3)
for _src, _spec, _e in (("16b", S1, "b"), ("8h", S2, "h"), ("4s", S4, "s"), ("8b", S1, "b"), ("4h", S2, "h")):
    _s = ARR[_src]
    _t = f"u{_s.esize}"
    _view, _q = ("WB_Q", "q") if _s.is_q else ("WB_D", "")
    define(f"addv_{_src}", lambda v, s=_s: addv(v, arr=s), outs=(_spec,), ins=(_s.spec,),
           asm=f"addv {{o0:{_e}}}, {{i0:{_src}}}",
           c=f"{{o0}} = WB_BQ_{_t}(vsetq_lane_{_t}(vaddv{_q}_{_t}({_view}_{_t}({{i0}})), vdupq_n_{_t}(0), 0));",
           arrangements=(_e, _src))
