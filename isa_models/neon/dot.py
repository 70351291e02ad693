"""NEON int8 dot products and matrix multiplies: sdot/udot (FEAT_DotProd), usdot/sudot and
smmla/ummla/usmmla (FEAT_I8MM), vector and by-element forms.

Semantics layer (`isa_models.neon`). Every form accumulates into its destination (input 0,
tied): a dot product adds, per 32-bit lane i, the four byte products of group i of the two
sources (by-element: group `lane` of the second source for every i); a matrix multiply treats
each source as a 2x8 int8 matrix (row r = bytes 8r..8r+7) and adds A times B-transposed, the
2x2 int32 result in row-major lanes. Sums wrap in 32 bits. Signedness: s = signed, u =
unsigned; usdot/usmmla take an unsigned first and a signed second source, sudot the reverse.
Extensions (``attrs["requires"]``, cpuinfo names): ``asimddp`` for sdot/udot, ``i8mm`` for the
rest. Classes ``neon.<mnemonic>`` (``.d`` for 2s forms, ``.lane`` for by-element forms).
Reference: Arm ARM (DDI 0487) C7.2 SDOT, UDOT, USDOT, SUDOT, SMMLA, UMMLA, USMMLA.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.lanes import lanes, to_bytes
from isa_models.neon.forms import ARR, DOT, I8MM, V, check_imm, define, imm_spec

__all__ = ["dot", "dot_lane", "mmla"]


def _bytes(v, signed: bool) -> np.ndarray:
    return lanes(v, np.int8 if signed else np.uint8).astype(np.int64)


def dot(acc, a, b, *, sa: bool, sb: bool):
    """acc[i] + sum_k a[4i+k] * b[4i+k], per 32-bit lane (any register width)."""
    x, y = _bytes(a, sa), _bytes(b, sb)
    n = x.shape[1] // 4
    sums = (x * y).reshape(-1, n, 4).sum(axis=2)
    return to_bytes((lanes(acc, np.int32).astype(np.int64) + sums).astype(np.uint32), np.uint32)


def dot_lane(acc, a, b, lane: int, *, sa: bool, sb: bool, name: str):
    """acc[i] + sum_k a[4i+k] * b[4*lane+k]: group `lane` of b against every group of a."""
    k = check_imm(name, lane, 0, 3)
    group = np.asarray(b, dtype=np.uint8)[:, 4 * k:4 * k + 4]
    return dot(acc, a, np.tile(group, (1, np.asarray(a).shape[1] // 4)), sa=sa, sb=sb)


def mmla(acc, a, b, *, sa: bool, sb: bool):
    """acc (2x2 int32, row-major) + A (2x8) @ B(2x8)^T."""
    x = _bytes(a, sa).reshape(-1, 2, 8)
    y = _bytes(b, sb).reshape(-1, 2, 8)
    prod = np.einsum("pik,pjk->pij", x, y).reshape(-1, 4)
    return to_bytes((lanes(acc, np.int32).astype(np.int64) + prod).astype(np.uint32), np.uint32)


# (mnemonic, a signed, b signed, requires, intrinsic of the 4s form, C types acc/a/b)
_DOTS = (("sdot", True, True, DOT, "vdot", ("s32", "s8", "s8")),
         ("udot", False, False, DOT, "vdot", ("u32", "u8", "u8")),
         ("usdot", False, True, I8MM, "vusdot", ("s32", "u8", "s8")))

for _mn, _sa, _sb, _req, _intr, (_ta, _t1, _t2) in _DOTS:
    for _arr in ("4s", "2s"):
        _a = ARR[_arr]
        _src = "16b" if _a.is_q else "8b"
        _view, _back, _q = ("WB_Q", "WB_BQ", "q") if _a.is_q else ("WB_D", "WB_BD", "")
        define(f"{_mn}_{_arr}", lambda acc, a, b, sa=_sa, sb=_sb: dot(acc, a, b, sa=sa, sb=sb),
               outs=(_a.spec,), ins=(_a.spec, ARR[_src].spec, ARR[_src].spec),
               asm=f"{_mn} {{o0:{_arr}}}, {{i1:{_src}}}, {{i2:{_src}}}",
               c=(f"{{o0}} = {_back}_{_ta}({_intr}{_q}_{_ta}({_view}_{_ta}({{i0}}), {_view}_{_t1}({{i1}}), "
                  f"{_view}_{_t2}({{i2}})));"),
               arrangements=(_arr, _arr, _src, _src), tied=(0,), requires=_req)
    _lane_name = f"{_mn}_lane_4s"
    define(_lane_name, lambda acc, a, b, k, sa=_sa, sb=_sb, name=_lane_name: dot_lane(acc, a, b, k, sa=sa, sb=sb,
                                                                                         name=name),
           outs=(V,), ins=(V, V, V, imm_spec(3)),
           asm=f"{_mn} {{o0:4s}}, {{i1:16b}}, {{i2:4b}}[{{i3}}]",
           c=(f"{{o0}} = WB_BQ_{_ta}({_intr}q_laneq_{_ta}(WB_Q_{_ta}({{i0}}), WB_Q_{_t1}({{i1}}), "
              f"WB_Q_{_t2}({{i2}}), {{i3}}));"),
           arrangements=("4s", "4s", "16b", "4b", None), tied=(0,), requires=_req,
           sched=f"neon.{_mn}.lane", imm_range=(0, 3))

define("sudot_lane_4s", lambda acc, a, b, k: dot_lane(acc, a, b, k, sa=True, sb=False, name="sudot_lane_4s"),
       outs=(V,), ins=(V, V, V, imm_spec(3)), asm="sudot {o0:4s}, {i1:16b}, {i2:4b}[{i3}]",
       c="{o0} = WB_BQ_s32(vsudotq_laneq_s32(WB_Q_s32({i0}), WB_Q_s8({i1}), WB_Q_u8({i2}), {i3}));",
       arrangements=("4s", "4s", "16b", "4b", None), tied=(0,), requires=I8MM, sched="neon.sudot.lane",
       imm_range=(0, 3))

for _mn, _sa, _sb, _intr, (_ta, _t1, _t2) in (("smmla", True, True, "vmmlaq", ("s32", "s8", "s8")),
                                              ("ummla", False, False, "vmmlaq", ("u32", "u8", "u8")),
                                              ("usmmla", False, True, "vusmmlaq", ("s32", "u8", "s8"))):
    define(f"{_mn}_4s", lambda acc, a, b, sa=_sa, sb=_sb: mmla(acc, a, b, sa=sa, sb=sb),
           outs=(V,), ins=(V, V, V), asm=f"{_mn} {{o0:4s}}, {{i1:16b}}, {{i2:16b}}",
           c=f"{{o0}} = WB_BQ_{_ta}({_intr}_{_ta}(WB_Q_{_ta}({{i0}}), WB_Q_{_t1}({{i1}}), WB_Q_{_t2}({{i2}})));",
           arrangements=("4s", "4s", "16b", "16b"), tied=(0,), requires=I8MM)
