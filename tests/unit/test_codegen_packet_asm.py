"""The packet assembly renderer (kernels/codegen/packet_asm.py) with the Hexagon syntax
(kernels/codegen/targets/hexagon_asm.py): register allocation, address streams, loops, the
`emit_asm` hook. llvm-mc itself runs in tests/oracle/test_hvx_llvm_mc.py."""

from __future__ import annotations

import re

import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.packets import packetize
from isa_models.registry import get_isa
from kernels.codegen.c_emit import emit_asm
from kernels.codegen.packet_asm import AsmError, allocate_registers, packet_text, plan_streams, render_packets
from kernels.codegen.targets.hexagon_asm import SYNTAX

PLUGIN = get_isa("hvx")
HVX = PLUGIN.isa
MACHINE = PLUGIN.load_machine("snapdragon-8-gen-2")


def _lut(trip: int = 8):
    b = ProgramBuilder(HVX, "lut")
    src = b.buffer("src", 128 * trip * 4)
    tab = b.buffer("tab", 128)
    dst = b.buffer("dst", 128 * 8, role="output")
    t = b.vmem_load(tab[0])
    r = b.tfrsi(2)
    with b.loop("m", 4) as m:
        a0 = b.vxor(t, t)
        a1 = b.vxor(t, t)
        with b.loop("k", trip) as k:
            x = b.vmem_load_tmp(src[m * 128 * trip + k * 128])
            lo, hi = b.vlut16(x, t, r)
            b.vadd_h(a0, lo, out=a0)
            b.vadd_h(a1, hi, out=a1)
        b.vmem_store(dst[m * 256], a0)
        b.vmem_store(dst[m * 256 + 128], a1)
    return b.build()


def test_registers_pairs_limits_and_sharing():
    prog = _lut()
    items = packetize(prog.body, MACHINE, isa=HVX)
    regs = allocate_registers(prog, items, SYNTAX)
    lut = next(ins for _, ins in prog.instructions() if ins.op == "vlut16")
    lo, hi = lut.outs
    assert regs[lo] % 2 == 0 and regs[hi] == regs[lo] + 1           # Vdd: even low, next high
    assert regs[lut.ins[2]] < 8                                      # Rt8 operand
    loaded, acc = prog.body[0].outs[0], next(ins for _, ins in prog.instructions() if ins.op == "vxor").outs[0]
    accs = [ins.outs[0] for _, ins in prog.instructions() if ins.op == "vxor"]
    assert regs[accs[0]] != regs[accs[1]]                            # both live through loop k
    assert regs[loaded] not in (regs[accs[0]], regs[accs[1]], regs[lo], regs[hi])   # table read in the loop


def test_registers_run_out():
    b = ProgramBuilder(HVX, "many")
    src = b.buffer("src", 128 * 33)
    dst = b.buffer("dst", 128, role="output")
    vs = [b.vmem_load(src[128 * k]) for k in range(32)]
    acc = vs[0]
    for v in vs[1:]:
        acc = b.vadd_b(acc, v)
    b.vmem_store(dst[0], acc)
    prog = b.build()
    items = packetize(prog.body, MACHINE, isa=HVX)
    # the first vadd shares the last load's packet and reads two values there: 31 registers suffice
    assert len(items[31].instrs) == 2
    regs = allocate_registers(prog, items, SYNTAX, reserved={"v": [0]})
    assert len({regs[v] for v in vs}) == 31 and 0 not in regs.values()
    with pytest.raises(AsmError, match="no free v register"):
        allocate_registers(prog, items, SYNTAX, reserved={"v": [0, 1]})


def test_streams_post_increment_and_outer_steps():
    prog = _lut()
    items = packetize(prog.body, MACHINE, isa=HVX)
    streams, plan = plan_streams(prog, items, SYNTAX)
    by = {s.buffer: s for s in streams}
    assert by["src"].postinc == "k" and by["src"].modifier is None
    assert by["dst"].postinc is None and sorted(by["dst"].consts) == [0, 128]
    text = render_packets(prog, MACHINE, SYNTAX)
    assert re.search(r"v\d+\.tmp = vmem\(r\d+\+\+#1\)", text)          # src advances by one vector
    assert re.search(r"vmem\(r\d+\+#1\) = v\d+", text)                 # dst+128 as an offset
    # loop m: src needs no step (m * 1024 = 8 k-steps), dst steps by 256 at the end of m
    assert re.findall(r"r\d+ = add\(r\d+,#(-?\d+)\)\n\t\}:endloop1", text) == ["256"]


def test_loops_and_big_trips():
    text = render_packets(_lut(trip=2000), MACHINE, SYNTAX)
    assert re.search(r"r(\d+) = #2000", text) and re.search(r"loop0\(\.Lwb_k_\d+,r\d+\)", text)
    assert "loop1(.Lwb_m_0,#4)" in text
    assert text.count(":endloop0") == 1 and text.count(":endloop1") == 1
    assert text.rstrip().endswith(".size wb_lut, .-wb_lut") and "jumpr r31" in text


def test_emit_asm_renders_the_packets_for_a_packet_target():
    prog = _lut()
    text = emit_asm(prog, machine=MACHINE)
    assert text == render_packets(prog, MACHINE, SYNTAX)
    assert emit_asm(prog) == render_packets(prog, PLUGIN.load_machine(PLUGIN.default_machine), SYNTAX)


def test_packet_text_of_one_packet():
    b = ProgramBuilder(HVX, "one")
    src = b.buffer("src", 128)
    with b.packet():
        x = b.vmem_load_tmp(src[0])
        b.vlut16(x, b.reg("v"), b.reg("r"))
    prog = b.build()
    lines = packet_text([ins for _, ins in prog.instructions()], HVX, SYNTAX)
    assert lines[0].strip() == "{" and lines[-1].strip() == "}"
    assert "v0.tmp = vmem(r8+#0)" in lines[1] and "v3:2.h = vlut16(v0.b,v4.h,r0)" in lines[2]


def test_address_steps_leave_a_slot_per_constant_extender():
    """An outer-loop address step beyond #s16 (``##``) takes a constant-extender slot: the steps
    fill packets of at most 4 slots (llvm-mc: "out of slots" otherwise)."""
    b = ProgramBuilder(HVX, "far")
    srcs = [b.buffer(f"s{i}", 2 * 65536) for i in range(3)]
    dst = b.buffer("dst", 256, role="output")
    with b.loop("m", 2) as m:
        acc = b.vsplat_w(b.tfrsi(0))
        with b.loop("k", 4) as k:
            for s in srcs:
                b.vadd_w(acc, b.vmem_load(s[m * 65536 + k * 128]), out=acc)
        b.vmem_store(dst[m * 128], acc)
    asm = render_packets(b.build(), MACHINE, SYNTAX)
    steps = re.findall(r"address steps / loop control of loop m\n\t\{\n(.*?)\n\t\}", asm, re.S)
    slots = [sum(SYNTAX.slots_taken(line) for line in packet.splitlines()) for packet in steps]
    assert sum(packet.count("##65024") for packet in steps) == 3
    assert len(steps) == 2 and max(slots) <= MACHINE.slots, steps
