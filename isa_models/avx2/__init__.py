"""The x86 AVX2 ISA model (plus the EVEX AVX512-VNNI ``vpdpbusd ymm`` form).

`ISA` holds one `InstrDef` per instruction form: bit-exact semantics over ``(P, nbytes)`` uint8
values, operand specs, the scheduling class the machine TOMLs time (``avx2.<mnemonic>``, see
docs/adding_an_instruction.md), an AT&T assembly template and a C-intrinsics template (macros in
`C_PRELUDE`). Families live in arith, madd, logic, shift, shuffle, convert, loadstore and
floatops (fp32); the native oracle (tests/oracle/test_avx2_native.py) checks every form against
this CPU.
"""

from isa_models.avx2.forms import AVX2 as ISA, C_PRELUDE
from isa_models.avx2 import arith, convert, floatops, logic, loadstore, madd, shift, shuffle  # noqa: F401
from isa_models.registry import IsaPlugin

__all__ = ["ISA", "C_PRELUDE", "vector_alu_ports", "PLUGIN"]

#: The ISA as the layers above the engines see it (`isa_models.registry`).
PLUGIN = IsaPlugin(
    name="avx2",
    description="x86-64 AVX2 (VEX, 256-bit ymm) plus the EVEX AVX512-VNNI vpdpbusd ymm form",
    # zen4: the core the AVX2 model was first calibrated on (docs/benchmarks.md, fidelity.py zen4)
    default_machine="zen4",
    # fastest exact first, as measured on Zen 4 and Golden Cove (docs/benchmarks.md, kernels_avx2.py);
    # i2s (bounded) and tmac (lossy) are never a default
    kernel_preference=("vnni2", "vnni", "tq2", "tl2"),
    isa=ISA,
    codegen_target="x86_avx2",
    crosschecks=("native", "emulator"),
    describe_machine=lambda machine: {"vector ALU": "/".join(vector_alu_ports(machine))},
    # the instruction standing for each kind of work in a roofline (workbench.projection.rates):
    # fp32_fma: no vfmadd form is modelled; vfmadd231ps issues on the FP multiply pipes at vmulps'
    #   throughput on Zen 3/4 (FP0/FP1) and Golden Cove (p0/p1) (uops.info tables), 8 lanes;
    # fp16_convert: vcvtph2ps is not modelled; vcvtdq2ps (the same convert pipes) stands for it;
    # int8_mac: 32 u8 x s8 products per vpmaddubsw, widened by a vpmaddwd on the same multiply
    #   pipes (ggml's AVX2 q8 dot products): 16 MACs per multiply instruction.
    roofline_classes={"fp32_fma": ("avx2.vmulps", 8), "fp32_op": ("avx2.vaddps", 8),
                      "fp16_convert": ("avx2.vcvtdq2ps", 8), "int8_op": ("avx2.vpand", 32),
                      "int8_mac": ("avx2.vpmaddubsw", 16)},
)


def vector_alu_ports(machine) -> tuple[str, ...]:
    """The vector ALU pipes of an AVX2 machine: the ports a plain vpaddw issues to (Zen 4 FP0-FP3,
    Golden Cove p0/p1/p5). Probes of full-core throughput and per-pipe pressure tables use it."""
    return machine.timing("avx2.vpaddw").ports[0]
