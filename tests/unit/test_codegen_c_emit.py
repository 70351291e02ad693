"""C and assembly emission: structure of the emitted C, loop extraction, llvm-mca accepts it.

Covers kernels.codegen.c_emit (emit_c, emit_asm, render_c, render_asm) with the x86_avx2 target
(`kernels.codegen.targets`). Compiling needs gcc (and
clang for the clang path), llvm-mca and llvm-mc for the oracle-side checks; each test that needs
a tool skips with its name when it is absent (all are installed here and in CI).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from isa_models.avx2 import ISA
from isa_models.core.isa import ISA as GenericISA
from isa_models.core.builder import ProgramBuilder
from kernels.codegen.c_emit import emit_asm, emit_c, innermost_loops, program_requirements, render_asm, render_c
from kernels.codegen.targets import get_target
from workbench.errors import UnknownNameError, UserError

X86 = get_target("x86_avx2")


def small_program():
    b = ProgramBuilder(ISA, "shift-and add")            # name needs sanitizing for C
    src = b.buffer("src", 4 * 3 * 32)
    dst = b.buffer("dst.out", 4 * 32, role="output")
    with b.loop("i", 4, parallel=True) as i:
        acc = b.vpxor_zero_ymm()
        with b.loop("k", 3) as k:
            v = b.vmovdqu_load_ymm(src[i * 96 + k * 32])
            b.vpaddb_ymm(acc, b.vpsrlw_ymm(v, 3), out=acc)
        b.vmovdqu_store_ymm(dst[i * 32 + 0], acc)
    return b.build()


def test_emit_c_structure():
    text = emit_c(small_program())
    assert "void wb_shift_and_add(uint8_t *restrict b_src, uint8_t *restrict b_dst_out)" in text
    assert "for (long ix_i = 0; ix_i < 4L; ix_i++) {" in text
    assert "for (long ix_k = 0; ix_k < 3L; ix_k++) {" in text
    assert "r3 = _mm256_srli_epi16(r2, 3);" in text
    assert "(b_src + (96L * ix_i + 32L * ix_k))" in text          # affine offset as pointer arithmetic
    assert text.count('__asm__ volatile("# WB-LOOP-BEGIN 0");') == 1   # only the innermost loop
    assert "#include <immintrin.h>" in text
    assert "    __m256i r1, r2, r3;" in text                      # ymm virtual registers: the target's C type
    assert "(avx2, target x86_avx2)" in text
    assert "WB-LOOP" not in emit_c(small_program(), markers=False)
    assert emit_c(small_program(), target="x86_avx2") == text == emit_c(small_program(), target=X86)


def test_emit_c_rejects_other_isas_and_missing_templates():
    other = GenericISA("toyisa", register_files={"v": (4, 16)})
    with pytest.raises(UnknownNameError, match="no codegen target emits ISA 'toyisa'; targets: .*x86_avx2 "):
        emit_c(ProgramBuilder(other, "p").build())
    with pytest.raises(UserError, match="codegen target x86_avx2 emits ISA avx2, not toyisa"):
        emit_c(ProgramBuilder(other, "p").build(), target="x86_avx2")
    with pytest.raises(UnknownNameError, match="unknown codegen target 'nosuch'; valid: .*x86_avx2"):
        emit_c(small_program(), target="nosuch")
    d = ISA["vpaddb_ymm"]
    import dataclasses
    with pytest.raises(ValueError, match="no C template"):
        render_c(dataclasses.replace(d, c=""), ["o"], ["a", "b"])
    with pytest.raises(ValueError, match="names operand"):
        render_c(d, ["o"], ["a"])


def test_requirements_and_loops():
    assert program_requirements(small_program()) == ()
    b = ProgramBuilder(ISA, "v")
    x = b.buffer("x", 64)
    acc = b.vpxor_zero_ymm()
    v = b.vmovdqu_load_ymm(x[0])
    b.vpdpbusd_ymm(acc, v, v, out=acc)
    assert program_requirements(b.build()) == ("avx512vl", "avx512_vnni")
    assert [[lp.index for lp in stack] for stack in innermost_loops(small_program())] == [["i", "k"]]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_emitted_c_compiles_cleanly():
    proc = subprocess.run(["gcc", "-O2", "-mavx2", "-Wall", "-Werror", "-fsyntax-only", "-x", "c", "-"],
                          input=emit_c(small_program()), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_emit_asm_extracts_the_inner_loop(compiler):
    if shutil.which(compiler) is None:
        pytest.skip(f"needs {compiler}")
    text = emit_asm(small_program(), compiler=compiler)
    lines = [s.split()[0] for s in text.splitlines() if s.startswith("\t")]
    assert text.startswith("# LLVM-MCA-BEGIN loop0:i<4,k<3") and "# LLVM-MCA-END" in text
    for mnemonic in ("vpsrlw", "vpaddb"):
        assert mnemonic in lines
    assert "vmovdqu" in lines or "vpsrlw" in lines
    assert lines[-1].startswith("j")                               # ends at the back-branch
    assert "vzeroupper" not in lines and "ret" not in lines       # nothing from outside the loop


@pytest.mark.skipif(shutil.which("llvm-mca") is None, reason="needs llvm-mca")
def test_llvm_mca_accepts_emitted_asm():
    text = emit_asm(small_program())
    proc = subprocess.run(["llvm-mca", "-mtriple=x86_64", "-mcpu=znver3", "-iterations=50"],
                          input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Code Region - loop0:i<4,k<3" in proc.stdout and "Block RThroughput" in proc.stdout


@pytest.mark.skipif(shutil.which("llvm-mc") is None, reason="needs llvm-mc")
def test_every_asm_template_assembles():
    lines = []
    for d in ISA.instructions.values():
        outs = ["32(%rdi)" if s.is_mem else 0 for s in d.outs]
        ins = ["64(%rsi,%rax)" if s.is_mem else (5 if s.is_imm else j + 1) for j, s in enumerate(d.ins)]
        lines.append(render_asm(d, outs, ins, target=X86))
    proc = subprocess.run(["llvm-mc", "-triple=x86_64", "-mattr=+avx2,+avx512vl,+avx512vnni"],
                          input="\n".join(lines) + "\n", capture_output=True, text=True)
    assert proc.returncode == 0 and "error" not in proc.stderr, proc.stderr[:2000]
    emitted = [s.split()[0] for s in proc.stdout.splitlines() if s.startswith("\t") and not s.startswith("\t.")]
    assert emitted == [d.mnemonic for d in ISA.instructions.values()]


def test_render_asm_widths():
    assert render_asm(ISA["vpmovsxbw_ymm"], [2], [7], target=X86) == "vpmovsxbw %xmm7, %ymm2"
    assert render_asm(ISA["vpsrlw_ymm"], [1], [2, 4], target="x86_avx2") == "vpsrlw $4, %ymm2, %ymm1"
    assert render_asm(ISA["vpmovmskb_ymm"], [0], [3], target=X86) == "vpmovmskb %ymm3, %rax"
    assert np.all([d.asm for d in ISA.instructions.values()])
