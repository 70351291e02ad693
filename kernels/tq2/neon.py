"""TQ2_0 on NEON, ggml style (ggml_vec_dot_tq2_0_q8_K, dotprod path) with int8 per-token activations.

Kernel layer (research/kernels.md §3.1, §3.3, §5.5). Source: ggml-org/ggml
src/ggml-cpu/arch/arm/quants.c ``ggml_vec_dot_tq2_0_q8_K`` (``__ARM_FEATURE_DOTPROD`` branch),
commit d99724f2b141fed9e1a9f402213506c081433465. Weights: format "tq2_0" (66-byte blocks of 256:
qs[64] then fp16 d; element 128h + 32l + m sits in qs[32h + m], bits 2l+1:2l, as code t+1).
Per block and row, for each half h: one 32-byte load (qx0, qx1), ushr by 2/4/6 and ``and`` with 3
give eight vectors of codes 0..2, two 64-byte activation loads, eight ``sdot`` alternating into
two int32x4 sums (sumi0, sumi1); then sumi0 + sumi1 - saddlp(bsums[0:8] + bsums[8:16]) (the -1
offset: Q8_K's per-16 activation sums, computed at quantization time, an input here) is the
block's int32 sum of t*q in 4 lanes.

Where this departs from ggml, by design: ggml converts each block's vaddvq_s32 to float and adds
d * d_y * sumi in fp32. Here activations are per-token int8 (one scale) and the block scales d are
fp16(gamma) for every non-zero block, so the per-block int32 vectors are added exactly into one
int32x4 row accumulator and the scale is applied outside (the fp16 d bytes are not read); ggml
computes one row per call, here four rows share a tile only for the final 4-row addp reduction
(`kernels.neon_common.store_row_sums`); each row still loads its own activations, as ggml does.
The four 16-byte activation loads of a half are one ``ld1 {4 regs}`` each, qx0/qx1 one
``ld1 {2 regs}``. Exact: an int32 sdot lane of a block sums 16 products |c*q| <= 256 and a
row's lanes K/4 * 256 in all (K <= 2^22).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import block_sums, check_tiles, gemv_buffers, gemv_program
from kernels.neon_common import neon_kernel, store_row_sums

__all__ = ["KERNEL", "build", "prepare", "check_shape"]

QK_K = 256
BLOCK_BYTES = 66
ROWS = 4
K_MAX = 1 << 22


def check_shape(M: int, K: int) -> None:
    """K a multiple of 256 (at most 2^22: an int32 lane cannot overflow), M a multiple of 4."""
    check_tiles("tq2/neon", M, K, k_multiple=QK_K, rows=ROWS, k_max=K_MAX)


def _block(b: ProgramBuilder, w, q, bsums, base, j, m3):
    """One row's int32x4 sum of t*q over block j (weights at byte `base`)."""
    sumi = [b.movi_zero_16b(), b.movi_zero_16b()]
    for h in range(2):                                   # ggml's j = 0, 32 over qs
        qx0, qx1 = b.ld1x2_16b(w[base + 32 * h])
        shifted = [qx0, qx1] + [b.ushr_16b(x, s) for s in (2, 4, 6) for x in (qx0, qx1)]
        sqx = [b.and_16b(x, m3) for x in shifted]        # sqx[2l + e]: bits 2l of qx_e
        y = [*b.ld1x4_16b(q[j * QK_K + 128 * h]), *b.ld1x4_16b(q[j * QK_K + 128 * h + 64])]
        for n in range(8):
            b.sdot_4s(sumi[n % 2], sqx[n], y[n], out=sumi[n % 2])
    ysum0, ysum1 = b.ld1x2_16b(bsums[j * 32])
    total = b.add_4s(sumi[0], sumi[1])
    return b.sub_4s(total, b.saddlp_4s(b.add_8h(ysum0, ysum1)))


def build(M: int, K: int) -> Program:
    """The TQ2_0 Program for an M x K weight."""
    check_shape(M, K)
    nb = K // QK_K
    b, w, q, bsums, acc_out = gemv_program(ISA, "tq2", M, K, "tq2_0", buffers=[("bsums", 2 * (K // 16))], rows=ROWS)
    m3 = b.movi_16b(3, comment="0x03 per byte")
    with b.loop("t", M // ROWS, parallel=True) as t:
        acc32 = [b.movi_zero_16b() for _ in range(ROWS)]
        with b.loop("j", nb) as j:
            for r in range(ROWS):
                base = (t * ROWS + r) * (nb * BLOCK_BYTES) + j * BLOCK_BYTES
                b.add_4s(acc32[r], _block(b, w, q, bsums, base, j, m3), out=acc32[r])
        store_row_sums(b, acc32, acc_out[t * (4 * ROWS)])
    return b.build()


def prepare(codes, q) -> dict[str, np.ndarray]:
    """Buffers: w (tq2_0 bytes, gamma 1), q, bsums (int16 per 16 activations)."""
    m, k = np.shape(codes)
    check_shape(m, k)
    return gemv_buffers("tq2_0", codes, q, "tq2/neon.prepare", bsums=block_sums)


KERNEL = neon_kernel(
    "tq2", "tq2_0", build=build, prepare=prepare, check_shape=check_shape,
    description="ggml TQ2_0 vec_dot, NEON dotprod path, with int8 per-token activations: ushr/and unpack, "
                "sdot into two int32 sums per 256-block, minus saddlp of the Q8_K bsums, blocks summed in "
                "int32 (fp16 block scales applied outside; kernels.md §3.3)",
    params={},
    exactness="exact",
)
