"""I2_S on AVX2, as bitnet.cpp does it: vpmaddubsw of codes 0..2 with int8 activations, int16 lanes.

Kernel layer (research/kernels.md §1.2, §0.2). Weights: format "i2s_x86" (128-weight blocks of 32
bytes; byte j holds elements j, 32+j, 64+j, 96+j in bits 7:6, 5:4, 3:2, 1:0 as code t+1). Per block
and row: 3 vpsrlw + 4 vpand unpack four vectors of 32 codes, 4 vpmaddubsw (codes u8 x q s8, int16
pair sums) and 4 wrapping vpaddw into one int16 accumulator; every `blocks_per_chunk` (32 in
bitnet.cpp: 4096 weights) blocks it is widened with vpmaddwd against ones into int32. The total is
sum(c*q) = sum(t*q) + sum(q); sum(q) (bitnet.cpp's act_sum, computed by quantize_row_i8_s, so an
input here) is subtracted in int32. Tiles of 4 rows share the activation loads (ROW_BLOCK_SIZE 4).

Exactness: "bounded". int16 lane L of a chunk sums the 8 products of elements 32s+2L+e (s < 4,
e < 2) of each of its blocks; vpmaddubsw cannot saturate here (|pair| <= 2*2*128 = 512) and vpaddw
wraps, so the result is exact iff every lane's true chunk sum lies in [-32768, 32767]
(`lane_sums`). Sufficient: max|q| * 2 * 8 * blocks_per_chunk <= 32767, i.e. max|q| <= 63 for 32
blocks. bitnet.cpp's source assumes 127*256; the worst case is 2*128*256 = 65536.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from kernels.avx2_common import avx2_kernel, const_bytes, i2s_program, int32_rows, q_sum_bytes, store_row_sums
from kernels.common import block_chunks, check_tiles, gemv_buffers, int16_bound

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "lane_sums", "bound_holds",
           "diagnose", "QK", "LANES"]

QK = 128          # weights per block (x86 layout)
BLOCK_BYTES = 32
LANES = 16        # int16 lanes of a ymm accumulator
ROWS = 4          # rows per tile (bitnet.cpp ROW_BLOCK_SIZE on AVX2)


def check_shape(M: int, K: int, *, blocks_per_chunk: int = 32) -> None:
    """K a multiple of 128, M a multiple of 4, 1 <= blocks_per_chunk <= 256."""
    check_tiles("i2s/avx2", M, K, k_multiple=QK, rows=ROWS)
    if not 1 <= blocks_per_chunk <= 256:
        raise ValueError(f"i2s/avx2: blocks_per_chunk={blocks_per_chunk} is not in 1..256")


def _chunks(K: int, blocks_per_chunk: int) -> list[tuple[int, int]]:
    """(first block, number of blocks) of every int16 accumulation chunk."""
    return block_chunks(K // QK, blocks_per_chunk)


def build(M: int, K: int, *, blocks_per_chunk: int = 32, probe_lanes: bool = False) -> Program:
    """The I2_S Program for an M x K weight.

    probe_lanes : also store every int16 accumulator before widening into an output buffer
        "lanes" (int16 [M, chunks, 16]), so a functional run exposes the lane partial sums
        (read by `kernels.i2s.lanes.probe` for the adversarial search).
    """
    check_shape(M, K, blocks_per_chunk=blocks_per_chunk)
    chunks = _chunks(K, blocks_per_chunk)
    row_bytes = K // 4
    b, w, q, qsum, consts, acc_out = i2s_program("i2s", M, K, rows=ROWS, const_size=64,
                                                 blocks_per_chunk=blocks_per_chunk)
    lanes_out = b.buffer("lanes", 2 * LANES * M * len(chunks), role="output") if probe_lanes else None
    mask = b.vmovdqu_load_ymm(consts[0], comment="0x03 per byte")
    with b.loop("t", M // ROWS, parallel=True) as t:
        acc32 = [None] * ROWS
        for ci, (first, count) in enumerate(chunks):
            acc16 = [b.vpxor_zero_ymm() for _ in range(ROWS)]
            with b.loop(f"j{ci}", count) as j:
                blk = j + first
                for r in range(ROWS):
                    x = b.vmovdqu_load_ymm(w[t * (ROWS * row_bytes) + r * row_bytes + blk * BLOCK_BYTES])
                    parts = [b.vpand_ymm(b.vpsrlw_ymm(x, 6), mask), b.vpand_ymm(b.vpsrlw_ymm(x, 4), mask),
                             b.vpand_ymm(b.vpsrlw_ymm(x, 2), mask), b.vpand_ymm(x, mask)]
                    prods = [b.vpmaddubsw_ymm_m(c, q[blk * QK + 32 * s]) for s, c in enumerate(parts)]
                    b.vpaddw_ymm(acc16[r], b.vpaddw_ymm(prods[0], prods[1]), out=acc16[r])
                    b.vpaddw_ymm(acc16[r], b.vpaddw_ymm(prods[2], prods[3]), out=acc16[r])
            for r in range(ROWS):
                if lanes_out is not None:
                    b.vmovdqu_store_ymm(lanes_out[(t * ROWS + r) * (32 * len(chunks)) + 32 * ci], acc16[r])
                widened = b.vpmaddwd_ymm_m(acc16[r], consts[32])
                acc32[r] = widened if acc32[r] is None else b.vpaddd_ymm(acc32[r], widened)
        store_row_sums(b, acc32, acc_out[t * (4 * ROWS)], subtract=b.vpbroadcastd_ymm_m(qsum[0]))
    return b.build()


def _consts() -> np.ndarray:
    return const_bytes(np.full(32, 3, np.uint8), np.ones(16, "<i2"))


def prepare(codes, q, *, blocks_per_chunk: int = 32) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_x86 bytes, gamma 1), q (int8 as bytes), qsum (int32 sum(q)), const."""
    m, k = np.shape(codes)
    check_shape(m, k, blocks_per_chunk=blocks_per_chunk)
    return gemv_buffers("i2s_x86", codes, q, "i2s/avx2.prepare", qsum=q_sum_bytes, const=_consts())


def result(buffers) -> np.ndarray:
    """int32 [M]: sum(c*q) - sum(q) per row."""
    return int32_rows(buffers)


def lane_sums(codes, q, *, blocks_per_chunk: int = 32) -> np.ndarray:
    """Exact (unwrapped) int16-lane sums int64 [M, chunks, 16] the kernel accumulates.

    Lane L of chunk c of row r = sum over the chunk's blocks and s < 4, e < 2 of
    (t + 1) * q at element 32s + 2L + e of the block.
    """
    codes = np.asarray(codes)
    m, k = codes.shape
    nb = k // QK
    c = (codes.astype(np.int64) + 1).reshape(m, nb, 4, LANES, 2)
    qq = np.asarray(q).astype(np.int64).reshape(1, nb, 4, LANES, 2)
    per_block = (c * qq).sum(axis=(2, 4))                      # [M, nb, 16]
    out = [per_block[:, f:f + n].sum(axis=1) for f, n in _chunks(k, blocks_per_chunk)]
    return np.stack(out, axis=1)


#: the int16 lane bound: the exact rows (`bound_holds`) and the lanes a row wraps in (`diagnose`)
bound_holds, diagnose = int16_bound(lane_sums)


KERNEL = avx2_kernel(
    "i2s", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape, result=result, diagnose=diagnose,
    description="bitnet.cpp I2_S MAD kernel: vpmaddubsw(codes 0..2, q) into int16 lanes over up to 32 "
                "blocks of 128, vpmaddwd with ones to int32, minus sum(q) (kernels.md §1.2)",
    params={"blocks_per_chunk": 32},
    exactness="bounded",
    bound="exact iff every int16 lane's sum over a chunk of blocks_per_chunk 128-weight blocks "
          "(8 products (t+1)*q per block) lies in [-32768, 32767]; sufficient: max|q| * 16 * "
          "blocks_per_chunk <= 32767 (max|q| <= 63 at 32 blocks). Out of range the lane wraps by 65536.",
    bound_holds=bound_holds,
)
