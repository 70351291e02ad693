"""The aarch64_neon codegen target: flags, operand syntax, and a Program built, run under QEMU and
cut into its inner loop.

Covers kernels/codegen/targets/aarch64_neon.py and the generic pieces it relies on
(`Target.flags_for` with per-compiler flags and ``+feature`` -march suffixes, the standalone
runner behind the emulator prefix, `emit_asm`'s loop extraction with AArch64 branches). The
run tests skip, naming the tool, when clang-19, the aarch64 cross gcc or qemu-aarch64 is missing.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.execute import execute
from isa_models.core.isa import imm, mem, reg
from isa_models.neon import ISA
from kernels.codegen import emit_asm, emit_c, run_standalone
from kernels.codegen.targets import get_target, target_for_isa
from kernels.codegen.targets.aarch64_neon import BRANCH_PREFIXES, GeneralRegister, VectorRegister, asm_operand

TARGET = get_target("aarch64_neon")


def _need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (CI installs it)")


def test_target_facts():
    assert target_for_isa("neon") is TARGET or target_for_isa("neon") == TARGET
    assert TARGET.c_types == {"v": "uint8x16_t", "x": "int64_t"}
    assert TARGET.emulator == ("qemu-aarch64", "-cpu", "max")
    assert TARGET.host_arches == ("aarch64", "arm64") and TARGET.clock is None


def test_flags_build_one_march_string():
    assert TARGET.flags_for((), "clang-19") == ("-O2", "-static", "-march=armv8.2-a", "--target=aarch64-linux-gnu",
                                                "-fuse-ld=lld")
    assert TARGET.flags_for(("asimddp", "i8mm", "asimddp"), "aarch64-linux-gnu-gcc") == \
        ("-O2", "-static", "-march=armv8.2-a+dotprod+i8mm")
    assert TARGET.flags_for(("i8mm",)) == TARGET.flags_for(("i8mm",), "clang-19")


def test_asm_operand_views():
    v = asm_operand(reg("v", 16), 3)
    assert isinstance(v, VectorRegister) and f"{v}" == "v3"
    assert f"{v:16b}" == "v3.16b" and f"{v:b}" == "b3" and f"{v:.s}" == "v3.s" and f"{v:4b}" == "v3.4b"
    x = asm_operand(reg("x", 8), 7)
    assert isinstance(x, GeneralRegister) and f"{x}" == "x7" and f"{x:w}" == "w7"
    assert asm_operand(imm(8), 5) == "5" and asm_operand(mem(16), "[x2, #16]") == "[x2, #16]"
    with pytest.raises(ValueError, match="unknown view"):
        f"{x:16b}"


def test_branch_prefixes_never_match_vector_mnemonics():
    for mn in ("bic", "bsl", "bit", "bif"):
        assert not (mn + " ").startswith(BRANCH_PREFIXES)
    for mn in ("b", "b.ne", "bne", "cbnz", "b.lt", "bgt", "tbnz"):
        assert (mn + " ").startswith(BRANCH_PREFIXES), mn


def _sdot_program():
    b = ProgramBuilder(ISA, "neon_sdot_smoke")
    a = b.buffer("a", 256)
    w = b.buffer("w", 4 * 256)
    o = b.buffer("o", 4 * 16, role="output")
    with b.loop("m", 4, parallel=True) as m:
        acc = b.movi_zero_16b()
        with b.loop("k", 16) as k:
            x = b.ld1_16b(a[k * 16])
            y = b.ld1_16b(w[m * 256 + k * 16])
            b.sdot_4s(acc, x, y, out=acc)
        b.st1_16b(o[m * 16], acc)
    return b.build()


def test_emit_c_uses_the_prelude_and_register_types():
    text = emit_c(_sdot_program())
    assert "#include <arm_neon.h>" in text and "uint8x16_t r" in text and "vdotq_s32" in text


@pytest.mark.parametrize("compiler", ["clang-19", "aarch64-linux-gnu-gcc"])
def test_standalone_run_under_qemu_equals_functional(compiler):
    _need(compiler, "qemu-aarch64", *(["ld.lld-19"] if compiler == "clang-19" else []))
    program = _sdot_program()
    rng = np.random.default_rng(1)
    buffers = {"a": rng.integers(0, 256, 256, dtype=np.uint8), "w": rng.integers(0, 256, 1024, dtype=np.uint8)}
    assert np.array_equal(run_standalone(program, buffers, compiler=compiler)["o"], execute(program, buffers)["o"])


@pytest.mark.parametrize("compiler, branch", [("clang-19", "b.ne"), ("aarch64-linux-gnu-gcc", "bne")])
def test_emit_asm_cuts_the_inner_loop(compiler, branch):
    _need(compiler)
    text = emit_asm(_sdot_program(), compiler=compiler)
    body = [line.split()[0] for line in text.splitlines() if line.startswith("\t")]
    assert text.startswith("# LLVM-MCA-BEGIN loop0:m<4,k<16") and "# LLVM-MCA-END" in text
    assert "sdot" in body and body[-1] == branch and "#APP" not in text
