"""vnni2: the vnni kernel (kernels/vnni/avx2.py) with two rows per block, sharing activation loads.

Kernel layer; this project's design, the second after vnni. Same weights (i2s_x86), same masks,
shifts and second reduction loop; `kernels.vnni.avx2.build` with ``rows_per_block=2,
chains=1``: each 32-byte activation quarter is loaded once per block into a register and feeds
the vpdpbusd of two rows (one accumulator set per row), so a row-block takes 3 loads instead of 5
and no vpdpbusd has a memory operand. Aimed at the Granite Rapids host, where vnni's
load -> vpand -> vpdpbusd-with-memory pattern runs 20-28% slower than modelled
(isa_models/machines/README.md, "Granite Rapids"); fewer loads help every core. Exact, as vnni.
"""

from __future__ import annotations

from kernels.avx2_common import avx2_kernel
from kernels.vnni.avx2 import QK, build, check_shape, prepare

__all__ = ["KERNEL", "QK"]

KERNEL = avx2_kernel(
    "vnni2", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape,
    description="workbench design: vnni with two rows per 128-weight block; each activation quarter is "
                "loaded once and feeds both rows' EVEX vpdpbusd ymm (register operands, 4 int32 chains per "
                "row); 3 loads per row-block instead of 5; row totals reduced 4 at a time, minus sum(q); "
                "exact in int32",
    params={"chains": 1, "rows_per_block": 2},
    exactness="exact",
)
