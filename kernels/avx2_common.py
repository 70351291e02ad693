"""Shared pieces of the AVX2 kernels: constant tables, the 4-row horizontal sum, int32 results.

Kernel layer. Every AVX2 kernel writes its int32 accumulators to an output buffer "acc" (4 bytes
per row, little-endian) and finishes a tile of 4 rows with `store_row_sums`, the hadd tree
bitnet.cpp's hsum_i32_8 generalises to (vphaddd x3, vextracti128, vpaddd). Constants (masks,
ones) come from a "const" buffer built by `const_bytes`, since AVX2 has no immediate vectors.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Mem, ProgramBuilder, VReg

__all__ = ["const_bytes", "store_row_sums", "int32_rows", "check_q", "q_sum_bytes"]


def const_bytes(*vectors: np.ndarray) -> np.ndarray:
    """Concatenate 32-byte constant vectors (any dtype, 32 bytes each) into one uint8 buffer."""
    parts = []
    for v in vectors:
        raw = np.ascontiguousarray(v).view(np.uint8).reshape(-1)
        if raw.size != 32:
            raise ValueError(f"const_bytes: a constant vector must be 32 bytes, got {raw.size}")
        parts.append(raw)
    return np.concatenate(parts)


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


def int32_rows(buffers, name: str = "acc") -> np.ndarray:
    """The int32 [M] accumulators of output buffer `name`."""
    return np.asarray(buffers[name]).view("<i4").astype(np.int32)


def check_q(q, k: int, who: str) -> np.ndarray:
    """q as a 1-D int8 array of length K, or ValueError."""
    arr = np.asarray(q)
    if arr.dtype != np.int8 or arr.ndim != 1 or arr.shape[0] != k:
        raise ValueError(f"{who}: activations must be int8 [K={k}], got {arr.dtype} {arr.shape}")
    return arr


def q_sum_bytes(q: np.ndarray) -> np.ndarray:
    """sum(q) as one little-endian int32 (4 bytes): bitnet.cpp's act_sum from quantize_row_i8_s."""
    return np.array([int(q.astype(np.int64).sum())], dtype="<i4").view(np.uint8)
