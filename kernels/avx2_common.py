"""Shared pieces of the AVX2 kernels: constant tables, the 4-row horizontal sum, int32 results.

Kernel layer. Every AVX2 kernel writes its int32 accumulators to an output buffer "acc" (4 bytes
per row, little-endian; `int32_rows` reads them) and finishes a tile of 4 rows with
`store_row_sums`, the hadd tree bitnet.cpp's hsum_i32_8 generalises to (vphaddd x3, vextracti128,
vpaddd). Constants (masks, ones) come from a "const" buffer built by `const_bytes`, since AVX2
has no immediate vectors. `i2s_program` opens a Program over I2_S weights (w, q, qsum, const,
acc) and `avx2_kernel` makes a module's `KernelSpec`. The ISA-independent helpers (`int32_rows`,
`check_q`, `q_sum_bytes`, `kernel_spec`) live in `kernels.common`; this module re-exports them.
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2 import ISA
from isa_models.core.program import Mem, VReg
from isa_models.core.builder import ProgramBuilder
from kernels.common import check_q, gemv_program, int32_rows, kernel_spec, pack_vectors, q_sum_bytes
from kernels.registry import KernelSpec

__all__ = ["const_bytes", "store_row_sums", "int32_rows", "check_q", "q_sum_bytes", "i2s_program",
           "avx2_kernel"]


def const_bytes(*vectors: np.ndarray) -> np.ndarray:
    """Concatenate 32-byte constant vectors (any dtype, 32 bytes each) into one uint8 buffer."""
    return pack_vectors(*vectors, width=32)


def store_row_sums(b: ProgramBuilder, rows: list[VReg], out: Mem, *, subtract: VReg | None = None) -> None:
    """Reduce four int32x8 row accumulators to four int32 sums and store them (16 bytes) at `out`.

    hadd(r0, r1), hadd(r2, r3), hadd of those gives [lo-half sums of rows 0..3 | hi-half sums];
    adding the upper 128 bits to the lower gives the four row totals in order. `subtract`
    (an int32 broadcast) is subtracted from every total (I2_S's sum(q) correction).
    """
    if len(rows) != 4:
        raise ValueError(f"store_row_sums: needs 4 row accumulators, got {len(rows)}")
    s01 = b.vphaddd_ymm(rows[0], rows[1])
    s23 = b.vphaddd_ymm(rows[2], rows[3])
    s = b.vphaddd_ymm(s01, s23)
    hi = b.vextracti128_ymm(s, 1)
    total = b.vpaddd_xmm(s, hi)
    if subtract is not None:
        total = b.vpsubd_ymm(total, subtract)
    b.vmovdqu_store_xmm(out, total)


def i2s_program(kernel: str, M: int, K: int, *, rows: int, const_size: int, scratch=(), **meta):
    """A ProgramBuilder for an AVX2 kernel over I2_S (i2s_x86) weights, with its five buffers.

    Parameters
    ----------
    kernel : kernel name (the Program is named ``<kernel>_avx2_<M>x<K>``).
    rows : rows per tile (recorded in the Program's meta).
    const_size : bytes of the "const" buffer.
    scratch : (name, bytes) of scratch buffers, declared between "const" and "acc".
    meta : further Program meta (the kernel's parameters).

    Returns
    -------
    (builder, w, q, qsum, const, *scratch, acc): the packed weights, int8 activations, their
    int32 sum, the constant vectors, the scratch buffers and the int32 [M] output.
    """
    buffers = [("qsum", 4), ("const", const_size, "const"), *((name, size, "scratch") for name, size in scratch)]
    return gemv_program(ISA, kernel, M, K, "i2s_x86", buffers=buffers, **meta, rows=rows)


def avx2_kernel(name: str, weight_format: str, *, build, prepare, check_shape, result=int32_rows,
                **facts) -> KernelSpec:
    """The `KernelSpec` of AVX2 kernel `name` (isa "avx2"); `result` defaults to `int32_rows`.

    facts : description, params, exactness and the optional KernelSpec fields (bound,
        bound_holds, error, diagnose).
    """
    return kernel_spec("avx2", name, weight_format, build=build, prepare=prepare, check_shape=check_shape,
                       result=result, **facts)
