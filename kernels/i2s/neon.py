"""I2_S on NEON, as bitnet.cpp's ARM path does it: 2-bit codes unpacked by ushr/and, then sdot or smlal.

Kernel layer (research/kernels.md §1.2, §5.2). Source: microsoft/BitNet src/ggml-bitnet-mad.cpp,
``ggml_vec_dot_i2_i8_s_1xN`` (``__ARM_NEON`` branch) and include/gemm-config.h, commit
16da220ae2b510caff437d403288882687f44ae5. Weights: format "i2s_arm" (64-weight blocks of 16 bytes;
byte j holds elements j, 16+j, 32+j, 48+j in bits 7:6, 5:4, 3:2, 1:0 as code t+1). Per block and
row: one ld1, ushr by 2/4/6 and four ``and`` with 3 give four vectors of 16 codes c = t+1 (0..2);
the block's 64 activations (shared by the rows of a tile) are loaded once. Two kernels:

- ``i2s`` (``__ARM_FEATURE_DOTPROD``, PARALLEL_SIZE 8): four ``sdot`` per block and row into an
  int32x4 accumulator. Exact: a lane gains at most 4 * 2 * 128 per block, and K <= 2^22 keeps
  sum |c*q| <= 256 K below 2^31.
- ``i2s_mlal`` (no dotprod, PARALLEL_SIZE 4): eight ``smlal``/``smlal2`` (vmlal_s8 on the low and
  high halves) per block and row into an int16x8 accumulator, widened into int32 every
  `blocks_per_chunk` blocks (32 in bitnet.cpp, group32_num; the rest of the row is the la_num
  tail chunk) with ``saddw``/``saddw2`` (vmovl_s16 + vaddq_s32). "bounded": int16 lane L of a
  chunk sums the 8 products of elements 16s + L and 16s + 8 + L (s < 4) of each of its blocks
  and wraps; exact iff every lane's true chunk sum lies in [-32768, 32767] (`lane_sums`).
  Sufficient: max|q| * 16 * blocks_per_chunk <= 32767 (max|q| <= 63 for 32 blocks).

The total is sum(c*q) = sum(t*q) + sum(q); sum(q) (bitnet.cpp's act_sum from quantize_row_i8_s,
an input here) is subtracted in int32. Departures, by design: activations are per-token int8 and
the fp32 scales are applied outside (bitnet.cpp returns (float)sumi and its mul_mat wrapper
subtracts act_sum and scales); the dotprod path runs one block loop (bitnet.cpp splits it into
32-block groups and a tail, which changes nothing without int16 lanes); the four 16-byte
activation loads are one ``ld1 {4 regs}``; the per-row ``vaddlvq_s32`` is the 4-row addp tree
(`kernels.neon_common.store_row_sums`).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import block_chunks, check_tiles, gemv_buffers, gemv_program, int16_bound, int32_rows, \
    q_sum_bytes
from kernels.neon_common import neon_kernel, store_row_sums

__all__ = ["KERNELS", "SDOT", "MLAL", "build_sdot", "build_mlal", "prepare", "check_shape_sdot",
           "check_shape_mlal", "chunks", "lane_sums", "bound_holds", "diagnose", "QK", "LANES",
           "ROWS_SDOT", "ROWS_MLAL", "K_MAX_SDOT"]

QK = 64             # weights per block (ARM layout, QK_I2_S on __ARM_NEON)
BLOCK_BYTES = 16
LANES = 8           # int16 lanes of an int16x8 accumulator
ROWS_SDOT = 8       # PARALLEL_SIZE with __ARM_FEATURE_DOTPROD (include/gemm-config.h)
ROWS_MLAL = 4       # PARALLEL_SIZE without it
K_MAX_SDOT = 1 << 22   # 256 * K < 2^31: an int32 sdot lane cannot overflow
SHIFTS = (6, 4, 2, 0)  # sub-vector s holds block elements 16s..16s+15 at bits 7-2s:6-2s


def check_shape_sdot(M: int, K: int) -> None:
    """K a multiple of 64 (at most 2^22: an int32 lane cannot overflow), M a multiple of 8."""
    check_tiles("i2s/neon", M, K, k_multiple=QK, rows=ROWS_SDOT, k_max=K_MAX_SDOT)


def check_shape_mlal(M: int, K: int, *, blocks_per_chunk: int = 32) -> None:
    """K a multiple of 64, M a multiple of 4, 1 <= blocks_per_chunk <= 256."""
    check_tiles("i2s_mlal/neon", M, K, k_multiple=QK, rows=ROWS_MLAL)
    if not 1 <= blocks_per_chunk <= 256:
        raise ValueError(f"i2s_mlal/neon: blocks_per_chunk={blocks_per_chunk} is not in 1..256")


def chunks(K: int, blocks_per_chunk: int) -> list[tuple[int, int]]:
    """(first block, number of blocks) of every int16 accumulation chunk of a row of length K."""
    return block_chunks(K // QK, blocks_per_chunk)


def _program(kernel: str, M: int, K: int, rows: int, **meta):
    return gemv_program(ISA, kernel, M, K, "i2s_arm", buffers=[("qsum", 4)], rows=rows, **meta)


def _codes(b: ProgramBuilder, x, mask) -> list:
    """The four code vectors of a 16-byte block: (x >> 6) & 3, (x >> 4) & 3, (x >> 2) & 3, x & 3."""
    return [b.and_16b(b.ushr_16b(x, s) if s else x, mask) for s in SHIFTS]


def build_sdot(M: int, K: int) -> Program:
    """The dotprod I2_S Program for an M x K weight: 8-row tiles, sdot into int32."""
    check_shape_sdot(M, K)
    nb, row_bytes = K // QK, K // 4
    b, w, q, qsum, acc_out = _program("i2s", M, K, ROWS_SDOT)
    mask = b.movi_16b(3, comment="0x03 per byte")
    with b.loop("t", M // ROWS_SDOT, parallel=True) as t:
        accu = [b.movi_zero_16b() for _ in range(ROWS_SDOT)]
        with b.loop("j", nb) as j:
            y = b.ld1x4_16b(q[j * QK], comment="64 activations, shared by the tile's rows")
            for r in range(ROWS_SDOT):
                x = b.ld1_16b(w[t * (ROWS_SDOT * row_bytes) + r * row_bytes + j * BLOCK_BYTES])
                for s, c in enumerate(_codes(b, x, mask)):
                    b.sdot_4s(accu[r], c, y[s], out=accu[r])
        act_sum = b.ld1r_4s(qsum[0])
        for h in range(ROWS_SDOT // 4):
            store_row_sums(b, accu[4 * h:4 * h + 4], acc_out[t * (4 * ROWS_SDOT) + 16 * h], subtract=act_sum)
    return b.build()


def build_mlal(M: int, K: int, *, blocks_per_chunk: int = 32, probe_lanes: bool = False) -> Program:
    """The int16 (no-dotprod) I2_S Program for an M x K weight: 4-row tiles, smlal into int16.

    probe_lanes : also store every int16 accumulator before widening into an output buffer
        "lanes" (int16 [M, chunks, 8]), so a functional run exposes the lane partial sums
        (read by `kernels.i2s.lanes.probe_neon` for the adversarial search).
    """
    check_shape_mlal(M, K, blocks_per_chunk=blocks_per_chunk)
    parts, row_bytes = chunks(K, blocks_per_chunk), K // 4
    b, w, q, qsum, acc_out = _program("i2s_mlal", M, K, ROWS_MLAL, blocks_per_chunk=blocks_per_chunk)
    lanes_out = b.buffer("lanes", 2 * LANES * M * len(parts), role="output") if probe_lanes else None
    mask = b.movi_16b(3, comment="0x03 per byte")
    with b.loop("t", M // ROWS_MLAL, parallel=True) as t:
        accu = [b.movi_zero_16b() for _ in range(ROWS_MLAL)]
        for ci, (first, count) in enumerate(parts):
            acc16 = [b.movi_zero_16b() for _ in range(ROWS_MLAL)]
            with b.loop(f"j{ci}", count) as j:
                blk = j + first
                y = b.ld1x4_16b(q[blk * QK], comment="64 activations, shared by the tile's rows")
                for r in range(ROWS_MLAL):
                    x = b.ld1_16b(w[t * (ROWS_MLAL * row_bytes) + r * row_bytes + blk * BLOCK_BYTES])
                    codes = _codes(b, x, mask)
                    for s in (3, 2, 1, 0):                  # bitnet.cpp's 1xN order: q8_3 first
                        b.smlal_8h(acc16[r], codes[s], y[s], out=acc16[r])
                        b.smlal2_8h(acc16[r], codes[s], y[s], out=acc16[r])
            for r in range(ROWS_MLAL):
                if lanes_out is not None:
                    b.st1_16b(lanes_out[(t * ROWS_MLAL + r) * (2 * LANES * len(parts)) + 2 * LANES * ci], acc16[r])
                b.saddw_4s(accu[r], acc16[r], out=accu[r])
                b.saddw2_4s(accu[r], acc16[r], out=accu[r])
        store_row_sums(b, accu, acc_out[t * (4 * ROWS_MLAL)], subtract=b.ld1r_4s(qsum[0]))
    return b.build()


def prepare(codes, q, **params) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_arm bytes, gamma 1), q (int8 as bytes), qsum (int32 sum(q))."""
    check_tiles("i2s/neon.prepare", *np.shape(codes), k_multiple=QK, rows=1)
    return gemv_buffers("i2s_arm", codes, q, "i2s/neon.prepare", qsum=q_sum_bytes)


def lane_sums(codes, q, *, blocks_per_chunk: int = 32) -> np.ndarray:
    """Exact (unwrapped) int16-lane sums int64 [M, chunks, 8] of ``i2s_mlal``.

    Lane L of chunk c of row r = sum over the chunk's blocks and s < 4, h < 2 of (t + 1) * q at
    element 16s + 8h + L of the block (smlal takes the low 8 bytes, smlal2 the high 8).
    """
    codes = np.asarray(codes)
    m, k = codes.shape
    nb = k // QK
    c = (codes.astype(np.int64) + 1).reshape(m, nb, 4, 2, LANES)
    qq = np.asarray(q).astype(np.int64).reshape(1, nb, 4, 2, LANES)
    per_block = (c * qq).sum(axis=(2, 3))                      # [M, nb, 8]
    return np.stack([per_block[:, f:f + n].sum(axis=1) for f, n in chunks(k, blocks_per_chunk)], axis=1)


#: the int16 lane bound: the exact rows (`bound_holds`) and the lanes a row wraps in (`diagnose`)
bound_holds, diagnose = int16_bound(lane_sums)


SDOT = neon_kernel(
    "i2s", "i2s_arm", build=build_sdot, prepare=prepare, check_shape=check_shape_sdot, result=int32_rows,
    description="bitnet.cpp I2_S NEON kernel with dotprod (ggml_vec_dot_i2_i8_s_1xN, PARALLEL_SIZE 8): "
                "ushr/and unpack of 64-weight blocks, sdot(codes 0..2, q) into int32, minus sum(q) "
                "(kernels.md §1.2)",
    params={},
    exactness="exact",
)

MLAL = neon_kernel(
    "i2s_mlal", "i2s_arm", build=build_mlal, prepare=prepare, check_shape=check_shape_mlal, result=int32_rows,
    diagnose=diagnose,
    description="bitnet.cpp I2_S NEON kernel without dotprod (ggml_vec_dot_i2_i8_s_1xN, PARALLEL_SIZE 4): "
                "smlal/smlal2(codes 0..2, q) into int16 lanes over up to 32 blocks of 64, saddw/saddw2 to "
                "int32, minus sum(q) (kernels.md §1.2)",
    params={"blocks_per_chunk": 32},
    exactness="bounded",
    bound="exact iff every int16 lane's sum over a chunk of blocks_per_chunk 64-weight blocks (8 products "
          "(t+1)*q per block: elements 16s+L and 16s+8+L) lies in [-32768, 32767]; sufficient: max|q| * 16 * "
          "blocks_per_chunk <= 32767 (max|q| <= 63 at 32 blocks). Out of range the lane wraps by 65536.",
    bound_holds=bound_holds,
)

KERNELS = [SDOT, MLAL]
