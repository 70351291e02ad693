"""llvm-mc as the oracle of HVX packets: every packet the workbench forms assembles, every illegal one
is refused by both with the same reason.

- Every registered HVX kernel on every HVX machine, rendered by `workbench emit --lang asm`'s
  renderer (`kernels.codegen.packet_asm`), assembles with llvm-mc-19 ``-triple=hexagon
  -mcpu=hexagonv73 -mattr=+hvxv73,+hvx-length128b`` (research/toolchain.md), and so do hand-built
  Programs that exercise hardware loops, loop nests deeper than two, strides beyond the
  post-increment range, register pairs and stated packets.
- tests/fixtures/hvx_illegal_packets.toml: packets llvm-mc rejects; `check_packet` rejects each
  with llvm-mc's words (research/isa.md §3.2).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from isa_models.core.packets import check_packet
from isa_models.core.program import Affine, Instr, Mem, VReg
from isa_models.registry import get_isa
from kernels.codegen.c_emit import emit_asm
from kernels.codegen.packet_asm import packet_text, render_packets
from kernels.codegen.targets.hexagon_asm import SYNTAX
from tests.oracle.hvx_packet_programs import deep_program, hvx_kernels, lut_program, nest_program

LLVM_MC = shutil.which("llvm-mc-19")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hvx_illegal_packets.toml"
PLUGIN = get_isa("hvx")
HVX = PLUGIN.isa
MACHINES = PLUGIN.machine_names()
SHAPES = [(2560, 2560), (640, 2560)]

needs_mc = pytest.mark.skipif(LLVM_MC is None, reason="llvm-mc-19 not installed (apt-get install llvm-19)")


def assemble(text: str, tmp_path: Path) -> list[str]:
    """llvm-mc's error messages for `text` (empty: it assembled)."""
    src = tmp_path / "p.s"
    src.write_text(text)
    proc = subprocess.run([LLVM_MC, "-triple=hexagon", "-mcpu=hexagonv73", "-mattr=+hvxv73,+hvx-length128b",
                           "-filetype=obj", "-o", str(tmp_path / "p.o"), str(src)],
                          capture_output=True, text=True, timeout=60)
    errors = re.findall(r"error: (.*)", proc.stderr)
    assert bool(errors) == (proc.returncode != 0), proc.stderr
    return errors


def test_hvx_kernels_are_registered():
    """The kernel sweep below runs over something."""
    assert hvx_kernels(), "no HVX kernel registered (kernels/<family>/hvx.py)"


@needs_mc
@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("kernel", [k.name for k in hvx_kernels()])
def test_every_kernel_packet_assembles(kernel, machine, tmp_path):
    from kernels.registry import get

    spec = get(kernel, "hvx")
    m = PLUGIN.load_machine(machine)
    for M, K in SHAPES:
        params = spec.resolve()
        if spec.machine_param:
            params[spec.machine_param] = m
        try:
            spec.require_shape(M, K, **params)
        except Exception:
            continue
        program = spec.build(M, K, **params)
        text = emit_asm(program, machine=m)
        errors = assemble(text, tmp_path)
        assert not errors, f"{kernel} {M}x{K} on {machine}: {errors[:3]}\n{text[:4000]}"


@needs_mc
@pytest.mark.parametrize("build", [lambda: lut_program(stated=False), lambda: lut_program(stated=True),
                                   deep_program, nest_program], ids=["lut", "lut_stated", "deep", "nest"])
def test_hand_built_programs_assemble(build, tmp_path):
    program = build()
    for machine in MACHINES:
        text = render_packets(program, PLUGIN.load_machine(machine), SYNTAX)
        assert not assemble(text, tmp_path), text
    assert "loop0(" in text and ":endloop0" in text
    if program.name == "endboth":
        assert ":endloop0:endloop1" in text
    if program.name == "deep":
        assert "loop1(" in text and "jump:t" in text and "++m0" in text and "loop0(.Lwb_k_2,r" in text


def _fixtures() -> tuple[str, list[dict]]:
    data = tomllib.loads(FIXTURES.read_text())
    return data["machine"], data["packet"]


def _fixture_packet(entry: dict) -> list[Instr]:
    """Instructions of the fixture's forms, fresh registers except those `same` shares."""
    counter = iter(range(1, 10 ** 6))
    instrs = []
    for name in entry["forms"]:
        d = HVX[name]
        outs = tuple(Mem("buf", Affine(0)) if s.is_mem else VReg(next(counter), s.kind) for s in d.outs)
        ins = tuple(Mem("buf", Affine(0)) if s.is_mem else 0 if s.is_imm else VReg(next(counter), s.kind)
                    for s in d.ins)
        if d.tied:
            ins = tuple(outs[d.tied.index(k)] if k in d.tied else x for k, x in enumerate(ins))
        instrs.append(Instr(name, outs, ins))
    for a, pa, b, pb in entry.get("same", ()):
        src = (instrs[a].outs if pa[0] == "o" else instrs[a].ins)[int(pa[1:])]
        tgt = instrs[b]
        ops = list(tgt.outs if pb[0] == "o" else tgt.ins)
        ops[int(pb[1:])] = src
        instrs[b] = Instr(tgt.op, tuple(ops) if pb[0] == "o" else tgt.outs, tgt.ins if pb[0] == "o" else tuple(ops))
    return instrs


def _llvm_reason(message: str) -> str:
    """llvm-mc's message as a checker reason: the register name dropped from "register `V1'
    modified more than once", case folded."""
    m = re.match(r"register `\w+' (modified more than once)", message)
    return (m.group(1) if m else message).strip().lower()


_MACHINE, _PACKETS = _fixtures()


@needs_mc
@pytest.mark.parametrize("entry", _PACKETS, ids=[p["name"] for p in _PACKETS])
def test_illegal_packets_rejected_by_both_with_one_reason(entry, tmp_path):
    machine = PLUGIN.load_machine(_MACHINE)
    instrs = _fixture_packet(entry)
    err = check_packet(instrs, machine, isa=HVX)
    assert err is not None, f"checker accepts {entry['name']}"
    assert err.reason == entry["reason"], str(err)
    text = "\n".join(["\t.text", *packet_text(instrs, HVX, SYNTAX)]) + "\n"
    errors = assemble(text, tmp_path)
    assert errors, f"llvm-mc accepts {entry['name']}:\n{text}"
    assert _llvm_reason(errors[0]) == entry["reason"], f"{errors}\n{text}"


@needs_mc
def test_fixture_packets_minus_one_instruction_assemble(tmp_path):
    """The fixtures fail for the reason named, not for their syntax: each one's legal prefix (one
    instruction fewer, where that is a packet the checker accepts) assembles."""
    machine = PLUGIN.load_machine(_MACHINE)
    checked = 0
    for entry in _PACKETS:
        instrs = _fixture_packet(entry)[:-1]
        if instrs and check_packet(instrs, machine, isa=HVX) is None:
            text = "\n".join(["\t.text", *packet_text(instrs, HVX, SYNTAX)]) + "\n"
            assert not assemble(text, tmp_path), f"{entry['name']} minus its last instruction:\n{text}"
            checked += 1
    assert checked >= len(_PACKETS) // 2
