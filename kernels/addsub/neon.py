"""addsub on NEON: activations selected by bit masks tested in the packed codes, added and subtracted.

Kernel layer, an anchor of the multiply-free family (kernels/addsub/__init__.py). Weights: format
"i2s_arm" (64 weights per 16-byte block; element 16 s + j in byte j, bits 7-2s:6-2s, as
c = t + 1 in {0, 1, 2}). No field is unpacked: for field s, ``cmtst`` against 0x80 >> 2s (the
field's high bit: c = 2, t = +1) gives the "add" mask and ``cmtst`` against 0xC0 >> 2s (any bit:
c != 0) the "not subtract" mask, straight from the packed byte. ``and`` keeps the activations of
+1 weights, ``bic`` those of -1 weights, and each selection is summed pairwise into int16 by
``sadalp`` (one "plus" and one "minus" accumulator per field: eight independent chains per row).
Every `blocks_per_chunk` blocks the int16 lanes are widened into int32 (``sadalp`` .4s) and
restart. Per block and row: 1 weight load + 4 activation loads, 8 cmtst, 4 and, 4 bic, 8 sadalp,
and not one multiplication. The row is sum(plus) - sum(minus); rows are folded 4 at a time
(`store_row_sums`).

Exactness: "exact". An int16 lane gains at most one pair of selected activations, |.| <= 256, per
block of its chunk: blocks_per_chunk <= 127 keeps it within 127 * 256 = 32512 (`check_shape`
enforces it); the int32 totals are at most 128 K in magnitude.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import block_chunks, check_tiles, gemv_buffers, gemv_program
from kernels.neon_common import neon_kernel, store_row_sums

__all__ = ["KERNEL", "build", "prepare", "check_shape", "QK", "ROWS", "chunks"]

QK = 64
ROWS = 4
MAX_CHUNK = 127                # int16 lane: 127 pairs of |.| <= 256


def check_shape(M: int, K: int, *, blocks_per_chunk: int = 64) -> None:
    """K a multiple of 64, M a multiple of 4, 1 <= blocks_per_chunk <= 127."""
    if not 1 <= blocks_per_chunk <= MAX_CHUNK:
        raise ValueError(f"addsub/neon: blocks_per_chunk={blocks_per_chunk} is not in 1..{MAX_CHUNK} "
                         f"(int16 lanes gain up to 256 per block)")
    check_tiles("addsub/neon", M, K, k_multiple=QK, rows=ROWS, k_max=1 << 24)


def chunks(K: int, blocks_per_chunk: int) -> list[tuple[int, int]]:
    """(first block, blocks) of each int16 accumulation chunk of a row."""
    return block_chunks(K // QK, blocks_per_chunk)


def build(M: int, K: int, *, blocks_per_chunk: int = 64) -> Program:
    """The add/subtract Program for an M x K weight."""
    check_shape(M, K, blocks_per_chunk=blocks_per_chunk)
    row_bytes = K // 4
    b, w, q, acc_out = gemv_program(ISA, "addsub", M, K, "i2s_arm", blocks_per_chunk=blocks_per_chunk, rows=ROWS)
    high = [b.movi_16b(0x80 >> 2 * s, comment=f"field {s}: c = 2 (t = +1)") for s in range(4)]
    field = [b.movi_16b(0xC0 >> 2 * s, comment=f"field {s}: c != 0 (t != -1)") for s in range(4)]
    with b.loop("t", M // ROWS, parallel=True) as t:
        rows = []
        for r in range(ROWS):
            plus32, minus32 = b.movi_zero_16b(), b.movi_zero_16b()
            for c, (first, count) in enumerate(chunks(K, blocks_per_chunk)):
                plus = [b.movi_zero_16b() for _ in range(4)]
                minus = [b.movi_zero_16b() for _ in range(4)]
                with b.loop(f"j{r}_{c}", count) as j:
                    x = b.ld1_16b(w[(t * ROWS + r) * row_bytes + (first + j) * 16])
                    for s in range(4):
                        a = b.ld1_16b(q[(first + j) * QK + 16 * s])
                        add = b.and_16b(a, b.cmtst_16b(x, high[s]))
                        sub = b.bic_16b(a, b.cmtst_16b(x, field[s]))
                        b.sadalp_8h(plus[s], add, out=plus[s])
                        b.sadalp_8h(minus[s], sub, out=minus[s])
                for s in range(4):
                    b.sadalp_4s(plus32, plus[s], out=plus32)
                    b.sadalp_4s(minus32, minus[s], out=minus32)
            rows.append(b.sub_4s(plus32, minus32))
        store_row_sums(b, rows, acc_out[t * (4 * ROWS)])
    return b.build()


def prepare(codes, q, *, blocks_per_chunk: int = 64) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_arm bytes, gamma 1) and q."""
    m, k = np.shape(codes)
    check_shape(m, k, blocks_per_chunk=blocks_per_chunk)
    return gemv_buffers("i2s_arm", codes, q, "addsub/neon.prepare")


KERNEL = neon_kernel(
    "addsub", "i2s_arm", build=build, prepare=prepare, check_shape=check_shape,
    description="multiply-free anchor: cmtst masks tested in the packed I2_S ARM fields (+1: the field's high "
                "bit, -1: no bit), and/bic select the activations, sadalp sums them pairwise into int16 "
                "'plus' and 'minus' lanes, widened every blocks_per_chunk blocks; row = plus - minus; exact",
    params={"blocks_per_chunk": 64},
    exactness="exact",
)
