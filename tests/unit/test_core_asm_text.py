"""Assembly text from a form's ``asm`` template (isa_models/core/asm_text.py): `virtual_asm` with the
Program's own operands for every registered ISA, the IR-text fallback, and `fill_asm`'s errors."""

from __future__ import annotations

import re

import pytest

from isa_models.core.asm_text import AsmTemplateError, fill_asm, virtual_asm, virtual_register
from isa_models.core.isa import ISA, imm, mem, reg
from isa_models.core.program import Affine, Imm, Instr, Mem, VReg
from isa_models.registry import plugins
from workbench.errors import UserError

_ISAS = {p.name: p.isa for p in plugins() if p.isa is not None}


def _isa(name: str):
    assert name in _ISAS, f"ISA {name} is not registered"
    return _ISAS[name]


def _v(n: int, cls: str = "v") -> VReg:
    return VReg(n, cls)


W = Mem("w", Affine(128, (("kb", 4096), ("t", 163840))))


def test_hvx_accumulating_multiply_and_memory_operands():
    hvx = _isa("hvx")
    acc = Instr("vrmpy_ubb_vv_acc", (_v(13),), (_v(13), _v(24), _v(21)))
    assert virtual_asm(acc, hvx) == "%v13.w += vrmpy(%v24.ub,%v21.b)"
    assert virtual_asm(Instr("vmem_load", (_v(22),), (W,)), hvx) == "%v22 = vmem(w[4096*kb + 163840*t + 128])"
    assert virtual_asm(Instr("vmem_store", (W,), (_v(5),)), hvx) == "vmem(w[4096*kb + 163840*t + 128]) = %v5"


def test_hvx_register_pairs_render_high_then_low():
    hvx = _isa("hvx")
    lut = Instr("vlut16", (_v(2), _v(3)), (_v(7), _v(8), _v(1, "r")))
    assert virtual_asm(lut, hvx) == "%v3:%v2.h = vlut16(%v7.b,%v8.h,%v1)"
    add = Instr("vadd_b_dv", (_v(2), _v(3)), (_v(4), _v(5), _v(6), _v(7)))
    assert virtual_asm(add, hvx) == "%v3:%v2.b = vadd(%v5:%v4.b,%v7:%v6.b)"


def test_immediates_as_the_isa_writes_them():
    """Hexagon templates write the ``#``; AT&T ones leave the ``$`` to the operand (ISA.asm_immediate)."""
    hvx = _isa("hvx")
    assert virtual_asm(Instr("vlut32_i", (_v(1),), (_v(2), _v(3), Imm(5))), hvx) == "%v1.b = vlut32(%v2.b,%v3.b,#5)"
    avx2 = _isa("avx2")
    assert virtual_asm(Instr("vpsrlw_ymm", (_v(1, "ymm"),), (_v(2, "ymm"), Imm(4))), avx2) == "vpsrlw $4, %v2, %v1"


def test_neon_format_specs_become_view_suffixes():
    neon = _isa("neon")
    dot = Instr("sdot_lane_4s", (_v(1),), (_v(1), _v(2), _v(3), Imm(2)))
    assert virtual_asm(dot, neon) == "sdot %v1.4s, %v2.16b, %v3.4b[2]"
    assert virtual_asm(Instr("ld1r_16b", (_v(4),), (Mem("a", Affine(16)),)), neon) == "ld1r {%v4.16b}, a[16]"
    assert virtual_asm(Instr("dup_lane_16b", (_v(4),), (_v(5), Imm(3))), neon) == "dup %v4.16b, %v5.b[3]"


def _operands(specs, start: int):
    out = []
    for k, s in enumerate(specs):
        out.append(Mem("buf", Affine(64 * k)) if s.is_mem else Imm(1) if s.is_imm else VReg(start + k, s.kind))
    return tuple(out)


@pytest.mark.parametrize("name", sorted(_ISAS))
def test_every_template_renders_with_virtual_operands(name):
    """Each form with a template fills it: no field left, every register it names printed virtually."""
    isa = _ISAS[name]
    done = 0
    for d in isa.instructions.values():
        if not d.asm:
            continue
        ins = Instr(d.name, _operands(d.outs, 100), _operands(d.ins, 200))
        text = virtual_asm(ins, isa)
        assert not re.search(r"\{[oi]\d", text), (d.name, text)
        named = {int(m) for m in re.findall(r"\{[oi](\d+)", d.asm)}
        assert named, d.name
        for kind, ops in (("o", ins.outs), ("i", ins.ins)):
            for j, x in enumerate(ops):
                if isinstance(x, VReg) and re.search(rf"\{{{kind}{j}[n:}}]", d.asm):
                    assert str(virtual_register(x)) in text, (d.name, text)
        done += 1
    assert done or not isa.instructions


def test_forms_without_a_template_fall_back_to_the_program_text():
    isa = ISA("plain", register_files={"v": (4, 16)})
    isa.instruction("vadd", outs=(reg("v", 16),), ins=(reg("v", 16), reg("v", 16)))(lambda a, b: a)
    ins = Instr("vadd", (_v(1),), (_v(2), _v(3)), comment="sum")
    assert virtual_asm(ins, isa) == str(ins) == "%v1 = vadd %v2, %v3    # sum"


def test_fill_asm_with_an_architectural_spelling_and_its_errors():
    isa = ISA("spell", register_files={"v": (4, 16)})
    isa.instruction("ld", outs=(reg("v", 16),), ins=(mem(16), imm(4)), asm="{o0} = ld({i0},#{i1})")(lambda m, k: m)
    isa.instruction("bad", outs=(reg("v", 16),), ins=(), asm="{o0} = {i3}")(lambda: 0)
    isa.instruction("none", outs=(reg("v", 16),), ins=())(lambda: 0)

    def arch(kind, j, spec, x):
        return (f"r{x}", str(x)) if not (spec.is_mem or spec.is_imm) else (str(x), None)
    assert fill_asm(isa["ld"], [3], ["[r0]", 2], arch) == "r3 = ld([r0],#2)"
    with pytest.raises(AsmTemplateError, match="names operand 'i3'"):
        fill_asm(isa["bad"], [1], [], arch)
    with pytest.raises(UserError, match="'none' has no assembly template"):
        fill_asm(isa["none"], [1], [], arch)
