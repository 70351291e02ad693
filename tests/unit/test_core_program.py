"""The Program IR and its builder (isa_models/core/program.py), on the toy ISA.

Affine offsets and memory operands, buffers and roles, loops (nesting, parallel rules),
virtual registers (printed as virtual: ``%v<N>``), instructions and their operand checks, tied
operands, the walk/count/text views of a built Program, and every ProgramError naming its culprit.
"""

from __future__ import annotations

import numpy as np
import pytest

from isa_models.core.isa import ISA, reg
from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import (Affine, Buffer, Imm, Index, Instr, Loop, Mem, Program, ProgramError,
                                     VReg)
from isa_models.core.toy import TOY
from workbench.errors import UserError


# -- affine offsets ---------------------------------------------------------------------------

def test_affine_arithmetic_collects_terms_and_drops_zeros():
    i, j = Index("i"), Index("j")
    a = i * 32 + 16 - j * 4
    assert a == Affine(16, (("i", 32), ("j", -4)))
    assert str(a) == "32*i + -4*j + 16"
    assert (a + j * 4) == Affine(16, (("i", 32),))                 # a cancelled term disappears
    assert (100 - i) == Affine(100, (("i", -1),)) and (2 * (i + 1)) == Affine(2, (("i", 2),))
    assert str(Affine.of(0)) == "0" and str(Affine.of(i)) == "i"
    assert a.indices == frozenset({"i", "j"})


def test_affine_evaluates_and_bounds_over_loop_trips():
    a = Index("i") * 32 - Index("j") * 4 + 16
    assert a.evaluate({"i": 2, "j": 3}) == 68
    assert np.array_equal(a.evaluate({"i": np.arange(3), "j": 1}), [12, 44, 76])     # broadcasts
    assert a.bounds({"i": 4, "j": 5}) == (16 - 16, 16 + 96)


def test_affine_refuses_what_is_not_affine():
    with pytest.raises(ProgramError, match="not an affine offset: 1.5"):
        Affine.of(1.5)
    with pytest.raises(ProgramError, match="not an affine offset: True"):
        Affine.of(True)
    with pytest.raises(ProgramError, match="scale by integers only"):
        Index("i") * 2.0


def test_buffers_give_memory_operands():
    x = Buffer("x", 64)
    m = x[Index("i") * 16 + 8]
    assert m == Mem("x", Affine(8, (("i", 16),))) and x.at(Index("i") * 16 + 8) == m
    assert str(m + 4) == "x[16*i + 12]" and x.role == "input"


# -- builder: buffers, registers, instructions ------------------------------------------------

def test_builder_declares_buffers_with_roles():
    b = ProgramBuilder(TOY, "p")
    assert b.buffer("w", 32, role="const").role == "const"
    with pytest.raises(ProgramError, match="program p: buffer 'w' declared twice"):
        b.buffer("w", 32)
    with pytest.raises(ProgramError, match="buffer 'y' has unknown role 'temp'"):
        b.buffer("y", 32, role="temp")
    with pytest.raises(ProgramError, match="buffer 'z' needs a positive size, got 0"):
        b.buffer("z", 0)


def test_virtual_registers_print_as_virtual():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 32)
    v1, v2 = b.vload(x[0]), b.vload(x[16])
    s = b.vadd(v1, v2)
    assert (v1.id, v2.id, s.id) == (1, 2, 3) and s.cls == "v"
    assert [str(r) for r in (v1, v2, s)] == ["%v1", "%v2", "%v3"]
    named = b.reg("v", "acc")
    assert str(named) == "%v4.acc"
    assert all(str(r).startswith("%v") for r in (v1, named, VReg(171, "ymm")))     # never "%ymm171"
    with pytest.raises(ProgramError, match="ISA toy has no register file 'h'; valid: v"):
        b.reg("h")


def test_instructions_record_operands_and_comments():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 32)
    y = b.buffer("y", 16, role="output")
    k = b.vsplat(7)
    s = b.vadd_m(k, x[16], comment="k + x[16]")
    assert b.vstore(y[0], s) is None                                   # a store returns no register
    p = b.build()
    ins = [node for node in p.body]
    assert ins[0] == Instr("vsplat", (k,), (Imm(7),))
    assert str(ins[1]) == "%v2 = vadd_m %v1, x[16]    # k + x[16]"
    assert str(ins[2]) == "y[0] = vstore %v2"                           # the memory destination is the output


def test_operand_errors_name_the_instruction_and_operand():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 32)
    v = b.vload(x[0])
    with pytest.raises(ProgramError, match="ISA toy has no instruction 'vload_q'; forms of vload: vload, vload_h"):
        b.vload_q(x[0])
    with pytest.raises(ProgramError, match="ISA toy has no instruction 'frobnicate'$"):
        b.emit("frobnicate")
    with pytest.raises(ProgramError, match="vadd: expected 2 input operands, got 1"):
        b.vadd(v)
    with pytest.raises(ProgramError, match="vsplat: operand 0 must be an immediate"):
        b.vsplat(v)
    with pytest.raises(ProgramError, match=r"vload: operand 0 must be memory \(buffer\[offset\]\)"):
        b.vload(v)
    with pytest.raises(ProgramError, match="vadd: operand 1 must be a v register, got Mem"):
        b.vadd(v, x[0])
    with pytest.raises(ProgramError, match="vstore: first operand must be the memory destination"):
        b.vstore(v, v)
    with pytest.raises(AttributeError):
        b._private


def test_register_file_classes_are_checked():
    two = ISA("two", register_files={"v": (4, 16), "m": (2, 2)})

    @two.instruction("vset", outs=[reg("v", 16)], ins=[reg("v", 16)], sched_class="two.set")
    def vset(a):
        return a.copy()

    b = ProgramBuilder(two, "p")
    mask = b.reg("m")
    v = b.reg("v")
    with pytest.raises(ProgramError, match="vset: operand 0 is a m register, needs v"):
        b.vset(mask)
    with pytest.raises(ProgramError, match=r"vset: out= register %v\d+ is m, not a v register"):
        b.vset(v, out=mask)


def test_tied_operand_must_be_the_destination():
    b = ProgramBuilder(TOY, "p")
    x = b.buffer("x", 32)
    acc, a, c = b.vzero(), b.vload(x[0]), b.vload(x[16])
    with pytest.raises(ProgramError, match="vmac: input 0 is tied to destination 0; pass out= the same"):
        b.vmac(acc, a, c)
    with pytest.raises(ProgramError, match="input 0 is tied"):
        b.vmac(acc, a, c, out=a)
    assert b.vmac(acc, a, c, out=acc) is acc


def test_unknown_buffer_and_index_outside_its_loop():
    b = ProgramBuilder(TOY, "p")
    b.buffer("x", 256)
    with pytest.raises(ProgramError, match="vload: unknown buffer 'nope'"):
        b.vload(Buffer("nope", 16)[0])
    x = Buffer("x", 256)
    with b.loop("i", 4) as i:
        b.vload(x[i * 16])
    with pytest.raises(ProgramError, match=r"vload: offset 16\*i of x uses index \['i'\] outside its loop"):
        b.vload(x[i * 16])


# -- loops --------------------------------------------------------------------------------------

def test_loops_nest_and_are_checked():
    b = ProgramBuilder(TOY, "p")
    with pytest.raises(ProgramError, match="loop 'i' needs a positive trip count, got 0"):
        with b.loop("i", 0):
            pass
    with b.loop("t", 2, parallel=True):
        with pytest.raises(ProgramError, match="loop index 't' already in use"):
            with b.loop("t", 2):
                pass
        with b.loop("k", 3):
            with pytest.raises(ProgramError, match="parallel loop 'u' inside a sequential loop"):
                with b.loop("u", 2, parallel=True):
                    pass
            with pytest.raises(ProgramError, match="program p: build\\(\\) inside an open loop"):
                b.build()
    assert [type(n) for n in b.build().body] == [Loop]


# -- built programs -----------------------------------------------------------------------------

def _tiled_sum() -> Program:
    b = ProgramBuilder(TOY, "tiled_sum", M=2, K=64)
    x = b.buffer("x", 128)
    y = b.buffer("y", 32, role="output")
    with b.loop("t", 2, parallel=True) as t:
        acc = b.vsplat(0)
        with b.loop("k", 4) as k:
            b.vadd(acc, b.vload(x[t * 64 + k * 16]), out=acc, comment="acc += x")
        b.vstore(y[t * 16], acc)
    return b.build()


def test_walk_instructions_and_dynamic_count():
    p = _tiled_sum()
    assert p.meta == {"M": 2, "K": 64} and p.peak_live == {"v": 2}
    walked = [(tuple(lp.index for lp in stack), node.op if isinstance(node, Instr) else f"loop {node.index}")
              for stack, node in p.walk()]
    assert walked == [((), "loop t"), (("t",), "vsplat"), (("t",), "loop k"), (("t", "k"), "vload"),
                      (("t", "k"), "vadd"), (("t",), "vstore")]
    assert [ins.op for _, ins in p.instructions()] == ["vsplat", "vload", "vadd", "vstore"]
    assert p.dynamic_count() == 2 * (1 + 4 * 2 + 1)
    assert p.body[0].parallel and not p.body[0].body[1].parallel


def test_to_text():
    assert _tiled_sum().to_text() == "\n".join([
        "program tiled_sum (toy)",
        "  buffer x: 128 bytes (input)",
        "  buffer y: 32 bytes (output)",
        "  parallel for t in 0..2:",
        "    %v1 = vsplat $0",
        "    for k in 0..4:",
        "      %v2 = vload x[16*k + 64*t]",                   # terms sorted by index name
        "      %v1 = vadd %v1, %v2    # acc += x",
        "    y[16*t] = vstore %v1",
    ])


def test_peak_live_registers_over_the_isa_are_refused():
    b = ProgramBuilder(TOY, "hog")
    x = b.buffer("x", 16 * 9)
    with b.loop("i", 2):
        regs = [b.vload(x[16 * n]) for n in range(9)]                 # 9 live inside the loop, TOY has 8
        total = regs[0]
        for r in regs[1:]:
            total = b.vadd(total, r)
    with pytest.raises(ProgramError, match="program hog: 9 v registers live at once, the ISA toy has 8"):
        b.build()


def test_program_error_is_a_user_error():
    assert issubclass(ProgramError, UserError) and issubclass(ProgramError, ValueError)
