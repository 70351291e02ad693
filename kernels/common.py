"""ISA-independent pieces every SIMD kernel module shares: activation checks, sums, results, specs.

Kernel layer, generic (it names no ISA). Every CPU kernel writes its int32 accumulators to an
output buffer "acc" (4 bytes per row, little-endian; `int32_rows` reads them), takes int8
activations checked by `check_q`, and may need activation-side sums computed at quantization time
(`q_sum_bytes`: bitnet.cpp's act_sum; `block_sums`: Q8_K's bsums). `pack_vectors` lays constant
vectors of one register width into a "const" buffer, and `kernel_spec` makes a module's
`KernelSpec`. The per-ISA helpers (``kernels/<isa>_common.py``) build on these.
"""

from __future__ import annotations

import numpy as np

from kernels.registry import KernelSpec

__all__ = ["int32_rows", "check_q", "q_sum_bytes", "block_sums", "pack_vectors", "kernel_spec"]


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


def block_sums(q: np.ndarray, size: int = 16) -> np.ndarray:
    """Q8_K-style bsums: the int16 sum of every `size` consecutive activations, as bytes."""
    return q.astype(np.int16).reshape(-1, size).sum(axis=1).astype("<i2").view(np.uint8)


def pack_vectors(*vectors: np.ndarray, width: int) -> np.ndarray:
    """Concatenate constant vectors of `width` bytes each (any dtype) into one uint8 buffer."""
    parts = []
    for v in vectors:
        raw = np.ascontiguousarray(v).view(np.uint8).reshape(-1)
        if raw.size != width:
            raise ValueError(f"const_bytes: a constant vector must be {width} bytes, got {raw.size}")
        parts.append(raw)
    return np.concatenate(parts)


def kernel_spec(isa: str, name: str, weight_format: str, *, build, prepare, check_shape, result=int32_rows,
                **facts) -> KernelSpec:
    """The `KernelSpec` of kernel `name` on `isa`; `result` defaults to `int32_rows`.

    facts : description, params, exactness and the optional KernelSpec fields (bound,
        bound_holds, error, diagnose).
    """
    return KernelSpec(name=name, isa=isa, weight_format=weight_format, build=build, prepare=prepare,
                      result=result, check_shape=check_shape, **facts)
