"""sdot on NEON: 2-bit codes decoded to signed ternary bytes, then an exact int8 dot with sdot.

Kernel layer, an anchor: the plain dot-product kernel of a ternary weight on a core with the
Armv8.2 dot product (research/isa.md §2.3; kernels.md §1.2 for the layout). Weights: format
"i2s_arm" (bitnet.cpp's ARM I2_S: 64 weights per 16-byte block, element 16 s + j of a block in
byte j, bits 7-2s:6-2s, as c = t + 1). Per block and row: one 16-byte load, the four 2-bit fields
unpacked to bytes (ushr #6; ushr #4, #2 and the block itself and 0x03), decoded to t = c - 1 by
one sub each (a signed int8 weight, so no sum(q) correction is needed), and four sdot with the
block's four 16-activation vectors, into four accumulators per row (one per field, as
bitnet.cpp's accu_0..3, so consecutive sdot are independent). Rows go 4 at a time through one loop,
so each block's four activation vectors are loaded once for the tile's 4 rows; each row's 4
accumulators are added and the tile's rows folded by `store_row_sums` (addp tree, one st1).

What it costs against I2_S (the same bytes): one sub per 16 weights more, one subtraction of
sum(q) per row less: the decoded-code kernel is what a straight int8 x int8 dot of the weights
costs after unpacking. Per block and row: 1 + 1 loads, 3 ushr, 3 and, 4 sub, 4 sdot.

Exactness: "exact". An int32 lane sums 4 products |t q| <= 128 per sdot over K/64 blocks (one
accumulator per field): |lane| <= 8 K < 2^31; the row total <= 128 K for K <= 2^24.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import check_tiles, gemv_buffers, gemv_program
from kernels.neon_common import neon_kernel, store_row_sums

__all__ = ["KERNEL", "build", "prepare", "check_shape", "QK", "ROWS"]

QK = 64                        # weights per i2s_arm block (16 bytes)
ROWS = 4                       # rows per output tile
K_MAX = 1 << 24


def check_shape(M: int, K: int) -> None:
    """K a multiple of 64 up to 2^24, M a multiple of 4."""
    check_tiles("sdot/neon", M, K, k_multiple=QK, rows=ROWS, k_max=K_MAX)


def build(M: int, K: int) -> Program:
    """The decoded-code sdot Program for an M x K weight."""
    check_shape(M, K)
    nb, row_bytes = K // QK, K // 4
    b, w, q, acc_out = gemv_program(ISA, "sdot", M, K, "i2s_arm", rows=ROWS)
    mask = b.movi_16b(0x03, comment="0x03 per byte")
    one = b.movi_16b(0x01, comment="1 per byte: t = c - 1")
    with b.loop("t", M // ROWS, parallel=True) as t:
        accs = [[b.movi_zero_16b() for _ in range(4)] for _ in range(ROWS)]
        with b.loop("j", nb) as j:
            acts = [b.ld1_16b(q[j * QK + 16 * s]) for s in range(4)]     # shared by the tile's rows
            for r in range(ROWS):
                x = b.ld1_16b(w[(t * ROWS + r) * row_bytes + j * 16])
                fields = [b.ushr_16b(x, 6), b.and_16b(b.ushr_16b(x, 4), mask),
                          b.and_16b(b.ushr_16b(x, 2), mask), b.and_16b(x, mask)]
                for s in range(4):
                    b.sdot_4s(accs[r][s], b.sub_16b(fields[s], one), acts[s], out=accs[r][s])
        rows = [b.add_4s(b.add_4s(a[0], a[1]), b.add_4s(a[2], a[3])) for a in accs]
        store_row_sums(b, rows, acc_out[t * (4 * ROWS)])
    return b.build()


def prepare(codes, q) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_arm bytes, gamma 1) and q."""
    m, k = np.shape(codes)
    check_shape(m, k)
    return gemv_buffers("i2s_arm", codes, q, "sdot/neon.prepare")


KERNEL = neon_kernel(
    "sdot", "i2s_arm", build=build, prepare=prepare, check_shape=check_shape,
    description="anchor: I2_S ARM blocks unpacked (ushr/and) and decoded to signed ternary bytes t = c - 1 "
                "(sub), then an exact int8 x int8 dot with sdot into 4 accumulators per row; no sum(q) "
                "correction; rows folded 4 at a time (addp tree)",
    params={},
    exactness="exact",
)
