"""The packet assembly runs: rendered HVX packets, linked with the standalone main, under qemu-hexagon,
give every buffer bit for bit as the functional executor does.

llvm-mc (tests/oracle/test_hvx_llvm_mc.py) proves the packets legal; this proves the rest of what
`kernels.codegen.packet_asm` writes means the Program: register allocation (pairs, values sharing
a register inside a packet), address registers with post-increment, modifier registers and
outer-loop steps, hardware loops (loop0/loop1, a trip above the immediate range) and counted
branches. The assembly is placed in the C file as a top-level ``__asm__`` beside the standalone
runner's ``main`` and the hexagon_hvx target's freestanding runtime, built with its flags.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from isa_models.core.execute import execute
from isa_models.registry import get_isa
from kernels.codegen.build import compile_executable
from kernels.codegen.c_emit import function_name
from kernels.codegen.packet_asm import render_packets
from kernels.codegen.run.standalone import decode_buffers, emit_main, encode_buffers
from kernels.codegen.targets import get_target
from kernels.codegen.targets.hexagon_asm import SYNTAX
from tests.oracle.hvx_packet_programs import deep_program, hvx_kernels, lut_program, nest_program

PLUGIN = get_isa("hvx")
TARGET = get_target("hexagon_hvx")
QEMU = shutil.which("qemu-hexagon")
CLANG = shutil.which(TARGET.compilers[0])
MACHINE = "snapdragon-8-gen-2"

pytestmark = pytest.mark.skipif(QEMU is None or CLANG is None,
                                reason="qemu-hexagon (qemu-user from bookworm-backports) or clang-19 missing")


def run_asm(program, asm: str, buffers) -> dict[str, np.ndarray]:
    """Every buffer after running `asm` (the Program's function) under qemu-hexagon."""
    text = asm.replace("\\", "\\\\").replace('"', '\\"').replace("\n", '\\n"\n"')
    params = ", ".join("uint8_t *" for _ in program.buffers) or "void"
    source = (f"#include <stdint.h>\nvoid {function_name(program)}({params});\n__asm__(\"{text}\");\n"
              + emit_main(program, target=TARGET))
    exe = compile_executable(source, flags=TARGET.flags_for(()), compiler=TARGET.compilers[0])
    proc = subprocess.run([QEMU, str(exe)], input=encode_buffers(program, buffers), capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[:2000]
    return decode_buffers(program, proc.stdout)


def _random_buffers(program, seed: int = 7):
    rng = np.random.default_rng(seed)
    return {n: rng.integers(0, 256, b.size, dtype=np.uint8) for n, b in program.buffers.items()}


def _check(program, machine_name: str = MACHINE):
    asm = render_packets(program, PLUGIN.load_machine(machine_name), SYNTAX)
    buffers = _random_buffers(program)
    got, want = run_asm(program, asm, buffers), execute(program, buffers)
    bad = [n for n in program.buffers if not np.array_equal(got[n], want[n])]
    assert not bad, f"{program.name}: buffers {bad} differ from the functional run\n{asm[:3000]}"
    return asm, buffers, want


@pytest.mark.parametrize("build", [lambda: lut_program(stated=False), lambda: lut_program(stated=True),
                                   deep_program, nest_program], ids=["lut", "lut_stated", "deep", "nest"])
def test_hand_built_programs_run_bit_exact(build):
    _check(build())


def test_a_wrong_address_step_is_caught():
    """The comparison sees a one-vector error in the post-increment (the check can fail)."""
    program = lut_program(stated=False)
    asm, buffers, want = _check(program)
    broken = asm.replace("++#1)", "++#2)", 1)
    assert broken != asm
    got = run_asm(program, broken, buffers)
    assert not all(np.array_equal(got[n], want[n]) for n in program.buffers)


@pytest.mark.slow
@pytest.mark.parametrize("kernel", [k.name for k in hvx_kernels()])
def test_every_kernel_asm_runs_bit_exact(kernel):
    """Each HVX kernel's Program at a small shape it accepts: the packet assembly equals the
    functional run on random buffers (every buffer, not only the result)."""
    from kernels.registry import get

    spec = get(kernel, "hvx")
    params = spec.resolve()
    m = PLUGIN.load_machine(MACHINE)
    if spec.machine_param:
        params[spec.machine_param] = m
    for M, K in ((64, 256), (128, 512), (256, 1024), (640, 2560)):
        try:
            spec.require_shape(M, K, **params)
        except Exception:
            continue
        _check(spec.build(M, K, **params))
        return
    pytest.fail(f"kernel {kernel} accepts none of the small shapes tried")
