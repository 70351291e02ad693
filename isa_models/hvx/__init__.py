"""The Hexagon HVX ISA model (128-byte mode): bit-exact semantics, ISA facts and the plug-in.

`ISA` holds one `InstrDef` per instruction form: semantics over ``(P, nbytes)`` uint8 values
transcribed from QEMU's ``ext.idef``, operand specs (``v``/``q``/``r`` register files, 128-byte
memory), the scheduling class ``hvx.<LLVM opcode>`` the machine TOMLs time, a Hexagon assembly
template and a C template over clang's ``Q6_*`` intrinsics (`C_PRELUDE`), and ``attrs`` with the
LLVM opcode, the first HVX version and the register pairs (`isa_models.hvx.forms`). Families:
loadstore, alu, widen, shift, multiply, lut, permute, predicate, scalar. The QEMU oracle
(tests/oracle/test_hvx_qemu.py) checks every form against qemu-hexagon.
"""

from isa_models.hvx.forms import HVX as ISA, C_PRELUDE, QEMU_SOURCE
from isa_models.hvx import alu, loadstore, lut, multiply, permute, predicate, scalar, shift, widen  # noqa: F401
from isa_models.registry import IsaPlugin

__all__ = ["ISA", "C_PRELUDE", "QEMU_SOURCE", "PLUGIN"]

#: The ISA as the layers above the engines see it (`isa_models.registry`).
PLUGIN = IsaPlugin(
    name="hvx",
    description="Qualcomm Hexagon HVX, 128-byte vectors (v/q/r registers), VLIW packets",
    # the Snapdragon 8 Gen 3 cDSP (Hexagon v75) is the reference machine (T-MAN's 50 tok/s)
    default_machine="snapdragon-8-gen-3",
    # fastest exact first, by the model on snapdragon-8-gen-3 at 2560x2560, weights in VTCM
    # (docs/benchmarks.md, benchmarks/hvx_kernels.py): fieldmask 7.9k cycles, i2s 10.2k, tman 12.2k,
    # tq2 13.4k, addsub 93k
    kernel_preference=("fieldmask", "i2s", "tman", "tq2", "addsub"),
    isa=ISA,
    codegen_target="hexagon_hvx",
    crosschecks=("emulator",),
    # the instruction standing for each kind of work in a roofline (workbench.projection.rates):
    # int8_mac vrmpy (32 words x 4 byte products = 128 MACs), int8_op vand (128 byte lanes); HVX
    # floating point (qf32/hf) is not modelled, so float work of an HVX run stays on the CPU
    roofline_classes={"int8_mac": ("hvx.V6_vrmpybus", 128), "int8_op": ("hvx.V6_vand", 128)},
)
