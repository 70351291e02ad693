"""Shared pieces of the NEON kernels: the 4-row horizontal sum and the NEON `KernelSpec` helper.

Kernel layer, the twin of `kernels.avx2_common` (the ISA-independent helpers, `int32_rows`,
`check_q`, `q_sum_bytes`, `block_sums`, live in `kernels.common`). Every NEON kernel writes its
int32 accumulators to an output buffer "acc" and finishes a tile of 4 rows with `store_row_sums`:
three ``addp v.4s`` fold four int32x4 row accumulators into their four totals (what a compiler
makes of bitnet.cpp's and ggml's per-row ``vaddvq_s32`` / ``vaddlvq_s32`` when four rows end
together), then one ``st1``. NEON has immediate vectors (``movi``), so masks need no const buffer.
"""

from __future__ import annotations

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Mem, VReg
from kernels.common import int32_rows, kernel_spec
from kernels.registry import KernelSpec

__all__ = ["store_row_sums", "neon_kernel", "ISA_NAME"]

#: the registry name of the ISA these kernels are written for
ISA_NAME = "neon"


def store_row_sums(b: ProgramBuilder, rows: list[VReg], out: Mem, *, subtract: VReg | None = None) -> None:
    """Reduce four int32x4 row accumulators to four int32 sums and store them (16 bytes) at `out`.

    addp(r0, r1) = [r0 pairs | r1 pairs], addp(r2, r3) likewise, and addp of those two gives the
    four row totals in order. `subtract` (an int32x4 broadcast) is subtracted from every total
    (I2_S's sum(q) correction).
    """
    if len(rows) != 4:
        raise ValueError(f"store_row_sums: needs 4 row accumulators, got {len(rows)}")
    total = b.addp_4s(b.addp_4s(rows[0], rows[1]), b.addp_4s(rows[2], rows[3]))
    if subtract is not None:
        total = b.sub_4s(total, subtract)
    b.st1_16b(out, total)


def neon_kernel(name: str, weight_format: str, *, build, prepare, check_shape, result=int32_rows,
                **facts) -> KernelSpec:
    """The `KernelSpec` of NEON kernel `name` (isa "neon"); `result` defaults to `int32_rows`.

    facts : description, params, exactness and the optional KernelSpec fields (bound,
        bound_holds, error, diagnose).
    """
    return kernel_spec(ISA_NAME, name, weight_format, build=build, prepare=prepare, check_shape=check_shape,
                       result=result, **facts)
