"""vnni: I2_S weights through EVEX vpdpbusd ymm with in-place 2-bit fields (this project's design).

Kernel layer; aims to beat I2_S, TL2 and TQ2 on Zen 4 (research/isa.md §1.2-§1.3: vpdpbusd ymm is
4-cycle latency at 0.5 rthr, so it needs 8 independent accumulators; vpand issues on 4 pipes).
Weights: format "i2s_x86" unchanged. Instead of I2_S's 3 vpsrlw + 4 vpand, each 32-byte block is
masked in place with 0xC0, 0x30, 0x0C and 0x03: the field of quarter s then holds c * 4^(3-s)
(c = t + 1 in {0, 1, 2}, so at most 128: a valid u8). vpdpbusd(field_s, q quarter s) accumulates
4^(3-s) * sum(c*q) in int32; quarters keep separate accumulators, and `chains` sets of them
alternate over blocks (2 sets x 4 quarters = 8 chains per row hide the 4-cycle latency). At the
end of a row: A_s >> 2(3-s) (exact: every term is a multiple of 4^(3-s)), summed, and the row's
8-lane total stored to `rowsum`. A second loop, after all rows, reduces 4 rows at a time
(vphaddd tree) and subtracts sum(q), as in I2_S. Per block-row: 1 load, 4 vpand, 4 vpdpbusd
(memory q) versus I2_S's 1 + 3 + 4 + 4 + 4 vector ops.
Why the reduction is a separate loop: a 4-row tile that reduces its rows at its end puts a
dependent chain (row 3's tail, the vphaddd tree, the store) after every 4 rows, and Zen 4 does not
hide it under the next rows (measured, clang, M=32..256, K=1024: 27.7-28.9 cycles per row with
that epilogue, 24.3-25.4 with the tile's rows reduced in registers, 23.1-24.3 with the reduction
in its own loop; isa_models/machines/README.md, known gaps). The split costs one 32-byte store per
row and a reload long after, from L1 or L2.

With ``rows_per_block=2`` (registered as kernel vnni2, kernels/vnni2) two rows go through each
block together: each activation quarter is loaded once into a register and feeds both rows'
vpdpbusd (one accumulator set per row, chains=1), so a row-block costs 3 loads instead of 5 and
its vpdpbusd take register operands. Measured on a Golden Cove-class Xeon (2026-12-01, clang,
K=1024, 64 -> 128 rows): 27.2 cycles per row against 32.6 for vnni (the models: alderlake-p
24.3 vs 25.6, zen4 21.9 vs 23.2).

Exactness: "exact". No int16 stage; an int32 lane of A_0 sums at most 4 * K/128 products of
|64*2*q| <= 16384, i.e. |A_0| <= 512 K < 2^31 for K <= 2^21 (`check_shape` enforces it).
Requires AVX512-VNNI + AVX512-VL (this host has them; isa.md §1.2).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from kernels.avx2_common import avx2_kernel, const_bytes, i2s_program, q_sum_bytes, store_row_sums
from kernels.common import check_tiles, gemv_buffers

__all__ = ["KERNEL", "build", "prepare", "check_shape", "QK"]

QK = 128
ROWS = 4                       # rows per output tile (reduced together)
MASKS = (0xC0, 0x30, 0x0C, 0x03)
SHIFTS = (6, 4, 2, 0)          # A_s >> SHIFTS[s] undoes the field's 4^(3-s)
K_MAX = 1 << 21


def check_shape(M: int, K: int, *, chains: int = 2, rows_per_block: int = 1) -> None:
    """K a multiple of 128 and <= 2^21, M a multiple of 4, chains in 1..2, rows_per_block 1 or 2
    (2 only with chains 1: 2 rows x 4 accumulators, 4 masks, 2 weight and 1 activation register and
    a field temporary fill the 16 ymm registers)."""
    check_tiles("vnni/avx2", M, K, k_multiple=QK, rows=ROWS, k_max=K_MAX)
    if chains not in (1, 2):
        raise ValueError(f"vnni/avx2: chains={chains} must be 1 or 2 (accumulator sets per row)")
    if rows_per_block not in (1, 2) or rows_per_block == 2 and chains != 1:
        raise ValueError(f"vnni/avx2: rows_per_block={rows_per_block} must be 1, or 2 with chains=1 "
                         f"(got chains={chains}): 16 ymm registers")


def build(M: int, K: int, *, chains: int = 2, rows_per_block: int = 1) -> Program:
    """The vnni Program for an M x K weight (`rows_per_block` 2: the vnni2 design)."""
    check_shape(M, K, chains=chains, rows_per_block=rows_per_block)
    nb = K // QK
    row_bytes = K // 4
    name = "vnni" if rows_per_block == 1 else "vnni2"
    b, w, q, qsum, consts, rowsum, acc_out = i2s_program(
        name, M, K, rows=ROWS, const_size=32 * len(MASKS), scratch=(("rowsum", 32 * M),), chains=chains,
        rows_per_block=rows_per_block)
    masks = [b.vmovdqu_load_ymm(consts[32 * s], comment=f"0x{m:02X} per byte") for s, m in enumerate(MASKS)]

    def block(accs, row, blk):
        x = b.vmovdqu_load_ymm(w[row * row_bytes + blk * 32])
        for s in range(4):
            b.vpdpbusd_ymm_m(accs[s], b.vpand_ymm(x, masks[s]), q[blk * QK + 32 * s], out=accs[s])

    def block_pair(sets, pair, blk):
        """Two rows' block `blk`: each activation quarter loaded once, into both rows' chains."""
        xs = [b.vmovdqu_load_ymm(w[(2 * pair + i) * row_bytes + blk * 32]) for i in range(2)]
        for s in range(4):
            a = b.vmovdqu_load_ymm(q[blk * QK + 32 * s])
            for i in range(2):
                b.vpdpbusd_ymm(sets[i][s], b.vpand_ymm(xs[i], masks[s]), a, out=sets[i][s])

    def row_total(sets, row):
        total = None
        for s in range(4):
            a = sets[0][s]
            for c in range(1, len(sets)):
                a = b.vpaddd_ymm(a, sets[c][s])
            if SHIFTS[s]:
                a = b.vpsrad_ymm(a, SHIFTS[s])
            total = a if total is None else b.vpaddd_ymm(total, a)
        b.vmovdqu_store_ymm(rowsum[row * 32], total)

    if rows_per_block == 2:
        with b.loop("r", M // 2, parallel=True) as pair:
            sets = [[b.vpxor_zero_ymm() for _ in range(4)] for _ in range(2)]      # one set per row
            with b.loop("j", nb) as j:
                block_pair(sets, pair, j)
            for i in range(2):
                row_total([sets[i]], 2 * pair + i)
    else:
        with b.loop("r", M, parallel=True) as row:
            sets = [[b.vpxor_zero_ymm() for _ in range(4)] for _ in range(chains)]
            if nb // chains:
                with b.loop("j", nb // chains) as j:
                    for c in range(chains):
                        block(sets[c], row, j * chains + c)
            for extra in range(nb - nb % chains, nb):
                block(sets[0], row, extra)
            row_total(sets, row)
    bias = b.vpbroadcastd_ymm_m(qsum[0])
    with b.loop("t", M // ROWS, parallel=True) as t:
        rows = [b.vmovdqu_load_ymm(rowsum[(t * ROWS + i) * 32]) for i in range(ROWS)]
        store_row_sums(b, rows, acc_out[t * (4 * ROWS)], subtract=bias)
    return b.build()


def prepare(codes, q, *, chains: int = 2, rows_per_block: int = 1) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_x86 bytes, gamma 1), q, qsum (int32 sum(q)), const (the four field masks)."""
    m, k = np.shape(codes)
    check_shape(m, k, chains=chains, rows_per_block=rows_per_block)
    return gemv_buffers("i2s_x86", codes, q, "vnni/avx2.prepare", qsum=q_sum_bytes,
                        const=const_bytes(*(np.full(32, m_, np.uint8) for m_ in MASKS)))


KERNEL = avx2_kernel(
    "vnni", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape,
    description="workbench design: I2_S bytes masked in place (0xC0/0x30/0x0C/0x03, no shifts), EVEX "
                "vpdpbusd ymm into 8 int32 chains per row (2 sets x 4 quarters), scaled back by shifts; "
                "row totals reduced 4 at a time in a second loop, minus sum(q); exact in int32",
    params={"chains": 2},
    exactness="exact",
)
