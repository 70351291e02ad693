"""TQ2_0 on AVX2, ggml style (ggml_vec_dot_tq2_0_q8_K) with int8 per-token activations.

Kernel layer (research/kernels.md §3.1, §3.3, §5.5). Weights: format "tq2_0" (66-byte blocks of
256: qs[64] then fp16 d; element 128h + 32l + m sits in qs[32h + m], bits 2l+1:2l, as code t+1).
Per block and row: two 32-byte loads, vpsrlw by 2/4/6 + vpand 0x03 give 8 vectors of codes 0..2,
8 vpmaddubsw with the activations into two int16 accumulators (sumi0, sumi1), then
sumi0 + sumi1 - bsums (the -1 offset: Q8_K's per-16 activation sums, computed at quantization
time, an input here), vpmaddwd with ones: the block's int32 sum of t*q in 8 lanes.

Where this departs from ggml, by design: ggml multiplies each block's int32 by d * d_y in fp32
and sums floats. Here activations are per-token int8 (one scale), and the block scales d are
fp16(gamma) for every non-zero block, so the per-block int32 sums are added exactly in int32 and
the scale is applied outside (the fp16 d bytes are not read). Exact: an int16 lane holds at most
16 products |c*q| <= 256 plus a bsum (|.| <= 2048), far inside int16.
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2 import ISA
from isa_models.core.program import Program
from kernels.avx2_common import avx2_kernel, const_bytes, store_row_sums
from kernels.common import block_sums, check_tiles, gemv_buffers, gemv_program

__all__ = ["KERNEL", "build", "prepare", "check_shape", "block_sums"]

QK_K = 256
BLOCK_BYTES = 66
ROWS = 4


def check_shape(M: int, K: int) -> None:
    """K a multiple of 256, M a multiple of 4."""
    check_tiles("tq2/avx2", M, K, k_multiple=QK_K, rows=ROWS)


def build(M: int, K: int) -> Program:
    """The TQ2_0 Program for an M x K weight."""
    check_shape(M, K)
    nb = K // QK_K
    b, w, q, bsums, consts, acc_out = gemv_program(ISA, "tq2", M, K, "tq2_0", rows=ROWS,
                                                   buffers=[("bsums", 2 * (K // 16)), ("const", 64, "const")])
    mask = b.vmovdqu_load_ymm(consts[0], comment="0x03 per byte")
    with b.loop("t", M // ROWS, parallel=True) as t:
        acc32 = [b.vpxor_zero_ymm() for _ in range(ROWS)]
        with b.loop("j", nb) as j:
            for r in range(ROWS):
                base = (t * ROWS + r) * (nb * BLOCK_BYTES) + j * BLOCK_BYTES
                sumi = []
                for h in range(2):
                    x = b.vmovdqu_load_ymm(w[base + 32 * h])
                    fields = [b.vpand_ymm(x, mask)] + [b.vpand_ymm(b.vpsrlw_ymm(x, 2 * l), mask)
                                                       for l in (1, 2, 3)]
                    p = [b.vpmaddubsw_ymm_m(f, q[j * QK_K + 128 * h + 32 * l]) for l, f in enumerate(fields)]
                    sumi.append(b.vpaddw_ymm(b.vpaddw_ymm(p[0], p[1]), b.vpaddw_ymm(p[2], p[3])))
                s16 = b.vpsubw_ymm_m(b.vpaddw_ymm(sumi[0], sumi[1]), bsums[j * 32])
                b.vpaddd_ymm(acc32[r], b.vpmaddwd_ymm_m(s16, consts[32]), out=acc32[r])
        store_row_sums(b, acc32, acc_out[t * (4 * ROWS)])
    return b.build()


def prepare(codes, q) -> dict[str, np.ndarray]:
    """Buffers: w (tq2_0 bytes, gamma 1), q, bsums (int16 per 16 activations), const."""
    m, k = np.shape(codes)
    check_shape(m, k)
    return gemv_buffers("tq2_0", codes, q, "tq2/avx2.prepare", bsums=block_sums,
                        const=const_bytes(np.full(32, 3, np.uint8), np.ones(16, "<i2")))


KERNEL = avx2_kernel(
    "tq2", "tq2_0", build=build, prepare=prepare, check_shape=check_shape,
    description="ggml TQ2_0 vec_dot with int8 per-token activations: shifts/masks, vpmaddubsw into two "
                "int16 sums per 256-block, minus Q8_K bsums, vpmaddwd to int32 per block, blocks summed in "
                "int32 (fp16 block scales applied outside; kernels.md §3.3)",
    params={},
    exactness="exact",
)
