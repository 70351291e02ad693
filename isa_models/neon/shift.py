"""NEON shifts: by immediate (shl, sshr, ushr, ssra, usra, sri, sli) and by vector (sshl, ushl).

Semantics layer (`isa_models.neon`). Immediate ranges are the architecture's: left shifts and
sli take 0..esize-1, right shifts, accumulating right shifts and sri take 1..esize (a right
shift by esize gives the sign fill, or 0 unsigned; sri by esize leaves the destination
unchanged); ``attrs["imm_range"]`` carries them. sshl/ushl shift each element by the signed
low byte of the matching element of the second source: positive left, negative right
(arithmetic for sshl), and a count at or past the element size shifts everything out (0, or the
sign fill for a signed right shift). All forms for 16b 8h 4s 2d and the D forms 8b 4h 2s.
Classes ``neon.<mnemonic>`` (``.d`` for D forms).
Reference: Arm ARM (DDI 0487) C7.2 SHL, SSHR, USHR, SSRA, USRA, SRI, SLI, SSHL, USHL.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, D_ARRS, Q_ARRS, check_imm, define, imm_spec

__all__ = ["shl", "sshr", "ushr", "ssra", "usra", "sri", "sli", "sshl", "ushl"]


def _lsl(x, n: int, u):
    return np.left_shift(x, u(n)).astype(u)


def shl(a, n, *, arr, name):
    k = check_imm(name, n, 0, arr.esize - 1)
    return to_bytes(_lsl(lanes(a, arr.unsigned), k, arr.unsigned), arr.unsigned)


def _asr(a, k: int, arr):
    """Arithmetic shift right by 1..esize (esize: the sign fill)."""
    s = arr.signed
    return np.right_shift(lanes(a, s), s(min(k, arr.esize - 1))).astype(s).view(arr.unsigned)


def _lsr(a, k: int, arr):
    """Logical shift right by 1..esize (esize: 0)."""
    u = arr.unsigned
    x = lanes(a, u)
    return np.zeros_like(x) if k >= arr.esize else np.right_shift(x, u(k)).astype(u)


def sshr(a, n, *, arr, name):
    return to_bytes(_asr(a, check_imm(name, n, 1, arr.esize), arr), arr.unsigned)


def ushr(a, n, *, arr, name):
    return to_bytes(_lsr(a, check_imm(name, n, 1, arr.esize), arr), arr.unsigned)


def ssra(acc, a, n, *, arr, name):
    u = arr.unsigned
    return to_bytes(lanes(acc, u) + _asr(a, check_imm(name, n, 1, arr.esize), arr), u)


def usra(acc, a, n, *, arr, name):
    u = arr.unsigned
    return to_bytes(lanes(acc, u) + _lsr(a, check_imm(name, n, 1, arr.esize), arr), u)


def sri(acc, a, n, *, arr, name):
    """Shift a right by n and insert under the destination's top n bits (n = esize: unchanged)."""
    k = check_imm(name, n, 1, arr.esize)
    u = arr.unsigned
    old = lanes(acc, u)
    if k == arr.esize:
        return to_bytes(old, u)
    mask = np.right_shift(np.array(~u(0), dtype=u), u(k))
    return to_bytes((old & ~mask) | _lsr(a, k, arr), u)


def sli(acc, a, n, *, arr, name):
    """Shift a left by n and insert over the destination's low n bits."""
    k = check_imm(name, n, 0, arr.esize - 1)
    u = arr.unsigned
    mask = _lsl(np.array(~u(0), dtype=u), k, u)
    return to_bytes((lanes(acc, u) & ~mask) | _lsl(lanes(a, u), k, u), u)


def _counts(b, arr):
    """The signed low byte of each element of b."""
    return (lanes(b, arr.unsigned) & arr.unsigned(0xFF)).astype(np.uint8).view(np.int8).astype(np.int64)


def sshl(a, b, *, arr):
    s, u = arr.signed, arr.unsigned
    x, cnt = lanes(a, s), _counts(b, arr)
    left = np.left_shift(x.view(u), np.clip(cnt, 0, arr.esize - 1).astype(u)).astype(u)
    right = np.right_shift(x, np.clip(-cnt, 0, arr.esize - 1).astype(s)).view(u)
    out = np.where(cnt >= arr.esize, u(0), np.where(cnt >= 0, left, right))
    return to_bytes(out.astype(u), u)


def ushl(a, b, *, arr):
    u = arr.unsigned
    x, cnt = lanes(a, u), _counts(b, arr)
    left = np.left_shift(x, np.clip(cnt, 0, arr.esize - 1).astype(u)).astype(u)
    right = np.right_shift(x, np.clip(-cnt, 0, arr.esize - 1).astype(u)).astype(u)
    out = np.where((cnt >= arr.esize) | (cnt <= -arr.esize), u(0), np.where(cnt >= 0, left, right))
    return to_bytes(out.astype(u), u)


# (mnemonic, function, immediate range as (lo, hi) of esize, intrinsic, signed, tied)
_IMM = (("shl", shl, (0, -1), "vshl", False, False), ("sshr", sshr, (1, 0), "vshr", True, False),
        ("ushr", ushr, (1, 0), "vshr", False, False), ("ssra", ssra, (1, 0), "vsra", True, True),
        ("usra", usra, (1, 0), "vsra", False, True), ("sri", sri, (1, 0), "vsri", False, True),
        ("sli", sli, (0, -1), "vsli", False, True))

for _arr in (*Q_ARRS, *D_ARRS):
    _a = ARR[_arr]
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
    for _mn, _fn, (_lo, _hi), _intr, _signed, _tied in _IMM:
        _t = f"{'s' if _signed else 'u'}{_a.esize}"
        _range = (_lo, _a.esize + _hi)
        _name = f"{_mn}_{_arr}"
        _ins = (_a.spec, _a.spec, imm_spec(_range[1])) if _tied else (_a.spec, imm_spec(_range[1]))
        _args = (f"{_view}_{_t}({{i0}}), {_view}_{_t}({{i1}}), {{i2}}" if _tied else f"{_view}_{_t}({{i0}}), {{i1}}")
        _src = "{i1:" + _arr + "}" if _tied else "{i0:" + _arr + "}"
        _imm = "{i2}" if _tied else "{i1}"
        if _tied:
            _sem = lambda acc, a, n, f=_fn, x=_a, name=_name: f(acc, a, n, arr=x, name=name)  # noqa: E731
        else:
            _sem = lambda a, n, f=_fn, x=_a, name=_name: f(a, n, arr=x, name=name)  # noqa: E731
        define(_name, _sem, outs=(_a.spec,), ins=_ins, asm=f"{_mn} {{o0:{_arr}}}, {_src}, #{_imm}",
               c=f"{{o0}} = {_back}_{_t}({_intr}{_q}_n_{_t}({_args}));",
               arrangements=(_arr,) * (len(_ins)) + (None,), tied=(0,) if _tied else (), imm_range=_range)
    for _mn, _fn, _signed in (("sshl", sshl, True), ("ushl", ushl, False)):
        _t = f"{'s' if _signed else 'u'}{_a.esize}"
        define(f"{_mn}_{_arr}", lambda a, b, f=_fn, x=_a: f(a, b, arr=x), outs=(_a.spec,), ins=(_a.spec,) * 2,
               asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}",
               c=f"{{o0}} = {_back}_{_t}(vshl{_q}_{_t}({_view}_{_t}({{i0}}), {_view}_s{_a.esize}({{i1}})));",
               arrangements=(_arr,) * 3)
