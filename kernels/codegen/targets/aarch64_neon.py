"""The AArch64 NEON codegen target: C with arm_neon.h for clang-19 or the aarch64 cross gcc,
linked statically, run natively on an Arm host or under ``qemu-aarch64 -cpu max`` elsewhere.

Codegen target (`kernels.codegen.targets`) of ISA ``neon`` (`isa_models.neon`, whose ``c``
templates and their macro prelude `C_PRELUDE` it emits). Virtual ``v`` registers are
``uint8x16_t`` locals, ``x`` ones ``int64_t``. Builds use ``-O2 -static`` (clang-19 adds
``--target=aarch64-linux-gnu -fuse-ld=lld``) and
``-march=armv8.2-a`` plus one ``+feature`` per extension an instruction ``requires``
(``asimddp`` -> ``+dotprod``, ``i8mm`` -> ``+i8mm``), merged into a single ``-march`` string
by `Target.flags_for` (an extension flag of the form ``+x`` is appended to the base
``-march``). Assembly operands render as ``v<N>`` with the form's arrangement taken from the
template's format spec (``{o0:16b}`` -> ``v3.16b``, ``{o0:b}`` -> ``b3``, ``{i0:.s}`` -> ``v3.s``),
general registers as ``x<N>`` / ``w<N>``, immediates as bare numbers (templates write ``#``),
memory operands as given. There is no native clock: cycles come from the models and llvm-mca.
"""

from __future__ import annotations

from isa_models.neon import C_PRELUDE
from kernels.codegen.targets import Target

__all__ = ["TARGET", "ISA", "CPU_FLAG_TO_MARCH", "VectorRegister", "GeneralRegister", "asm_operand"]

#: the ISA this target emits (also `TARGET.isa`)
ISA = "neon"

#: /proc/cpuinfo feature -> the -march extension that enables it (GCC/clang AArch64 options)
CPU_FLAG_TO_MARCH = {"asimddp": "+dotprod", "i8mm": "+i8mm"}

_SCALAR_VIEWS = ("b", "h", "s", "d", "q")

#: branch mnemonics ending an extracted loop: clang writes b.ne, gcc bne; "b " is the plain b
#: (never a prefix of bic, bsl, bit, bif: the generic matcher appends a space to the mnemonic)
_CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le")
BRANCH_PREFIXES = ("b.", "b ", "cbz", "cbnz", "tbz", "tbnz", *(f"b{c} " for c in _CONDITIONS))


class VectorRegister(str):
    """``v<N>`` whose format spec picks the view: ``16b`` -> ``v<N>.16b``, ``.s`` -> ``v<N>.s``
    (element, for ``[lane]``), ``b``/``h``/``s``/``d``/``q`` -> the scalar register ``s<N>``."""

    def __new__(cls, number: int):
        obj = super().__new__(cls, f"v{int(number)}")
        obj.number = int(number)
        return obj

    def __format__(self, spec: str) -> str:
        name = str.__str__(self)
        if not spec:
            return name
        if spec in _SCALAR_VIEWS:
            return f"{spec}{self.number}"
        return f"{name}{spec}" if spec.startswith(".") else f"{name}.{spec}"


class GeneralRegister(str):
    """``x<N>``; format spec ``w`` gives the 32-bit view ``w<N>``."""

    def __new__(cls, number: int):
        obj = super().__new__(cls, f"x{int(number)}")
        obj.number = int(number)
        return obj

    def __format__(self, spec: str) -> str:
        if spec in ("", "x"):
            return str.__str__(self)
        if spec == "w":
            return f"w{self.number}"
        raise ValueError(f"aarch64 general register: unknown view {spec!r} (x or w)")


def asm_operand(spec, value):
    """One operand in AArch64 syntax: an immediate as its number, a memory operand as its
    address string (``[x1]``), a general register as `GeneralRegister`, a vector register as
    `VectorRegister` (the template's format spec picks the view)."""
    if spec.is_imm:
        return str(int(value))
    if spec.is_mem:
        return str(value)
    if spec.kind == "x":
        return GeneralRegister(value)
    return VectorRegister(value)


TARGET = Target(
    name="aarch64_neon",
    isa=ISA,
    description="AArch64 NEON (+dotprod, +i8mm): arm_neon.h C, clang-19 or aarch64-linux-gnu-gcc, static, "
                "native on Arm or under qemu-aarch64 -cpu max",
    c_prelude=C_PRELUDE,
    c_types={"v": "uint8x16_t", "x": "int64_t"},
    compilers=("clang-19", "aarch64-linux-gnu-gcc"),
    measurement_compilers=("clang-19", "aarch64-linux-gnu-gcc"),
    base_flags=("-O2", "-static", "-march=armv8.2-a"),
    compiler_flags={"clang-19": ("--target=aarch64-linux-gnu", "-fuse-ld=lld")},
    extension_flags=CPU_FLAG_TO_MARCH,
    host_arches=("aarch64", "arm64"),
    host_flags=("asimd",),
    asm_operand=asm_operand,
    emulator=("qemu-aarch64", "-cpu", "max"),
    asm_comment="//",
    branch_prefixes=BRANCH_PREFIXES,
    clock=None)
