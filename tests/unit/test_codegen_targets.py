"""Codegen targets: the registry, the x86_avx2 target's facts and clock, and generic modules that
name no target.

Covers kernels.codegen.targets (target_names, get_target, target_for_isa, resolve_target, Target),
targets.x86_avx2 and targets.x86_tsc (the rdtsc clock: its figures are measurements, so only
their plausibility and argument checks are asserted).
"""

from __future__ import annotations

import dataclasses
import io
import platform
import re
import tokenize
from pathlib import Path

import pytest

from isa_models.avx2 import ISA
from isa_models.core.isa import mem, reg, imm
from kernels.codegen import host
from kernels.codegen.targets import Target, get_target, resolve_target, target_for_isa, target_names
from workbench.errors import UnknownNameError, UserError

X86 = get_target("x86_avx2")
CODEGEN = Path(__file__).resolve().parents[2] / "kernels" / "codegen"


def test_the_registry_finds_the_target_modules_only():
    assert "x86_avx2" in target_names() and "x86_tsc" not in target_names()   # x86_tsc is a helper: no TARGET
    assert isinstance(X86, Target) and X86.name == "x86_avx2" and X86.isa == "avx2"
    with pytest.raises(UnknownNameError, match=rf"unknown codegen target 'x86_tsc'; valid: {', '.join(target_names())}$"):
        get_target("x86_tsc")
    with pytest.raises(UnknownNameError, match="unknown codegen target 'arm'; valid: .*x86_avx2"):
        get_target("arm")


def test_an_isa_finds_its_target_through_its_plugin():
    assert target_for_isa("avx2") is X86
    with pytest.raises(UnknownNameError, match=r"no codegen target emits ISA 'npu'; targets: .*x86_avx2 \(ISA avx2\)"):
        target_for_isa("npu")
    assert resolve_target(None, "avx2") is X86 and resolve_target("x86_avx2", "avx2") is X86
    with pytest.raises(UserError, match="emits ISA avx2, not npu"):
        resolve_target(X86, "npu")


def test_x86_facts_c_types_and_flags():
    assert X86.c_type("ymm") == "__m256i" and X86.c_type("gpr") == "int64_t"
    with pytest.raises(UserError, match="no C type for register file 'zmm'; known: ymm, gpr"):
        X86.c_type("zmm")
    assert "#include <immintrin.h>" in X86.c_prelude and "WB_ZEXT128" in X86.c_prelude
    assert X86.flags_for() == ("-O2", "-mavx2", "-mfma")
    assert X86.flags_for(("avx512vl", "avx512_vnni", "avx2")) == ("-O2", "-mavx2", "-mfma", "-mavx512vl",
                                                                   "-mavx512vnni")
    with pytest.raises(UserError, match="no compiler flag known for CPU feature 'amx_tile'"):
        X86.flags_for(("amx_tile",))
    needed = {f for d in ISA.instructions.values() for f in d.attrs.get("requires", ())}
    assert needed <= set(X86.extension_flags)                  # every extension the ISA uses has a flag
    assert X86.compilers[0] == "gcc" and X86.measurement_compiler() in X86.measurement_compilers + X86.compilers
    assert X86.emulator is None and X86.clock is not None and X86.clock.name == "tsc"


def test_x86_asm_operands_in_att_syntax():
    assert X86.asm_operand(imm(8), 5) == "$5"
    assert X86.asm_operand(mem(32), "64(%rsi,%rax)") == "64(%rsi,%rax)"
    assert X86.asm_operand(reg("ymm", 32), 3) == "%ymm3" and X86.asm_operand(reg("ymm", 16), 3) == "%xmm3"
    assert X86.asm_operand(reg("gpr", 8), 0) == "%rax" and X86.asm_operand(reg("gpr", 8), 9) == "%r9"
    assert X86.asm_comment == "#" and "j" in X86.branch_prefixes


def test_native_problem_and_run_prefix(monkeypatch):
    monkeypatch.setattr(host, "host_arch", lambda: "x86_64")
    monkeypatch.setattr(host, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert X86.native_problem() is None and X86.run_prefix() == ()
    assert "lacks avx512_vnni (codegen target x86_avx2)" in X86.native_problem(("avx512_vnni",))
    with pytest.raises(UserError, match="lacks avx512vl.*names no emulator"):
        X86.run_prefix(("avx512vl",))
    emulated = dataclasses.replace(X86, emulator=("qemu-x86_64", "-cpu", "max"))
    assert emulated.run_prefix(("avx512vl",)) == ("qemu-x86_64", "-cpu", "max")
    monkeypatch.setattr(host, "host_arch", lambda: "aarch64")
    assert "runs on x86_64/AMD64 hosts, this one is aarch64" in X86.native_problem()


def _code_names(path: Path) -> list[str]:
    """Names and string literals of `path` outside comments and docstrings (a docstring: a
    string that opens the module or an indented block)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    out, prev = [], None
    for tok in tokens:
        if tok.type in (tokenize.NL, tokenize.COMMENT):
            continue
        if tok.type in strings and not (prev is None or prev.type == tokenize.INDENT):
            out.append(tok.string)
        elif tok.type == tokenize.NAME:
            out.append(tok.string)
        prev = tok
    return out


@pytest.mark.parametrize("module", ["c_emit.py", "build.py", "native.py", "host.py", "timing.py", "__init__.py",
                                    "run/__init__.py", "run/buffers.py", "run/inprocess.py", "run/standalone.py",
                                    "targets/__init__.py"])
def test_generic_modules_name_no_target(module):
    code = " ".join(_code_names(CODEGEN / module))
    assert not re.search(r"avx2|ymm|__m256|rdtsc|x86", code, re.IGNORECASE), module


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or host.missing_cpu_flags(["avx2"]),
                    reason="the rdtsc clock needs an x86-64 AVX2 host")
def test_the_tsc_clock_is_plausible_and_checks_its_arguments():
    from kernels.codegen.targets.x86_tsc import calibrate, tsc_hz, vector_alu_throughput

    cal = X86.clock.calibrate()
    assert cal is calibrate() and cal.tsc_per_cycle > 0 and cal.repeats >= 1 and cal.overhead_ticks >= 0
    hz = tsc_hz(seconds=0.05)
    assert 0.3e9 < hz < 10e9                                  # every x86 TSC of the last 15 years
    assert 0.3e9 < hz / cal.tsc_per_cycle < 10e9              # and the core clock it implies
    with pytest.raises(ValueError, match="seconds"):
        tsc_hz(seconds=0)
    assert vector_alu_throughput(repeats=2, iterations=500) > 0   # a rate, not a timed assertion
    with pytest.raises(ValueError, match="repeats 0"):
        vector_alu_throughput(repeats=0)
