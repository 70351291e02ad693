"""prefill_sdot on NEON: N tokens against one ternary weight with the dot product, no i8mm (ours).

Kernel layer, batched (prefill), for cores with FEAT_DotProd but no FEAT_I8MM (Cortex-A55, A76,
A77: research/isa.md §2.5; the machine files' ``extensions``). The weight is read and decoded
once per call and applied to all N tokens: rowdot (`kernels.rowdot.neon`) with the token as a
second blocking dimension. Weights: format "rows4" (byte [g, k] holds column k of rows 4g..4g+3;
rows 4g..4g+2 as t + 1, row 4g+3 as t in two's complement). Per 16 columns and byte row: one
16-byte load x and its nested masks x & 0x03, x & 0x0F, x & 0x3F (3 ``and``) are the four row
levels; each level meets every token's 16 activations in one ``sdot``. Per 64 weights and
token: 4 sdot + 3 / N and (rowdot: 4 sdot + 3 and) and one activation load.

Activations: buffer "q" is q [N, K] row-major (token t at byte t * K); "qsum" holds int32
[S_t, S_t, S_t, 0] per token (S_t = sum(q_t), bitnet.cpp's act_sum: the t + 1 rows' offset).

Blocking: a parallel iteration takes `groups` byte rows (4 * groups rows) and all N tokens; the
accumulators are 4 levels x groups x N with groups * N <= 4 (16 registers: 4 rows x 4 tokens
or 8 rows x 2 tokens; 8 tokens would need 32 accumulators and the vector registers are 32), so
N is 2 or 4. The K loop steps 16 columns, software-pipelined as rowdot's: the next step's
weight and activation vectors are loaded into the same registers once their last reader has
issued, one load after every two sdots (an in-order core, Cortex-A55, has them in time); one
accumulator's sdots lie 4 * groups * N apart. At the end of a row block, per byte row and
token: the level differences (sub, exact sshr by 2/4/6), the 4-row addp tree
(`kernels.neon_common.store_row_sums`) minus [S_t, S_t, S_t, 0], stored at acc[token, row].
Measured in the model at 2560 x 2560 (cycles per token, machine files of 2026-12-05): N=4
cortex-a76 and cortex-a77 248,001 (rowdot 363,207: 1.46x), cortex-a55 574,562 (rowdot 893,128:
1.55x, dispatch-bound: 43 uops per step on its 2-wide issue); N=2 1.27x / 1.23x.

Exactness: "exact" (rowdot's proof per token): an int32 lane sums K/16 sdots of 4 products
|x * a| <= 128 * 128, so |A| <= 4096 K < 2^31 for K <= 2^19 (`check_shape` enforces it); the
differences and shifts are exact, and the result equals `workbench.reference.ternary_matvec`
for every token and every int8 input, -128 included.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import check_batch, int32_rows
from kernels.neon_common import neon_kernel, store_row_sums
from workbench.formats import get_format
from workbench.formats.rows4 import ROWS

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "token_offsets", "COLS", "K_MAX", "MASKS",
           "SHIFTS", "TOKENS"]

COLS = 16                      # columns per K step (one q register per token)
K_MAX = 1 << 19                # 4096 * K < 2^31
MASKS = (0x03, 0x0F, 0x3F)     # nested masks of levels 0..2 (level 3 is the byte itself)
SHIFTS = (2, 4, 6)             # (A_{i+1} - A_i) >> SHIFTS[i] = the sum of row 4g+i+1
TOKENS = (2, 4)                # supported N
GROUPS = (1, 2)                # supported byte rows per parallel iteration
MAX_BLOCK = 4                  # groups * N (4 levels each: 16 accumulators)


def check_shape(M: int, K: int, *, N: int = 4, groups: int = 1) -> None:
    """N 2 or 4; groups 1 or 2 with groups * N <= 4; K a multiple of 16 up to 2^19; M a multiple
    of 4 * groups."""
    if N not in TOKENS:
        raise ValueError(f"prefill_sdot/neon: N={N} must be 2 or 4 (tokens per call; 8 tokens need 32 "
                         f"accumulators of the 32 vector registers)")
    if groups not in GROUPS:
        raise ValueError(f"prefill_sdot/neon: groups={groups} must be 1 or 2 (byte rows per block)")
    if groups * N > MAX_BLOCK:
        raise ValueError(f"prefill_sdot/neon: groups * N = {groups * N} exceeds {MAX_BLOCK} "
                         f"({4 * groups * N} accumulators; 16 fit the 32 vector registers)")
    if K <= 0 or K % COLS or K > K_MAX:
        raise ValueError(f"prefill_sdot/neon: K={K} is not a positive multiple of {COLS} up to {K_MAX}")
    if M <= 0 or M % (ROWS * groups):
        raise ValueError(f"prefill_sdot/neon: M={M} is not a positive multiple of {ROWS * groups} "
                         f"(4 rows per byte x groups={groups})")


def build(M: int, K: int, *, N: int = 4, groups: int = 1) -> Program:
    """The prefill_sdot Program for an M x K weight and N tokens."""
    check_shape(M, K, N=N, groups=groups)
    b = ProgramBuilder(ISA, f"prefill_sdot_neon_{M}x{K}x{N}", kernel="prefill_sdot", M=M, K=K, N=N,
                       format="rows4", groups=groups, rows=ROWS * groups)
    w = b.buffer("w", get_format("rows4").nbytes(M, K))
    q = b.buffer("q", N * K)
    qsum = b.buffer("qsum", 16 * N)
    acc_out = b.buffer("acc", 4 * N * M, role="output")
    masks = [b.movi_16b(m, comment=f"0x{m:02X} per byte") for m in MASKS]
    steps = K // COLS
    with b.loop("r", M // (ROWS * groups), parallel=True) as r:
        # A[g][i][t]: byte row g, level i, token t; lanes are column partial sums
        A = [[[b.movi_zero_16b() for _ in range(N)] for _ in range(ROWS)] for _ in range(groups)]

        def w_at(g, j):
            return w[(r * groups + g) * K + j * COLS]

        def step(xs, avs, j_next=None):
            """Masks and sdots of one 16-column step: every byte row's three masks, the sdots of
            level 3 (x itself) for every token, then per token its 3 * groups masked sdots. With
            `j_next`, the next step's vectors are loaded into the same registers once their last
            reader has issued (x after its level-3 sdots, a token's activations after its last
            sdot), one load after every two sdots, so they arrive spread over the step."""
            levels = [[b.and_16b(xs[g], masks[i]) for i in range(ROWS - 1)] + [xs[g]] for g in range(groups)]
            order = [(t, g, 3) for t in range(N) for g in range(groups)]
            order += [(t, g, i) for t in range(N) for g in range(groups) for i in range(ROWS - 1)]
            pending = []
            for n, (t, g, i) in enumerate(order):
                b.sdot_4s(A[g][i][t], levels[g][i], avs[t], out=A[g][i][t])
                if j_next is None:
                    continue
                if i == 3 and t == N - 1:                   # x read for the last time
                    pending.append((w_at(g, j_next), xs[g]))
                if i == ROWS - 2 and g == groups - 1:       # the token's activations read for the last time
                    pending.append((q[t * K + j_next * COLS], avs[t]))
                if pending and n % 2 == 1:
                    mem, reg = pending.pop(0)
                    b.ld1_16b(mem, out=reg)
            for mem, reg in pending:
                b.ld1_16b(mem, out=reg)

        xs = [b.ld1_16b(w_at(g, 0)) for g in range(groups)]
        avs = [b.ld1_16b(q[t * K]) for t in range(N)]
        if steps > 1:
            with b.loop("j", steps - 1) as j:
                step(xs, avs, j + 1)
        step(xs, avs)
        for t in range(N):
            offset = b.ld1_16b(qsum[16 * t], comment="[S_t, S_t, S_t, 0]: the t+1 offset of rows 4g..4g+2")
            for g in range(groups):
                a = [A[g][i][t] for i in range(ROWS)]
                d = [a[0]] + [b.sshr_4s(b.sub_4s(a[i + 1], a[i]), SHIFTS[i]) for i in range(ROWS - 1)]
                store_row_sums(b, d, acc_out[4 * t * M + (r * groups + g) * 16], subtract=offset)
    return b.build()


def token_offsets(q: np.ndarray) -> np.ndarray:
    """uint8 [16 * N]: int32 [S_t, S_t, S_t, 0] per token (S_t = sum(q_t))."""
    s = q.astype(np.int64).sum(axis=1)
    return np.stack([s, s, s, np.zeros_like(s)], axis=1).astype("<i4").view(np.uint8).reshape(-1)


def prepare(codes, q, *, N: int = 4, groups: int = 1) -> dict[str, np.ndarray]:
    """Buffers: w (rows4 bytes, gamma 1), q (q [N, K] row-major bytes), qsum (`token_offsets`).

    q : int8 [N, K], one row per token.
    """
    m, k = np.shape(codes)
    check_shape(m, k, N=N, groups=groups)
    q = check_batch(q, N, k, "prefill_sdot/neon.prepare")
    return {"w": get_format("rows4").pack(codes, gamma=1.0), "q": q.view(np.uint8).reshape(-1).copy(),
            "qsum": token_offsets(q)}


def result(buffers, *, M: int, K: int, N: int = 4, groups: int = 1) -> np.ndarray:
    """int32 [N, M]: the accumulators of every token."""
    return int32_rows(buffers).reshape(N, M)


KERNEL = neon_kernel(
    "prefill_sdot", "rows4", build=build, prepare=prepare, check_shape=check_shape, result=result,
    result_needs_shape=True, tokens_param="N",
    description="workbench design, batched (prefill, FEAT_DotProd, no i8mm): rowdot with N tokens per call; "
                "each 16-byte rows4 load and its nested masks x, x&0x3F, x&0x0F, x&0x03 (3 and, no shifts) "
                "serve every token, one sdot per row level and token into int32; rows separated at the end "
                "by differences and exact shifts, minus sum(q_t) for the t+1 rows; exact in int32",
    params={"N": 4, "groups": 1},
    exactness="exact",
)
