"""rowdot on NEON: four rows per weight byte, nested masks, one sdot per row and no shifts (ours).

Kernel layer; this workbench's design, built to beat the NEON anchors (bitnet.cpp's I2_S with
sdot, TL1, ggml's TQ2_0, T-MAC, the decoded-code sdot kernel and the add/subtract kernel) on
cortex-x4 and cortex-a55 (research/isa.md §2.3: sdot and and/movi issue on every vector pipe,
shifts on half of them on the big cores; kernels.md §1.2: I2_S spends 3 ushr + 3 and on every 16
weight bytes and loads 4 activation vectors for them).

Weights: format "rows4" (`workbench.formats.rows4`): byte [g, k] holds column k of rows 4g..4g+3,
row 4g+i in bits 2i+1:2i; rows 4g..4g+2 as code c = t + 1, row 4g+3 as t in two's complement.
One 16-byte load x covers 16 columns of 4 rows, and all four rows multiply the same 16
activations, so one activation load serves them (and every group of `groups` byte rows).
The nested masks of x are read as signed int8 by sdot with the activations a:
  A3 += x . a          (x as int8 = 64 t3 + 16 c2 + 4 c1 + c0)
  A2 += (x & 0x3F) . a (16 c2 + 4 c1 + c0),  A1 += (x & 0x0F) . a,  A0 += (x & 0x03) . a
so per lane, A3 - A2 = 64 sum t3 a, A2 - A1 = 16 sum c2 a, A1 - A0 = 4 sum c1 a, A0 = sum c0 a
(every difference is an exact multiple, so sshr divides exactly). Per 16 weight bytes (64
weights): 1 weight load + 1/groups activation loads, 3 and, 4 sdot (I2_S: 5 loads, 3 ushr, 3 and,
4 sdot). At the end of a row block, per group: 3 sub + 3 sshr, an addp tree to the four row sums
(rows 4g..4g+3 in order) and one subtraction of [S, S, S, 0] (S = sum(q), the c = t + 1 offset of
rows 0..2), stored as 4 int32.

Blocking: a parallel iteration takes `groups` byte rows (4 * groups rows; default 4: 16 rows,
16 accumulators), and each sequential iteration `unroll` column blocks (default 2). The loop is
software-pipelined: the next step's weight and activation vectors are loaded into the same
registers as soon as their last reader has issued (one load after every two sdots), so an
in-order core (cortex-a55, cortex-a520) has them in time; the sdots rotate over the accumulators,
so one chain's sdots lie 4 * groups apart (sdot latency 3-4 on the target cores). Measured in the
model at 2560 x 2560 (cycles, 2026-12-05 machine files, this module's defaults): cortex-x4 181,608
(best anchor: T-MAC 250,535, 1.38x; best exact anchor: I2_S 283,124, 1.56x), cortex-a55 893,128
(T-MAC 1,215,286, 1.36x; I2_S 1,350,405, 1.51x).

Exactness: "exact". Every value is an int32 lane sum of K/16 sdots of 4 products |x * a| <=
128 * 128, so |A| <= 4096 K < 2^31 for K <= 2^19 (`check_shape` enforces it); the differences
are at most 64 * 128 * K/4 in magnitude. The result equals `workbench.reference.ternary_matvec`
for every int8 input, -128 included.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import gemv_buffers, gemv_program
from kernels.neon_common import neon_kernel, store_row_sums
from workbench.formats.rows4 import ROWS

__all__ = ["KERNEL", "build", "prepare", "check_shape", "COLS", "K_MAX", "MASKS", "SHIFTS"]

COLS = 16                      # columns per load (one q register)
K_MAX = 1 << 19
MASKS = (0x03, 0x0F, 0x3F)     # nested masks for rows 4g, 4g+1, 4g+2 (row 4g+3 takes x itself)
SHIFTS = (2, 4, 6)             # (A_{i+1} - A_i) >> SHIFTS[i] = sum over row 4g+i+1


def check_shape(M: int, K: int, *, groups: int = 4, unroll: int = 2) -> None:
    """K a multiple of 16 up to 2^19; groups 1, 2 or 4; unroll 1..2; M a multiple of 4 * groups."""
    if unroll not in (1, 2):
        raise ValueError(f"rowdot/neon: unroll={unroll} must be 1 or 2 (column blocks per loop iteration)")
    if groups not in (1, 2, 4):
        raise ValueError(f"rowdot/neon: groups={groups} must be 1, 2 or 4 (byte rows per activation "
                         f"load; 4 groups use 16 accumulators of the 32 registers)")
    if K <= 0 or K % COLS or K > K_MAX:
        raise ValueError(f"rowdot/neon: K={K} is not a positive multiple of {COLS} up to {K_MAX}")
    if M <= 0 or M % (ROWS * groups):
        raise ValueError(f"rowdot/neon: M={M} is not a positive multiple of {ROWS * groups} "
                         f"(4 rows per byte x groups={groups})")


def build(M: int, K: int, *, groups: int = 4, unroll: int = 2) -> Program:
    """The rowdot Program for an M x K weight."""
    check_shape(M, K, groups=groups, unroll=unroll)
    rows_per_block = ROWS * groups
    b, w, q, qsum, acc_out = gemv_program(ISA, "rowdot", M, K, "rows4", buffers=[("qsum", 16)],  # int32 [S, S, S, 0]
                                          groups=groups, unroll=unroll, rows=rows_per_block)
    masks = [b.movi_16b(m, comment=f"0x{m:02X} per byte") for m in MASKS]
    offset = b.ld1_16b(qsum[0], comment="[S, S, S, 0]: the t+1 offset of rows 4g..4g+2")
    nb = K // COLS
    with b.loop("r", M // rows_per_block, parallel=True) as r:
        accs = [[b.movi_zero_16b() for _ in range(ROWS)] for _ in range(groups)]

        def step(xs, avs, j_next=None):
            """Masks and sdots of `unroll` column blocks (weights xs[u][g], activations avs[u]).

            With `j_next` (the first block of the next step), the next step's vectors are loaded
            into the same registers once their last reader has issued (software pipeline), one
            load after every two sdots (an in-order core has one load pipe, busy 2 cycles per
            16-byte load); the sdots rotate over the 4 * groups accumulators, so one chain's
            sdots are 4 * groups apart (sdot latency 3-4), row 4g+3 (x itself) first; each
            mask is made just before its sdot (few registers live; the in-order machines list-schedule).
            """
            pending = []
            for u, xu in enumerate(xs):
                order = [(i, g) for i in (3, 0, 1, 2) for g in range(groups)]
                for n, (i, g) in enumerate(order):
                    field = xu[g] if i == 3 else b.and_16b(xu[g], masks[i])   # mask just before use
                    b.sdot_4s(accs[g][i], field, avs[u], out=accs[g][i])
                    if j_next is not None:
                        if i == 2:                  # x read for the last time: reload it
                            pending.append((w[(r * groups + g) * K + (j_next + u) * COLS], xu[g]))
                        if n == len(order) - 1:     # the activation vector's last reader
                            pending.append((q[(j_next + u) * COLS], avs[u]))
                        if pending and n % 2 == 1:
                            mem, reg = pending.pop(0)
                            b.ld1_16b(mem, out=reg)
            for mem, reg in pending:
                b.ld1_16b(mem, out=reg)

        def load_step(j, n):
            xs = [[b.ld1_16b(w[(r * groups + g) * K + (j + u) * COLS]) for g in range(groups)]
                  for u in range(n)]
            return xs, [b.ld1_16b(q[(j + u) * COLS]) for u in range(n)]

        steps, rest = divmod(nb, unroll)
        if steps:
            xs, avs = load_step(0, unroll)
            if steps > 1:
                with b.loop("j", steps - 1) as j:
                    step(xs, avs, (j + 1) * unroll)
            step(xs, avs)
        if rest:
            step(*load_step(steps * unroll, rest))
        for g in range(groups):
            A = accs[g]
            d = [A[0]] + [b.sshr_4s(b.sub_4s(A[i + 1], A[i]), SHIFTS[i]) for i in range(ROWS - 1)]
            store_row_sums(b, d, acc_out[(r * groups + g) * 16], subtract=offset)
    return b.build()


def prepare(codes, q, *, groups: int = 4, unroll: int = 2) -> dict[str, np.ndarray]:
    """Buffers: w (rows4 bytes, gamma 1), q, qsum (int32 [S, S, S, 0] with S = sum(q))."""
    m, k = np.shape(codes)
    check_shape(m, k, groups=groups, unroll=unroll)
    return gemv_buffers("rows4", codes, q, "rowdot/neon.prepare", qsum=_qsum)


def _qsum(q: np.ndarray) -> np.ndarray:
    """int32 [S, S, S, 0] with S = sum(q): the t + 1 rows' correction (the top row is t itself)."""
    s = int(q.astype(np.int64).sum())
    return np.array([s, s, s, 0], "<i4").view(np.uint8)


KERNEL = neon_kernel(
    "rowdot", "rows4", build=build, prepare=prepare, check_shape=check_shape,
    description="workbench design: rows4 weights (4 rows per byte, top row in two's complement); per 16 "
                "columns one activation load shared by 4*groups rows, nested masks x, x&0x3F, x&0x0F, "
                "x&0x03 (3 and, no shifts) and one sdot per row into int32; rows separated at the end by "
                "differences and exact shifts, minus sum(q) for the t+1 rows; exact in int32",
    params={"groups": 4, "unroll": 2},
    exactness="exact",
)
