"""NEON moves: ld1/st1 (1-4 registers, plain and post-index), ld1r, dup, movi, and the x-register moves.

Semantics layer (`isa_models.neon`). Loads and stores move bytes unchanged (the executor does
the addressing and the bounds checks); ld1r and dup replicate one element over the register;
movi splats an 8-bit immediate. A post-index form (``ld1_post_16b``) is the same data movement
with the base register advanced by the bytes moved (``attrs["post_index"]``); the Program's
affine addressing does not model the base register, so its semantics equal the plain form's,
its scheduling class is the plain form's and its assembly names the writeback. Classes:
``neon.ld1.<n>`` / ``neon.st1.<n>`` (n registers, ``.d`` for 8-byte forms), ``neon.ld1r``,
``neon.dup`` (from a general register), ``neon.dup.lane``, ``neon.movi``.
Reference: Arm ARM (DDI 0487) C7.2 LD1 (multiple structures), LD1R, ST1, DUP, MOVI.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import imm, mem
from isa_models.core.lanes import to_bytes
from isa_models.neon.forms import ARR, D, V, X, check_imm, define, imm_spec

__all__ = ["load", "load_d", "load_multi", "store", "store_d", "replicate", "dup_gpr", "dup_lane",
           "movi", "movi_zero", "ldr_x", "mov_x"]


def load(m):
    """ld1 {v.16b}: 16 bytes, unchanged."""
    return np.array(m, dtype=np.uint8, copy=True)


def load_d(m):
    """ld1 {v.8b}: 8 bytes into the low half (the upper half is zeroed by the write policy)."""
    return np.array(m, dtype=np.uint8, copy=True)


def load_multi(m, n: int):
    """ld1 {v.16b x n}: n consecutive 16-byte registers."""
    m = np.asarray(m, dtype=np.uint8)
    return tuple(np.array(m[:, 16 * k:16 * k + 16], copy=True) for k in range(n))


def store(*regs):
    """st1 {v.16b x n}: the registers' bytes, in order."""
    return np.ascontiguousarray(np.concatenate([np.asarray(r, dtype=np.uint8) for r in regs], axis=1))


def store_d(v):
    """st1 {v.8b}: the low 8 bytes."""
    return np.array(np.asarray(v)[:, :8], dtype=np.uint8, copy=True)


def replicate(m, unit: int, nbytes: int = 16):
    """ld1r: the `unit`-byte element at m in every lane."""
    return np.tile(np.asarray(m, dtype=np.uint8)[:, :unit], (1, nbytes // unit))


def dup_gpr(x, unit: int, nbytes: int):
    """dup v.<T>, w/x: the low `unit` bytes of the general register in every lane."""
    return np.tile(np.asarray(x, dtype=np.uint8)[:, :unit], (1, nbytes // unit))


def dup_lane(v, lane: int, unit: int, name: str):
    """dup v.<T>, v.<t>[lane]: one element of the source in every lane."""
    k = check_imm(name, lane, 0, 16 // unit - 1)
    return np.tile(np.asarray(v, dtype=np.uint8)[:, unit * k:unit * k + unit], (1, 16 // unit))


def movi(value: int, unit: int, nbytes: int, name: str):
    """movi v.<T>, #imm8: the immediate, zero-extended to the element, in every lane."""
    v = check_imm(name, value, 0, 255)
    t = {1: np.uint8, 2: np.uint16, 4: np.uint32}[unit]
    return to_bytes(np.full((1, nbytes // unit), v, dtype=t), t)


def movi_zero():
    """movi v.16b, #0 (the zero idiom): 16 zero bytes."""
    return np.zeros((1, 16), np.uint8)


def ldr_x(m):
    """ldr x, [addr]: 8 bytes into a general register."""
    return np.array(m, dtype=np.uint8, copy=True)


def mov_x(value: int):
    """mov x, #imm16 (movz): the immediate, zero-extended to 64 bits."""
    v = check_imm("mov_x", value, 0, 0xFFFF)
    return to_bytes(np.full((1, 1), v, dtype=np.uint64), np.uint64)


# ld1 / st1 -------------------------------------------------------------------------------------
def _reglist(prefix: str, count: int, arr: str, start: int = 0) -> str:
    return "{{" + ", ".join(f"{{{prefix}{k}:{arr}}}" for k in range(start, start + count)) + "}}"


for _post in (False, True):
    _suffix = "_post" if _post else ""
    _wb = ", #{bytes}" if _post else ""
    define(f"ld1{_suffix}_16b", lambda m: load(m), outs=(V,), ins=(mem(16),),
           asm=f"ld1 {_reglist('o', 1, '16b')}, {{i0}}{_wb.format(bytes=16)}",
           c="{o0} = vld1q_u8({i0});", arrangements=("16b", None), sched="neon.ld1.1", mnemonic="ld1",
           **({"post_index": 16} if _post else {}))
    define(f"ld1{_suffix}_8b", lambda m: load_d(m), outs=(D,), ins=(mem(8),),
           asm=f"ld1 {_reglist('o', 1, '8b')}, {{i0}}{_wb.format(bytes=8)}",
           c="{o0} = vcombine_u8(vld1_u8({i0}), vdup_n_u8(0));", arrangements=("8b", None),
           sched="neon.ld1.1.d", mnemonic="ld1", **({"post_index": 8} if _post else {}))
    define(f"st1{_suffix}_16b", lambda v: store(v), outs=(mem(16),), ins=(V,),
           asm=f"st1 {_reglist('i', 1, '16b')}, {{o0}}{_wb.format(bytes=16)}",
           c="vst1q_u8({o0}, {i0});", arrangements=(None, "16b"), sched="neon.st1.1", mnemonic="st1",
           **({"post_index": 16} if _post else {}))
    define(f"st1{_suffix}_8b", lambda v: store_d(v), outs=(mem(8),), ins=(D,),
           asm=f"st1 {_reglist('i', 1, '8b')}, {{o0}}{_wb.format(bytes=8)}",
           c="vst1_u8({o0}, vget_low_u8({i0}));", arrangements=(None, "8b"), sched="neon.st1.1.d",
           mnemonic="st1", **({"post_index": 8} if _post else {}))
    for _n in (2, 3, 4):
        _outs = ", ".join(f"&{{o{k}}}" for k in range(_n))
        define(f"ld1x{_n}{_suffix}_16b", lambda m, n=_n: load_multi(m, n), outs=(V,) * _n, ins=(mem(16 * _n),),
               asm=f"ld1 {_reglist('o', _n, '16b')}, {{i0}}{_wb.format(bytes=16 * _n)}",
               c=f"wb_ld1x{_n}({{i0}}, {_outs});", arrangements=("16b",) * _n + (None,),
               sched=f"neon.ld1.{_n}", mnemonic="ld1", **({"post_index": 16 * _n} if _post else {}))
        _ins = ", ".join(f"{{i{k}}}" for k in range(_n))
        define(f"st1x{_n}{_suffix}_16b", lambda *v: store(*v), outs=(mem(16 * _n),), ins=(V,) * _n,
               asm=f"st1 {_reglist('i', _n, '16b')}, {{o0}}{_wb.format(bytes=16 * _n)}",
               c=f"vst1q_u8_x{_n}({{o0}}, wb_x{_n}({_ins}));", arrangements=(None,) + ("16b",) * _n,
               sched=f"neon.st1.{_n}", mnemonic="st1", **({"post_index": 16 * _n} if _post else {}))

# ld1r ------------------------------------------------------------------------------------------
for _arr, _unit, _t in (("16b", 1, "u8"), ("8h", 2, "u16"), ("4s", 4, "u32"), ("2d", 8, "u64"),
                        ("8b", 1, "u8"), ("4h", 2, "u16"), ("2s", 4, "u32")):
    _a = ARR[_arr]
    _ptr = "{i0}" if _t == "u8" else f"(const uint{8 * _unit}_t *)({{i0}})"
    _c = (f"{{o0}} = WB_BQ_{_t}(vld1q_dup_{_t}({_ptr}));" if _a.is_q
          else f"{{o0}} = WB_BD_{_t}(vld1_dup_{_t}({_ptr}));")
    define(f"ld1r_{_arr}", lambda m, u=_unit, n=_a.nbytes: replicate(m, u, n), outs=(_a.spec,), ins=(mem(_unit),),
           asm=f"ld1r {{{{{{o0:{_arr}}}}}}}, {{i0}}", c=_c, arrangements=(_arr, None),
           sched="neon.ld1r" + ("" if _a.is_q else ".d"))

# dup ---------------------------------------------------------------------------------------------
for _arr, _unit, _t in (("16b", 1, "u8"), ("8h", 2, "u16"), ("4s", 4, "u32"), ("2d", 8, "u64"),
                        ("8b", 1, "u8"), ("4h", 2, "u16"), ("2s", 4, "u32")):
    _a = ARR[_arr]
    _src = "{i0:x}" if _unit == 8 else "{i0:w}"
    _c = (f"{{o0}} = WB_BQ_{_t}(vdupq_n_{_t}((uint{8 * _unit}_t){{i0}}));" if _a.is_q
          else f"{{o0}} = WB_BD_{_t}(vdup_n_{_t}((uint{8 * _unit}_t){{i0}}));")
    define(f"dup_{_arr}", lambda x, u=_unit, n=_a.nbytes: dup_gpr(x, u, n), outs=(_a.spec,), ins=(X,),
           asm=f"dup {{o0:{_arr}}}, {_src}", c=_c, arrangements=(_arr, None))
    if _a.is_q:
        _e = {1: "b", 2: "h", 4: "s", 8: "d"}[_unit]
        define(f"dup_lane_{_arr}", lambda v, k, u=_unit, name=f"dup_lane_{_arr}": dup_lane(v, k, u, name),
               outs=(V,), ins=(V, imm_spec(16 // _unit - 1)), asm=f"dup {{o0:{_arr}}}, {{i0:.{_e}}}[{{i1}}]",
               c=f"{{o0}} = WB_BQ_{_t}(vdupq_laneq_{_t}(WB_Q_{_t}({{i0}}), {{i1}}));",
               arrangements=(_arr, _arr, None), sched="neon.dup.lane", imm_range=(0, 16 // _unit - 1))

# movi ----------------------------------------------------------------------------------------------
for _arr, _unit, _t in (("16b", 1, "u8"), ("8h", 2, "u16"), ("4s", 4, "u32"), ("8b", 1, "u8")):
    _a = ARR[_arr]
    _c = (f"{{o0}} = WB_BQ_{_t}(vdupq_n_{_t}({{i0}}));" if _a.is_q
          else f"{{o0}} = WB_BD_{_t}(vdup_n_{_t}({{i0}}));")
    define(f"movi_{_arr}", lambda k, u=_unit, n=_a.nbytes, name=f"movi_{_arr}": movi(k, u, n, name),
           outs=(_a.spec,), ins=(imm(8),), asm=f"movi {{o0:{_arr}}}, #{{i0}}", c=_c, arrangements=(_arr, None),
           imm_range=(0, 255))
define("movi_zero_16b", lambda: movi_zero(), outs=(V,), ins=(), asm="movi {o0:16b}, #0",
       c="{o0} = vdupq_n_u8(0);", arrangements=("16b",), mnemonic="movi", sched="neon.movi")

# general registers ----------------------------------------------------------------------------------
define("ldr_x", lambda m: ldr_x(m), outs=(X,), ins=(mem(8),), asm="ldr {o0:x}, {i0}",
       c="{o0} = wb_load64({i0});", arrangements=(None, None), sched="neon.ldr.x", mnemonic="ldr")
define("mov_x", lambda k: mov_x(k), outs=(X,), ins=(imm(16),), asm="mov {o0:x}, #{i0}",
       c="{o0} = (int64_t){i0};", arrangements=(None, None), sched="neon.mov.x", mnemonic="mov",
       imm_range=(0, 0xFFFF))
