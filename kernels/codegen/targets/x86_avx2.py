"""The x86-64 AVX2 codegen target: C intrinsics for gcc/clang, run natively, timed with rdtsc.

Codegen target (`kernels.codegen.targets`) of ISA ``avx2`` (`isa_models.avx2`, whose ``c``
templates and their macro prelude `C_PRELUDE` it emits). Virtual ``ymm`` registers are
``__m256i`` locals (an xmm operand is a ymm register used at width 16, so its value lives in an
``__m256i`` too, narrowed by the templates' ``WB_LO128``/``WB_ZEXT128``), ``gpr`` ones
``int64_t``. Builds use ``-O2 -mavx2 -mfma`` plus one flag per extension an instruction
``requires`` (``-mavx512vl -mavx512vnni`` for the EVEX ``vpdpbusd ymm``). It runs natively on an
x86-64 CPU with AVX2 (no emulator is named) and is timed by the fenced-rdtsc clock of `x86_tsc`.
"""

from __future__ import annotations

from isa_models.avx2 import C_PRELUDE
from kernels.codegen.targets import Target
from kernels.codegen.targets.x86_tsc import CLOCK

__all__ = ["TARGET", "ISA", "CPU_FLAG_TO_GCC", "asm_operand", "measurement_compiler"]

#: the ISA this target emits (also `TARGET.isa`)
ISA = "avx2"

#: /proc/cpuinfo flag -> compiler option, for instructions whose attrs name ``requires``.
CPU_FLAG_TO_GCC = {"avx2": "-mavx2", "avx512vl": "-mavx512vl", "avx512_vnni": "-mavx512vnni"}

_GPRS = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", *(f"r{k}" for k in range(8, 16)))


def asm_operand(spec, value) -> str:
    """One operand in AT&T syntax: ``$imm``, an address as given, ``%ymmN``/``%xmmN`` by operand
    width, a gpr by its 64-bit name."""
    if spec.is_imm:
        return f"${int(value)}"
    if spec.is_mem:
        return str(value)
    if spec.kind == "gpr":
        return f"%{_GPRS[int(value)]}"
    return f"%{'xmm' if spec.width == 16 else 'ymm'}{int(value)}"


TARGET = Target(
    name="x86_avx2",
    isa=ISA,
    description="x86-64 AVX2 (+ AVX512-VNNI ymm forms): C intrinsics, gcc/clang, native, rdtsc",
    c_prelude=C_PRELUDE,
    c_types={"ymm": "__m256i", "gpr": "int64_t"},
    compilers=("gcc", "clang"),
    measurement_compilers=("clang", "gcc"),    # see measurement_compiler below
    base_flags=("-O2", "-mavx2", "-mfma"),
    extension_flags=CPU_FLAG_TO_GCC,
    host_arches=("x86_64", "AMD64"),
    host_flags=("avx2",),
    asm_operand=asm_operand,
    emulator=None,
    asm_comment="#",
    branch_prefixes=("j",),
    clock=CLOCK)


def measurement_compiler() -> str:
    """`TARGET.measurement_compiler()`: clang when on PATH (it compiles the emitted C nearly one
    instruction per Program instruction), else gcc (gcc 12 adds register copies around vpdpbusd
    and spills in tl2: benchmarks/fidelity.py). For the x86 benchmarks and probes."""
    return TARGET.measurement_compiler()
