"""ISA-independent pieces every SIMD kernel module shares: activation checks, sums, results, specs.

Kernel layer, generic (it names no ISA). Every CPU kernel writes its int32 accumulators to an
output buffer "acc" (4 bytes per row, little-endian; `int32_rows` reads them), takes int8
activations checked by `check_q`, and may need activation-side sums computed at quantization time
(`q_sum_bytes`: bitnet.cpp's act_sum; `block_sums`: Q8_K's bsums). `gemv_program` opens a
Program with those buffers, `gemv_buffers` fills them, `check_tiles` checks a row-tiled shape,
`block_chunks` splits a row into int16 accumulation chunks and `int16_bound` makes the bound of a
kernel whose int16 lanes may wrap. `pack_vectors` lays constant vectors of one register width into
a "const" buffer, and `kernel_spec` makes a module's `KernelSpec`. The per-ISA helpers
(``kernels/<isa>_common.py``) build on these.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from kernels.registry import KernelSpec
from workbench.formats import get_format

__all__ = ["int32_rows", "rounded_rows", "check_q", "check_batch", "check_tiles", "q_sum_bytes", "block_sums", "pack_vectors",
           "gemv_program", "gemv_buffers", "block_chunks", "int16_bound", "kernel_spec"]


def int32_rows(buffers, name: str = "acc") -> np.ndarray:
    """The int32 [M] accumulators of output buffer `name`."""
    return np.asarray(buffers[name]).view("<i4").astype(np.int32)


def rounded_rows(buffers, name: str = "y") -> np.ndarray:
    """int32 [M]: the fp32 rows of output buffer `name` rounded to the nearest integer (np.rint)."""
    return np.rint(np.asarray(buffers[name]).view("<f4")).astype(np.int32)


def check_q(q, k: int, who: str) -> np.ndarray:
    """q as a 1-D int8 array of length K, or ValueError."""
    arr = np.asarray(q)
    if arr.dtype != np.int8 or arr.ndim != 1 or arr.shape[0] != k:
        raise ValueError(f"{who}: activations must be int8 [K={k}], got {arr.dtype} {arr.shape}")
    return arr


def check_batch(q, n: int, k: int, who: str) -> np.ndarray:
    """q as an int8 [N, K] array (a batched kernel's N tokens), or ValueError."""
    arr = np.asarray(q)
    if arr.dtype != np.int8 or arr.shape != (n, k):
        raise ValueError(f"{who}: activations must be int8 [N={n}, K={k}], got {arr.dtype} {arr.shape}")
    return arr


def check_tiles(who: str, M: int, K: int, *, k_multiple: int, rows: int, k_max: int | None = None) -> None:
    """K a positive multiple of `k_multiple` (at most `k_max`), M a positive multiple of `rows` (the row
    tile); else ValueError naming `who` and the constraint."""
    if K <= 0 or K % k_multiple or (k_max is not None and K > k_max):
        bound = f" up to {k_max}" if k_max is not None else ""
        raise ValueError(f"{who}: K={K} is not a positive multiple of {k_multiple}{bound}")
    if M <= 0 or M % rows:
        raise ValueError(f"{who}: M={M} is not a positive multiple of {rows} (row tile)")


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


def gemv_program(isa, kernel: str, M: int, K: int, weight_format: str, *, buffers=(), **meta) -> tuple:
    """A `ProgramBuilder` for an M x K matrix-vector kernel and its buffers.

    Parameters
    ----------
    isa : the ISA object; the Program is named ``<kernel>_<isa.name>_<M>x<K>`` with meta kernel, M,
        K, format and then `meta` in order.
    weight_format : the `workbench.formats` name sizing the weight buffer "w".
    buffers : (name, bytes) or (name, bytes, role) of the buffers between "q" and "acc" (activation
        sums, constants, scratch), in order.

    Returns
    -------
    (builder, w, q, *buffers, acc): the packed weights, the K int8 activations, `buffers` and the
    int32 [M] output "acc".
    """
    b = ProgramBuilder(isa, f"{kernel}_{isa.name}_{M}x{K}", kernel=kernel, M=M, K=K, format=weight_format, **meta)
    made = [b.buffer("w", get_format(weight_format).nbytes(M, K)), b.buffer("q", K)]
    made += [b.buffer(name, size, role=role[0] if role else "input") for name, size, *role in buffers]
    return (b, *made, b.buffer("acc", 4 * M, role="output"))


def gemv_buffers(weight_format: str, codes, q, who: str, **activation_side) -> dict[str, np.ndarray]:
    """The input buffers of a matrix-vector kernel, in order: w (`codes` packed in `weight_format`,
    gamma 1), q (the int8 activations as bytes, checked by `check_q` naming `who`), then every
    `activation_side` buffer: a function of the checked q (`q_sum_bytes`, `block_sums`) or an array
    (constants)."""
    q = check_q(q, np.shape(codes)[1], who)
    out = {"w": get_format(weight_format).pack(codes, gamma=1.0), "q": q.view(np.uint8).copy()}
    for name, value in activation_side.items():
        out[name] = value(q) if callable(value) else value
    return out


def block_chunks(blocks: int, blocks_per_chunk: int) -> list[tuple[int, int]]:
    """(first block, number of blocks) of every int16 accumulation chunk of a row of `blocks` blocks."""
    return [(first, min(blocks_per_chunk, blocks - first)) for first in range(0, blocks, blocks_per_chunk)]


def int16_bound(lane_sums):
    """`bound_holds` and `diagnose` of a kernel whose int16 lanes wrap.

    lane_sums : ``(codes, q, **params) -> int64 [M, chunks, lanes]``, the exact (unwrapped) sum each
        int16 lane accumulates over a chunk; a row is exact iff all of its sums fit int16.
    """
    def bound_holds(codes, q, **params) -> np.ndarray:
        """bool [M]: True for the rows whose int16 lane chunk sums all fit int16 (exact rows)."""
        s = lane_sums(codes, q, **params)
        return ((s >= -32768) & (s <= 32767)).all(axis=(1, 2))

    def diagnose(codes, q, row: int, expected: int, got: int, **params) -> str:
        """Name the int16 lanes of `row` whose chunk sums leave int16 (or say none does)."""
        s = lane_sums(np.asarray(codes)[row:row + 1], q, **params)[0]
        bad = np.argwhere((s < -32768) | (s > 32767))
        if not len(bad):
            return "no int16 lane overflows: not an int16 wrap"
        parts = [f"lane {int(L)}" + (f" of chunk {int(c)}" if s.shape[0] > 1 else "") + f" sums {int(s[c, L])}"
                 for c, L in bad[:3]]
        return "int16 wrap in " + ", ".join(parts) + (" ..." if len(bad) > 3 else "")

    return bound_holds, diagnose


def kernel_spec(isa: str, name: str, weight_format: str, *, build, prepare, check_shape, result=int32_rows,
                **facts) -> KernelSpec:
    """The `KernelSpec` of kernel `name` on `isa`; `result` defaults to `int32_rows`.

    facts : description, params, exactness and the optional KernelSpec fields (bound,
        bound_holds, error, diagnose).
    """
    return KernelSpec(name=name, isa=isa, weight_format=weight_format, build=build, prepare=prepare,
                      result=result, check_shape=check_shape, **facts)
