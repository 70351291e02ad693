"""NEON saturating arithmetic and narrowing: sqadd/uqadd/sqsub/uqsub, sqabs/sqneg, and the
narrows xtn, sqxtn, sqxtun, uqxtn with their ``2`` (upper-half) forms.

Semantics layer (`isa_models.neon`). Saturating ops clamp the exact result to the element
range (64-bit lanes are computed with Python integers, exactly). A narrow takes each wide
element to half its width: xtn keeps the low bits, sqxtn clamps signed to signed, sqxtun
signed to unsigned, uqxtn unsigned to unsigned. The plain narrow writes a D result (upper half
zeroed); the ``2`` form is tied to its destination and keeps its low half, writing the upper.
Narrow forms are named by the destination arrangement (``sqxtn_8b`` from 8h, ``sqxtn2_16b``).
Classes ``neon.<mnemonic>`` (``.d`` for D forms of the saturating ops).
Reference: Arm ARM (DDI 0487) C7.2 SQADD, UQADD, SQSUB, UQSUB, SQABS, SQNEG, XTN, SQXTN, SQXTUN, UQXTN.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, D_ARRS, Q_ARRS, define, elementwise

__all__ = ["sat_binary", "sqadd", "uqadd", "sqsub", "uqsub", "sqabs", "sqneg", "narrow", "narrow2"]


def _exact(v, t) -> np.ndarray:
    """Lanes as exact integers: int64 below 64 bits, Python ints (object) for 64-bit lanes."""
    x = lanes(v, t)
    return x.astype(object) if np.dtype(t).itemsize == 8 else x.astype(np.int64)


def _clamp(values, t) -> np.ndarray:
    info = np.iinfo(t)
    clipped = np.minimum(np.maximum(values, info.min), info.max)
    return to_bytes(np.asarray(clipped).astype(t), t)


def sat_binary(a, b, *, arr, signed: bool, op):
    t = arr.signed if signed else arr.unsigned
    return _clamp(op(_exact(a, t), _exact(b, t)), t)


def sqadd(a, b, *, arr):
    return sat_binary(a, b, arr=arr, signed=True, op=lambda x, y: x + y)


def uqadd(a, b, *, arr):
    return sat_binary(a, b, arr=arr, signed=False, op=lambda x, y: x + y)


def sqsub(a, b, *, arr):
    return sat_binary(a, b, arr=arr, signed=True, op=lambda x, y: x - y)


def uqsub(a, b, *, arr):
    return sat_binary(a, b, arr=arr, signed=False, op=lambda x, y: x - y)


def sqabs(a, *, arr):
    x = _exact(a, arr.signed)
    return _clamp(np.where(x < 0, -x, x), arr.signed)


def sqneg(a, *, arr):
    return _clamp(-_exact(a, arr.signed), arr.signed)


def narrow(v, *, wide, kind: str):
    """Each element of `wide` to half its width: kind "xtn" (low bits), "sqxtn", "sqxtun", "uqxtn"."""
    half = {16: (np.int8, np.uint8), 32: (np.int16, np.uint16), 64: (np.int32, np.uint32)}[wide.esize]
    if kind == "xtn":
        return to_bytes(lanes(v, wide.unsigned).astype(half[1]), half[1])
    source = wide.unsigned if kind == "uqxtn" else wide.signed
    dest = half[0] if kind == "sqxtn" else half[1]
    return _clamp(_exact(v, source), dest)


def narrow2(old, v, *, wide, kind: str):
    """The ``2`` form: the destination's low 8 bytes, then the narrowed elements."""
    return np.concatenate([np.asarray(old, np.uint8)[:, :8], narrow(v, wide=wide, kind=kind)], axis=1)


_ALL = (*Q_ARRS, *D_ARRS)
elementwise("sqadd", sqadd, _ALL, intrinsic="vqadd", signed=True, n_in=2)
elementwise("uqadd", uqadd, _ALL, intrinsic="vqadd", signed=False, n_in=2)
elementwise("sqsub", sqsub, _ALL, intrinsic="vqsub", signed=True, n_in=2)
elementwise("uqsub", uqsub, _ALL, intrinsic="vqsub", signed=False, n_in=2)
elementwise("sqabs", sqabs, _ALL, intrinsic="vqabs", signed=True, n_in=1)
elementwise("sqneg", sqneg, _ALL, intrinsic="vqneg", signed=True, n_in=1)

# (mnemonic, intrinsic, source type prefix, destination type prefix)
_NARROWS = (("xtn", "vmovn", "u", "u"), ("sqxtn", "vqmovn", "s", "s"), ("sqxtun", "vqmovun", "s", "u"),
            ("uqxtn", "vqmovn", "u", "u"))

for _mn, _intr, _ps, _pd in _NARROWS:
    for _wide, _lo, _hi in (("8h", "8b", "16b"), ("4s", "4h", "8h"), ("2d", "2s", "4s")):
        _w, _l, _h = ARR[_wide], ARR[_lo], ARR[_hi]
        _ts, _td = f"{_ps}{_w.esize}", f"{_pd}{_l.esize}"
        define(f"{_mn}_{_lo}", lambda v, w=_w, k=_mn: narrow(v, wide=w, kind=k), outs=(_l.spec,), ins=(_w.spec,),
               asm=f"{_mn} {{o0:{_lo}}}, {{i0:{_wide}}}",
               c=f"{{o0}} = WB_BD_{_td}({_intr}_{_ts}(WB_Q_{_ts}({{i0}})));",
               arrangements=(_lo, _wide), sched=f"neon.{_mn}")
        define(f"{_mn}2_{_hi}", lambda old, v, w=_w, k=_mn: narrow2(old, v, wide=w, kind=k), outs=(_h.spec,),
               ins=(_h.spec, _w.spec), asm=f"{_mn}2 {{o0:{_hi}}}, {{i1:{_wide}}}",
               c=f"{{o0}} = WB_BQ_{_td}({_intr}_high_{_ts}(WB_D_{_td}({{i0}}), WB_Q_{_ts}({{i1}})));",
               arrangements=(_hi, _hi, _wide), tied=(0,), sched=f"neon.{_mn}2")
