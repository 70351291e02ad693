"""HVX predicate forms: compares into q registers (with the &=, |=, ^= accumulating variants),
vmux, predicate/vector conversions (vand with Rt), byte masking by a predicate, predicate logic,
vsetq, and the predicated add/subtract (``if (Qv) Vx += Vu``).

Semantics layer (`isa_models.hvx`). A q value is 128 bytes of 0/1 (see `isa_models.hvx.forms`).
``ext.idef``: ``VCMP`` sets the ``WIDTH`` predicate bits of each lane (all bytes of a lane alike);
``vmux``: ``Vd.ub[i] = Q[i] ? Vu.ub[i] : Vv.ub[i]``; ``vandqrt``: ``Q[i] ? Rt.ub[i % 4] : 0``;
``vandvrt``: ``Q[i] = (Vu.ub[i] & Rt.ub[i % 4]) != 0``; ``vandvqv``: ``Q[i] ? Vu.b[i] : 0``;
``pred_*``; ``pred_scalar2`` (vsetq): ``Q[i] = i < (Rt & 127)``, ``pred_scalar2v2`` (vsetq2):
``Q[i] = i <= ((Rt - 1) & 127)``; ``CONDADDSUB`` (``fCONDMASK8/16/32``): each byte of Vx takes the
sum's byte where its own Q bit is set, so h/w lanes mix bytes under a partial predicate.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import to_bytes
from isa_models.hvx.forms import Q, R, V, form, qbits, qbytes, rt, rt_ubytes, s8, s16, s32, u8, u16, u32

__all__ = ["vmux", "vand_qr", "vand_nqr", "vand_qr_acc", "vand_vr", "vand_vr_acc", "vand_qv", "vand_nqv",
           "q_and", "q_or", "q_xor", "q_not", "q_and_n", "q_or_n", "vsetq", "vsetq2"]

_VIEW = {"b": (s8, 1), "ub": (u8, 1), "h": (s16, 2), "uh": (u16, 2), "w": (s32, 4), "uw": (u32, 4)}
_INTR = {"b": "Vb", "ub": "Vub", "h": "Vh", "uh": "Vuh", "w": "Vw", "uw": "Vuw"}


def _lane_bits(cond, width):
    return qbytes(np.repeat(cond, width, axis=1))


def _define_cmp(op: str, t: str, acc: str | None) -> None:
    view, width = _VIEW[t]
    cmp = np.greater if op == "gt" else np.equal
    name = f"vcmp_{op}_{t}" + (f"_{acc}" if acc else "")
    llvm = f"V6_v{op}{t}" + (f"_{acc}" if acc else "")
    if acc is None:
        def f(u, v):
            return _lane_bits(cmp(view(u), view(v)), width)
        ins, asm = (V, V), f"{{o0}} = vcmp.{op}({{i0}}.{t},{{i1}}.{t})"
        c = f"{{o0}} = Q6_Q_vcmp_{op}_{_INTR[t]}{_INTR[t]}({{i0}}, {{i1}});"
    else:
        combine = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor}[acc]

        def f(q, u, v):
            return qbytes(combine(qbits(q), np.repeat(cmp(view(u), view(v)), width, axis=1)))
        sym = {"and": "&=", "or": "|=", "xor": "^="}[acc]
        ins, asm = (Q, V, V), f"{{o0}} {sym} vcmp.{op}({{i1}}.{t},{{i2}}.{t})"
        cname = {"and": f"{op}and", "or": f"{op}or", "xor": f"{op}xacc"}[acc]
        c = f"{{o0}} = Q6_Q_vcmp_{cname}_Q{_INTR[t]}{_INTR[t]}({{i0}}, {{i1}}, {{i2}});"
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"ext.idef {llvm}: predicate bits of each {t} lane = (Vu {op} Vv)" + (f", {acc}-ed into Qx." if acc else ".")
    form(name, llvm=llvm, since=60, outs=(Q,), ins=ins, asm=asm, c=c, tied=(0,) if acc else ())(f)
    globals()[name] = f
    __all__.append(name)


for _op, _types in (("gt", ("b", "ub", "h", "uh", "w", "uw")), ("eq", ("b", "h", "w"))):
    for _t in _types:
        for _acc in (None, "and", "or", "xor"):
            _define_cmp(_op, _t, _acc)


@form("vmux", llvm="V6_vmux", since=60, outs=(V,), ins=(Q, V, V), asm="{o0} = vmux({i0},{i1},{i2})",
      c="{o0} = Q6_V_vmux_QVV({i0}, {i1}, {i2});")
def vmux(q, u, v):
    return np.where(qbits(q), np.asarray(u, np.uint8), np.asarray(v, np.uint8)).astype(np.uint8)


def _rt_bytes128(r):
    return np.tile(rt_ubytes(r), (1, 32))


@form("vand_qr", llvm="V6_vandqrt", since=60, outs=(V,), ins=(Q, R), asm="{o0} = vand({i0},{i1})",
      c="{o0} = Q6_V_vand_QR({i0}, {i1});")
def vand_qr(q, r):
    return np.where(qbits(q), _rt_bytes128(r), 0).astype(np.uint8)


@form("vand_nqr", llvm="V6_vandnqrt", since=62, outs=(V,), ins=(Q, R), asm="{o0} = vand(!{i0},{i1})",
      c="{o0} = Q6_V_vand_QnR({i0}, {i1});")
def vand_nqr(q, r):
    return np.where(~qbits(q), _rt_bytes128(r), 0).astype(np.uint8)


@form("vand_qr_acc", llvm="V6_vandqrt_acc", since=60, outs=(V,), ins=(V, Q, R), tied=(0,),
      asm="{o0} |= vand({i1},{i2})", c="{o0} = Q6_V_vandor_VQR({i0}, {i1}, {i2});")
def vand_qr_acc(acc, q, r):
    return np.bitwise_or(acc, vand_qr(q, r)).astype(np.uint8)


@form("vand_vr", llvm="V6_vandvrt", since=60, outs=(Q,), ins=(V, R), asm="{o0} = vand({i0},{i1})",
      c="{o0} = Q6_Q_vand_VR({i0}, {i1});")
def vand_vr(u, r):
    return qbytes((u8(u) & _rt_bytes128(r)) != 0)


@form("vand_vr_acc", llvm="V6_vandvrt_acc", since=60, outs=(Q,), ins=(Q, V, R), tied=(0,),
      asm="{o0} |= vand({i1},{i2})", c="{o0} = Q6_Q_vandor_QVR({i0}, {i1}, {i2});")
def vand_vr_acc(q, u, r):
    return qbytes(qbits(q) | ((u8(u) & _rt_bytes128(r)) != 0))


@form("vand_qv", llvm="V6_vandvqv", since=62, outs=(V,), ins=(Q, V), asm="{o0} = vand({i0},{i1})",
      c="{o0} = Q6_V_vand_QV({i0}, {i1});")
def vand_qv(q, u):
    return np.where(qbits(q), np.asarray(u, np.uint8), 0).astype(np.uint8)


@form("vand_nqv", llvm="V6_vandvnqv", since=62, outs=(V,), ins=(Q, V), asm="{o0} = vand(!{i0},{i1})",
      c="{o0} = Q6_V_vand_QnV({i0}, {i1});")
def vand_nqv(q, u):
    return np.where(~qbits(q), np.asarray(u, np.uint8), 0).astype(np.uint8)


# predicate logic ---------------------------------------------------------------------------------
@form("q_and", llvm="V6_pred_and", since=60, outs=(Q,), ins=(Q, Q), asm="{o0} = and({i0},{i1})",
      c="{o0} = Q6_Q_and_QQ({i0}, {i1});")
def q_and(a, b):
    return qbytes(qbits(a) & qbits(b))


@form("q_or", llvm="V6_pred_or", since=60, outs=(Q,), ins=(Q, Q), asm="{o0} = or({i0},{i1})",
      c="{o0} = Q6_Q_or_QQ({i0}, {i1});")
def q_or(a, b):
    return qbytes(qbits(a) | qbits(b))


@form("q_xor", llvm="V6_pred_xor", since=60, outs=(Q,), ins=(Q, Q), asm="{o0} = xor({i0},{i1})",
      c="{o0} = Q6_Q_xor_QQ({i0}, {i1});")
def q_xor(a, b):
    return qbytes(qbits(a) ^ qbits(b))


@form("q_not", llvm="V6_pred_not", since=60, outs=(Q,), ins=(Q,), asm="{o0} = not({i0})",
      c="{o0} = Q6_Q_not_Q({i0});")
def q_not(a):
    return qbytes(~qbits(a))


@form("q_and_n", llvm="V6_pred_and_n", since=60, outs=(Q,), ins=(Q, Q), asm="{o0} = and({i0},!{i1})",
      c="{o0} = Q6_Q_and_QQn({i0}, {i1});")
def q_and_n(a, b):
    return qbytes(qbits(a) & ~qbits(b))


@form("q_or_n", llvm="V6_pred_or_n", since=60, outs=(Q,), ins=(Q, Q), asm="{o0} = or({i0},!{i1})",
      c="{o0} = Q6_Q_or_QQn({i0}, {i1});")
def q_or_n(a, b):
    return qbytes(qbits(a) | ~qbits(b))


@form("vsetq", llvm="V6_pred_scalar2", since=60, outs=(Q,), ins=(R,), asm="{o0} = vsetq({i0})",
      c="{o0} = Q6_Q_vsetq_R({i0});")
def vsetq(r):
    return qbytes(np.arange(128) < (rt(r) & 127))


@form("vsetq2", llvm="V6_pred_scalar2v2", since=62, outs=(Q,), ins=(R,), asm="{o0} = vsetq2({i0})",
      c="{o0} = Q6_Q_vsetq2_R({i0});")
def vsetq2(r):
    return qbytes(np.arange(128) <= ((rt(r) - 1) & 127))


# predicated accumulate -----------------------------------------------------------------------------
def _define_cond(op: str, t: str, negate: bool) -> None:
    view, width = _VIEW[t]
    dtype = {1: np.int8, 2: np.int16, 4: np.int32}[width]
    name = f"v{op}_{t}_{'nq' if negate else 'q'}"
    llvm = f"V6_v{op}{t}{'nq' if negate else 'q'}"

    def f(acc, q, u):
        x, y = view(acc), view(u)
        full = to_bytes((x + y if op == "add" else x - y).astype(dtype), dtype)
        take = qbits(q) != negate
        return np.where(take, full, np.asarray(acc, np.uint8)).astype(np.uint8)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"ext.idef {llvm}: bytes of Vx whose Q bit is {'clear' if negate else 'set'} take Vx {op} Vu."
    sym = "+=" if op == "add" else "-="
    qs = "!" if negate else ""
    cn = ("condacc" if op == "add" else "condnac") + "_Q" + ("n" if negate else "")
    form(name, llvm=llvm, since=60, outs=(V,), ins=(V, Q, V), tied=(0,),
         asm=f"if ({qs}{{i1}}) {{o0}}.{t} {sym} {{i2}}.{t}",
         c=f"{{o0}} = Q6_{_INTR[t]}_{cn}{_INTR[t]}{_INTR[t]}({{i1}}, {{i0}}, {{i2}});")(f)
    globals()[name] = f
    __all__.append(name)


for _op in ("add", "sub"):
    for _t in ("b", "h", "w"):
        for _neg in (False, True):
            _define_cond(_op, _t, _neg)
