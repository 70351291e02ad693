"""NEON bitwise forms: and, orr, eor, bic, orn, not, the bitwise selects bsl/bit/bif, and cnt.

Semantics layer (`isa_models.neon`). Bitwise ops ignore the arrangement (16b and 8b forms).
The selects are tied to their destination (input 0): bsl keeps the destination as the mask
(``d = (d & n) | (~d & m)``), bit inserts n where m is set (``d = (n & m) | (d & ~m)``), bif
where m is clear (``d = (d & m) | (n & ~m)``). cnt counts the set bits of each byte. Classes
``neon.<mnemonic>`` (``.d`` for 8b forms).
Reference: Arm ARM (DDI 0487) C7.2 AND, ORR, EOR, BIC, ORN, NOT, BSL, BIT, BIF, CNT.
"""

from __future__ import annotations

import numpy as np

from isa_models.neon.forms import ARR, define

__all__ = ["and_", "orr", "eor", "bic", "orn", "not_", "bsl", "bit", "bif", "cnt"]


def _u8(x):
    return np.asarray(x, dtype=np.uint8)


def and_(a, b):
    return _u8(a) & _u8(b)


def orr(a, b):
    return _u8(a) | _u8(b)


def eor(a, b):
    return _u8(a) ^ _u8(b)


def bic(a, b):
    """a AND NOT b."""
    return _u8(a) & ~_u8(b)


def orn(a, b):
    """a OR NOT b."""
    return _u8(a) | ~_u8(b)


def not_(a):
    return ~_u8(a)


def bsl(d, n, m):
    return (_u8(d) & _u8(n)) | (~_u8(d) & _u8(m))


def bit(d, n, m):
    return (_u8(n) & _u8(m)) | (_u8(d) & ~_u8(m))


def bif(d, n, m):
    return (_u8(d) & _u8(m)) | (_u8(n) & ~_u8(m))


_POPCOUNT = np.array([bin(k).count("1") for k in range(256)], np.uint8)


def cnt(a):
    return _POPCOUNT[_u8(a)]


for _arr in ("16b", "8b"):
    _a = ARR[_arr]
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")

    def _c(expr: str) -> str:
        return f"{{o0}} = {_back}_u8({expr});"

    def _v(k: int) -> str:
        return f"{_view}_u8({{i{k}}})"

    for _mn, _fn, _intr in (("and", and_, "vand"), ("orr", orr, "vorr"), ("eor", eor, "veor"),
                            ("bic", bic, "vbic"), ("orn", orn, "vorn")):
        define(f"{_mn}_{_arr}", lambda a, b, f=_fn: f(a, b), outs=(_a.spec,), ins=(_a.spec,) * 2,
               asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}", c=_c(f"{_intr}{_q}_u8({_v(0)}, {_v(1)})"),
               arrangements=(_arr,) * 3)
    define(f"not_{_arr}", lambda a: not_(a), outs=(_a.spec,), ins=(_a.spec,), asm=f"not {{o0:{_arr}}}, {{i0:{_arr}}}",
           c=_c(f"vmvn{_q}_u8({_v(0)})"), arrangements=(_arr,) * 2)
    define(f"cnt_{_arr}", lambda a: cnt(a), outs=(_a.spec,), ins=(_a.spec,), asm=f"cnt {{o0:{_arr}}}, {{i0:{_arr}}}",
           c=_c(f"vcnt{_q}_u8({_v(0)})"), arrangements=(_arr,) * 2)
    for _mn, _fn, _args in (("bsl", bsl, (0, 1, 2)), ("bit", bit, (2, 1, 0)), ("bif", bif, (2, 0, 1))):
        define(f"{_mn}_{_arr}", lambda d, n, m, f=_fn: f(d, n, m), outs=(_a.spec,), ins=(_a.spec,) * 3,
               asm=f"{_mn} {{o0:{_arr}}}, {{i1:{_arr}}}, {{i2:{_arr}}}",
               c=_c(f"vbsl{_q}_u8({', '.join(_v(k) for k in _args)})"), arrangements=(_arr,) * 4, tied=(0,))
