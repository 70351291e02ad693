"""NEON permutes: zip1/zip2, uzp1/uzp2, trn1/trn2, ext and rev16/rev32/rev64.

Semantics layer (`isa_models.neon`). zip interleaves the low (zip1) or high (zip2) halves of
the two sources; uzp takes the even (uzp1) or odd (uzp2) elements of their concatenation; trn
interleaves the even (trn1) or odd (trn2) elements of each; ext takes register-width bytes of
``concat(first, second)`` from byte ``imm``; rev<c> reverses the elements inside each c-bit
container. zip/uzp/trn for 16b 8h 4s 2d and 8b 4h 2s. Classes ``neon.<mnemonic>`` (``.d``
for D forms).
Reference: Arm ARM (DDI 0487) C7.2 ZIP1, ZIP2, UZP1, UZP2, TRN1, TRN2, EXT, REV16, REV32, REV64.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, D_ARRS, Q_ARRS, check_imm, define, imm_spec

__all__ = ["zip1", "zip2", "uzp1", "uzp2", "trn1", "trn2", "ext", "rev"]


def _interleave(x, y):
    return np.stack([x, y], axis=2).reshape(x.shape[0], -1)


def zip1(a, b, *, arr):
    u = arr.unsigned
    x, y = lanes(a, u), lanes(b, u)
    h = x.shape[1] // 2
    return to_bytes(_interleave(x[:, :h], y[:, :h]), u)


def zip2(a, b, *, arr):
    u = arr.unsigned
    x, y = lanes(a, u), lanes(b, u)
    h = x.shape[1] // 2
    return to_bytes(_interleave(x[:, h:], y[:, h:]), u)


def uzp1(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(np.concatenate([lanes(a, u), lanes(b, u)], axis=1)[:, 0::2], u)


def uzp2(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(np.concatenate([lanes(a, u), lanes(b, u)], axis=1)[:, 1::2], u)


def trn1(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(_interleave(lanes(a, u)[:, 0::2], lanes(b, u)[:, 0::2]), u)


def trn2(a, b, *, arr):
    u = arr.unsigned
    return to_bytes(_interleave(lanes(a, u)[:, 1::2], lanes(b, u)[:, 1::2]), u)


def ext(a, b, n, *, nbytes, name):
    k = check_imm(name, n, 0, nbytes - 1)
    both = np.concatenate([np.asarray(a, np.uint8), np.asarray(b, np.uint8)], axis=1)
    return np.ascontiguousarray(both[:, k:k + nbytes])


def rev(a, *, arr, container: int):
    """Reverse the elements of `arr` inside each `container`-bit group."""
    u = arr.unsigned
    x = lanes(a, u)
    per = container // arr.esize
    return to_bytes(x.reshape(x.shape[0], -1, per)[:, :, ::-1].reshape(x.shape[0], -1), u)


for _arr in (*Q_ARRS, *D_ARRS):
    _a = ARR[_arr]
    _t = f"u{_a.esize}"
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
    for _mn, _fn in (("zip1", zip1), ("zip2", zip2), ("uzp1", uzp1), ("uzp2", uzp2), ("trn1", trn1),
                     ("trn2", trn2)):
        define(f"{_mn}_{_arr}", lambda a, b, f=_fn, x=_a: f(a, b, arr=x), outs=(_a.spec,), ins=(_a.spec,) * 2,
               asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}",
               c=f"{{o0}} = {_back}_{_t}(v{_mn}{_q}_{_t}({_view}_{_t}({{i0}}), {_view}_{_t}({{i1}})));",
               arrangements=(_arr,) * 3)

for _arr in ("16b", "8b"):
    _a = ARR[_arr]
    _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
    define(f"ext_{_arr}", lambda a, b, n, nb=_a.nbytes, name=f"ext_{_arr}": ext(a, b, n, nbytes=nb, name=name),
           outs=(_a.spec,), ins=(_a.spec, _a.spec, imm_spec(_a.nbytes - 1)),
           asm=f"ext {{o0:{_arr}}}, {{i0:{_arr}}}, {{i1:{_arr}}}, #{{i2}}",
           c=f"{{o0}} = {_back}_u8(vext{_q}_u8({_view}_u8({{i0}}), {_view}_u8({{i1}}), {{i2}}));",
           arrangements=(_arr, _arr, _arr, None), imm_range=(0, _a.nbytes - 1))

for _container, _arrs in ((16, ("16b", "8b")), (32, ("16b", "8h", "8b", "4h")),
                          (64, ("16b", "8h", "4s", "8b", "4h", "2s"))):
    for _arr in _arrs:
        _a = ARR[_arr]
        _t = f"u{_a.esize}"
        _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
        _mn = f"rev{_container}"
        define(f"{_mn}_{_arr}", lambda a, x=_a, c=_container: rev(a, arr=x, container=c), outs=(_a.spec,),
               ins=(_a.spec,), asm=f"{_mn} {{o0:{_arr}}}, {{i0:{_arr}}}",
               c=f"{{o0}} = {_back}_{_t}(v{_mn}{_q}_{_t}({_view}_{_t}({{i0}})));", arrangements=(_arr,) * 2)
