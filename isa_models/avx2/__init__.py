"""The x86 AVX2 ISA model (plus the EVEX AVX512-VNNI ``vpdpbusd ymm`` form).

`ISA` holds one `InstrDef` per instruction form: bit-exact semantics over ``(P, nbytes)`` uint8
values, operand specs, the scheduling class the machine TOMLs time (``avx2.<mnemonic>``, see
docs/adding_an_instruction.md), an AT&T assembly template and a C-intrinsics template (macros in
`C_PRELUDE`). Families live in arith, madd, logic, shift, shuffle, convert, loadstore and
floatops (fp32); the native oracle (tests/oracle/test_avx2_native.py) checks every form against
this CPU.
"""

from isa_models.avx2.forms import AVX2 as ISA, C_PRELUDE, CPU_FLAG_TO_GCC
from isa_models.avx2 import arith, convert, floatops, logic, loadstore, madd, shift, shuffle  # noqa: F401

__all__ = ["ISA", "C_PRELUDE", "CPU_FLAG_TO_GCC", "vector_alu_ports"]


def vector_alu_ports(machine) -> tuple[str, ...]:
    """The vector ALU pipes of an AVX2 machine: the ports a plain vpaddw issues to (Zen 4 FP0-FP3,
    Golden Cove p0/p1/p5). Probes of full-core throughput and per-pipe pressure tables use it."""
    return machine.timing("avx2.vpaddw").ports[0]
