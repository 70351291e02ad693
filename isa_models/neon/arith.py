"""NEON same-width integer arithmetic: add, sub, neg, abs, mul, mla, mls, smax/smin/umax/umin.

Semantics layer (`isa_models.neon`): one small pure function per mnemonic, registered for each
arrangement (16b 8h 4s 2d and the D forms 8b 4h 2s; mul/mla/mls/max/min have no 2d form) by
`forms.elementwise`. Wrapping arithmetic is computed on unsigned lanes, where numpy's modular
arithmetic is exactly the architecture's; abs of the most negative value wraps to itself.
Reference: Arm ARM (DDI 0487) C7.2 ADD (vector), SUB, NEG, ABS, MUL, MLA, MLS, SMAX, UMIN...
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import D_ARRS, Q_ARRS, elementwise

__all__ = ["add", "sub", "neg", "abs_", "mul", "mla", "mls", "smax", "smin", "umax", "umin"]

_NO_2D = ("16b", "8h", "4s", *D_ARRS)


def add(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(lanes(a, u) + lanes(b, u), u)


def sub(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(lanes(a, u) - lanes(b, u), u)


def neg(a, *, arr):
    u = arr.unsigned
    return to_bytes(np.zeros_like(lanes(a, u)) - lanes(a, u), u)


def abs_(a, *, arr):
    """|a| per lane; the most negative value stays itself (two's-complement wrap)."""
    s = arr.signed
    x = lanes(a, s)
    return to_bytes(np.where(x < 0, (np.zeros_like(x) - x), x).astype(s), s)


def mul(a, b, *, arr):
    """Low half of each lane product (signedness does not change the low bits)."""
    u = arr.unsigned
    return to_bytes(lanes(a, u) * lanes(b, u), u)


def mla(acc, a, b, *, arr):
    u = arr.unsigned
    return to_bytes(lanes(acc, u) + lanes(a, u) * lanes(b, u), u)


def mls(acc, a, b, *, arr):
    u = arr.unsigned
    return to_bytes(lanes(acc, u) - lanes(a, u) * lanes(b, u), u)


def smax(a, b, *, arr):
    return to_bytes(np.maximum(lanes(a, arr.signed), lanes(b, arr.signed)), arr.signed)


def smin(a, b, *, arr):
    return to_bytes(np.minimum(lanes(a, arr.signed), lanes(b, arr.signed)), arr.signed)


def umax(a, b, *, arr):
    return to_bytes(np.maximum(lanes(a, arr.unsigned), lanes(b, arr.unsigned)), arr.unsigned)


def umin(a, b, *, arr):
    return to_bytes(np.minimum(lanes(a, arr.unsigned), lanes(b, arr.unsigned)), arr.unsigned)


_ALL = (*Q_ARRS, *D_ARRS)
elementwise("add", add, _ALL, intrinsic="vadd", signed=False, n_in=2)
elementwise("sub", sub, _ALL, intrinsic="vsub", signed=False, n_in=2)
elementwise("neg", neg, _ALL, intrinsic="vneg", signed=True, n_in=1)
elementwise("abs", abs_, _ALL, intrinsic="vabs", signed=True, n_in=1)
elementwise("mul", mul, _NO_2D, intrinsic="vmul", signed=False, n_in=2)
elementwise("mla", mla, _NO_2D, intrinsic="vmla", signed=False, n_in=3, tied=True)
elementwise("mls", mls, _NO_2D, intrinsic="vmls", signed=False, n_in=3, tied=True)
elementwise("smax", smax, _NO_2D, intrinsic="vmax", signed=True, n_in=2)
elementwise("smin", smin, _NO_2D, intrinsic="vmin", signed=True, n_in=2)
elementwise("umax", umax, _NO_2D, intrinsic="vmax", signed=False, n_in=2)
elementwise("umin", umin, _NO_2D, intrinsic="vmin", signed=False, n_in=2)
