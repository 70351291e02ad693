"""The AArch64 Advanced SIMD (NEON) ISA model.

`ISA` holds one `InstrDef` per instruction form, named ``<mnemonic>_<destination arrangement>``
(``add_16b``, ``sdot_4s``, ``tbl2_16b``; the across forms by their source, ``addv_16b``):
bit-exact semantics over ``(P, nbytes)`` uint8 values, operand specs in AArch64 operand order
(accumulators tied as input 0), the scheduling class the machine TOMLs time
(``neon.<mnemonic>``, ``.d`` for 64-bit forms, see `isa_models.neon.forms`), an AArch64
assembly template and a C-intrinsics template (macros in `C_PRELUDE`). Families: loadstore,
arith, widen, dot, table, shift, logic, permute, compare, saturate, floatops. The QEMU oracle
(tests/oracle/test_neon_qemu.py) checks every form against ``qemu-aarch64 -cpu max``.
"""

from isa_models.neon.forms import C_PRELUDE, NEON as ISA
from isa_models.neon import (arith, compare, dot, floatops, loadstore, logic, permute, saturate,  # noqa: F401
                             shift, table, widen)
from isa_models.registry import IsaPlugin

__all__ = ["ISA", "C_PRELUDE", "PLUGIN"]

#: The ISA as the layers above the engines see it (`isa_models.registry`).
PLUGIN = IsaPlugin(
    name="neon",
    description="AArch64 Advanced SIMD (NEON, 128-bit v registers) with DotProd and I8MM",
    # cortex-x4: Snapdragon 8 Gen 3's prime core, the issue's reference phone core
    default_machine="cortex-x4",
    # fastest exact first, by the model on cortex-x4 and cortex-a55 at 2560x2560 (docs/benchmarks.md,
    # benchmarks/neon_kernels.py): rowdot 182k / 893k cycles, i2s 283k / 1.35M, tq2 328k / 2.33M,
    # sdot 364k / 1.71M, tl1 371k / 2.40M, addsub 627k / 3.54M; i2s_mlal (bounded) and tmac (lossy)
    # are never a default
    kernel_preference=("rowdot", "i2s", "tq2", "sdot", "tl1", "addsub"),
    isa=ISA,
    codegen_target="aarch64_neon",
    crosschecks=("emulator",),
    # the instruction standing for each kind of work in a roofline (workbench.projection.rates):
    # fp32_fma fmla .4s (4 lanes), fp32_op fadd .4s, int8_op and .16b, int8_mac sdot (16 MACs);
    # fp16_convert: fcvtl is not modelled; scvtf .4s (the same FP convert pipes) stands for it;
    # fp16_fma: fmla .8h is not modelled; Arm's Neoverse N1/V2 software optimization guides give the
    # FP16 Q-form fmla the .4s form's latency and throughput on the same pipes: fmla with 8 lanes.
    roofline_classes={"fp32_fma": ("neon.fmla", 4), "fp16_fma": ("neon.fmla", 8), "fp32_op": ("neon.fadd", 4),
                      "fp16_convert": ("neon.scvtf", 4), "int8_op": ("neon.and", 16),
                      "int8_mac": ("neon.sdot", 16)},
)
