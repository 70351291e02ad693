"""NEON table lookups: tbl and tbx with 1-4 table registers, 16b and 8b index forms.

Semantics layer (`isa_models.neon`). The n table registers form one 16n-byte table (first
register first); each index byte selects table byte ``index`` when it is below 16n. An index at
or past 16n gives 0 for tbl and keeps the destination's byte for tbx (tbx is tied: the old
destination is input 0). The 8b forms use the low 8 index bytes and write a D result. In
assembly the table registers are a consecutive list (``{v1.16b, v2.16b}``). Classes
``neon.tbl.<n>`` / ``neon.tbx.<n>`` (``.d`` for 8b forms).
Reference: Arm ARM (DDI 0487) C7.2 TBL, TBX.
"""

from __future__ import annotations

import numpy as np

from isa_models.neon.forms import D, V, define

__all__ = ["tbl", "tbx"]


def _lookup(tables, index):
    table = np.concatenate([np.asarray(t, dtype=np.uint8) for t in tables], axis=1)
    idx = np.asarray(index, dtype=np.uint8).astype(np.intp)
    inside = idx < table.shape[1]
    picked = np.take_along_axis(table, np.where(inside, idx, 0), axis=1)
    return picked, inside


def tbl(*operands):
    """tables..., index -> table[index], 0 where index >= 16 * n."""
    picked, inside = _lookup(operands[:-1], operands[-1])
    return np.where(inside, picked, 0).astype(np.uint8)


def tbx(old, *operands):
    """old, tables..., index -> table[index], old where index >= 16 * n."""
    picked, inside = _lookup(operands[:-1], operands[-1])
    return np.where(inside, picked, np.asarray(old, dtype=np.uint8)).astype(np.uint8)


def _tables_c(n: int, first: int) -> str:
    regs = ", ".join(f"{{i{first + k}}}" for k in range(n))
    return regs if n == 1 else f"wb_x{n}({regs})"


def _tables_asm(n: int, first: int, arr: str = "16b") -> str:
    return "{{" + ", ".join(f"{{i{first + k}:{arr}}}" for k in range(n)) + "}}"


for _n in (1, 2, 3, 4):
    for _arr in ("16b", "8b"):
        _q = _arr == "16b"
        _spec = V if _q else D
        _c_tbl = (f"{{o0}} = vqtbl{_n}q_u8({_tables_c(_n, 0)}, {{i{_n}}});" if _q else
                  f"{{o0}} = WB_BD_u8(vqtbl{_n}_u8({_tables_c(_n, 0)}, WB_D_u8({{i{_n}}})));")
        define(f"tbl{_n}_{_arr}", lambda *ops: tbl(*ops), outs=(_spec,), ins=(V,) * _n + (_spec,),
               asm=f"tbl {{o0:{_arr}}}, {_tables_asm(_n, 0)}, {{i{_n}:{_arr}}}", c=_c_tbl,
               arrangements=(_arr,) + ("16b",) * _n + (_arr,), mnemonic="tbl",
               sched=f"neon.tbl.{_n}" + ("" if _q else ".d"))
        _c_tbx = (f"{{o0}} = vqtbx{_n}q_u8({{i0}}, {_tables_c(_n, 1)}, {{i{_n + 1}}});" if _q else
                  f"{{o0}} = WB_BD_u8(vqtbx{_n}_u8(WB_D_u8({{i0}}), {_tables_c(_n, 1)}, WB_D_u8({{i{_n + 1}}})));")
        define(f"tbx{_n}_{_arr}", lambda *ops: tbx(*ops), outs=(_spec,), ins=(_spec,) + (V,) * _n + (_spec,),
               asm=f"tbx {{o0:{_arr}}}, {_tables_asm(_n, 1)}, {{i{_n + 1}:{_arr}}}", c=_c_tbx,
               arrangements=(_arr, _arr) + ("16b",) * _n + (_arr,), mnemonic="tbx", tied=(0,),
               sched=f"neon.tbx.{_n}" + ("" if _q else ".d"))
