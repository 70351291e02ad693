"""The packet listing view (isa_models/core/views/packets.py) over the VLIW engine: packets and
their issue cycles, stalls with reasons, instructions in assembly syntax and as Program text,
text and JSON."""

from __future__ import annotations

import json

import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.timing import time_program
from isa_models.core.views.packets import PacketListingView
from isa_models.registry import get_isa

PLUGIN = get_isa("hvx")
HVX = PLUGIN.isa
MACHINE = PLUGIN.load_machine("snapdragon-8-gen-2")


def _chain():
    """A loop whose vrmpy reads (early, stage 5) the vadd of the packet before: one stall."""
    b = ProgramBuilder(HVX, "chain")
    src = b.buffer("src", 128 * 64)
    dst = b.buffer("dst", 128, role="output")
    w = b.vmem_load(src[0])
    acc = b.vxor(w, w)
    with b.loop("k", 32) as k:
        x = b.vmem_load(src[k * 128 + 128])
        y = b.vadd_b(x, w)
        b.vrmpy_ubb_vv_acc(acc, y, w, out=acc)
    b.vmem_store(dst[0], acc)
    return b.build()


def test_listing_has_packets_cycles_and_stalls():
    view = PacketListingView()
    result = time_program(_chain(), MACHINE, listeners=[view])
    assert view.loop_names()[0] == "k"
    packets = view.packets("k")
    texts = [[i["text"] for i in p["instructions"]] for p in packets]
    assert [len(t) for t in texts] == [1, 1, 1]                  # load | vadd | vrmpy: each reads the last
    assert "vrmpy_ubb_vv_acc" in texts[2][0]
    assert packets[0]["cycle"] == 0 and packets[1]["cycle"] >= 1
    produced = texts[1][0].split(" = ")[0]                         # the vadd's result, read early
    assert packets[2]["stall"] >= 1 and produced in packets[2]["stall_reasons"][0]
    per = result.loops[[lr.loop for lr in result.loops].index("k")].body_cycles_per_iteration
    assert packets[-1]["cycle"] + 1 <= per
    assert any(p in ("MPY0", "MPY1") for p in packets[2]["instructions"][0]["ports"])
    text = view.render_text("k")
    assert text.startswith("Packets of loop k") and "stall" in text and "{" in text
    data = view.to_json()
    json.dumps(data)
    assert data["view"] == "packets" and data["loops"][0]["loop"] == "k"


def test_listing_prints_assembly_syntax_and_keeps_the_program_text():
    """Instructions print from their forms' asm templates with virtual registers (stall reasons
    quote them the same way); ``syntax="program"`` and the JSON keep the Program text."""
    view = PacketListingView()
    time_program(_chain(), MACHINE, listeners=[view])
    packets = view.packets("k")
    load, vadd, vrmpy = (p["instructions"][0] for p in packets)
    reg = lambda text: text.split(" = ")[0]          # noqa: E731
    assert load["text"].startswith(f"{reg(load['text'])} = vmem_load src[128*k + 128]")
    assert load["asm"] == f"{reg(load['text'])} = vmem(src[128*k + 128])"
    assert vadd["asm"].startswith(f"{reg(vadd['text'])}.b = vadd(")
    acc, y, w = vrmpy["text"].split(" = vrmpy_ubb_vv_acc ")[1].split(", ")
    assert vrmpy["asm"] == f"{acc}.w += vrmpy({y}.ub,{w}.b)"
    assert packets[2]["stall_reasons"][0].startswith(f"operand: {vrmpy['asm']} reads {y} ")
    asm = view.render_text("k")
    assert "vmem(src[" in asm and "vrmpy(" in asm and "vrmpy_ubb_vv_acc" not in asm.split("binding:")[0]
    program = [line for line in view.render_text("k", syntax="program").splitlines() if "{" in line]
    assert len(program) == 3 and "vmem_load src[" in program[0] and "vrmpy_ubb_vv_acc" in program[2]
    assert not any("vrmpy(" in line or "vmem(" in line for line in program)
    assert view.headline_text(syntax="program") == view.render_text("k", max_packets=16, syntax="program")
    row = json.loads(json.dumps(view.to_json()))["loops"][0]["packets"][2]["instructions"][0]
    assert row["text"] == vrmpy["text"] and row["asm"] == vrmpy["asm"]
    with pytest.raises(ValueError, match="unknown syntax 'intel'"):
        view.render_text("k", syntax="intel")
