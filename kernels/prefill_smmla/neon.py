"""prefill_smmla on NEON: N tokens against one ternary weight, two rows x two tokens per ``smmla`` (ours).

Kernel layer, batched (prefill). The weight is read and decoded once per call and applied to
all N tokens: the rowdot idea (`kernels.rowdot.neon`: rows4 bytes read through nested masks, no
shifts) on the Int8 matrix multiply of FEAT_I8MM. ``smmla acc.4s, a.16b, b.16b`` treats each
source as a 2x8 int8 matrix and adds A x B^T to the 2x2 int32 accumulator (Arm ARM DDI 0487,
SMMLA): 32 multiply-adds per instruction, twice sdot's 16, on the same pipes (research/isa.md
§2.3; the machine files time ``neon.smmla`` like ``neon.sdot``).

Weights: format "rows4" (byte [g, k] holds column k of rows 4g..4g+3; rows 4g..4g+2 as t + 1,
row 4g+3 as t in two's complement). Per 16 columns and pair of byte rows (g0, g1): two 16-byte
loads, ``zip1``/``zip2 .2d`` make A = [g0 cols 0-7 | g1 cols 0-7] and [.. cols 8-15]; the
nested masks x, x & 0x3F, x & 0x0F, x & 0x03 of A (3 ``and``) are its four row levels, and each
level meets every token pair: ``smmla`` with B = [token 2p cols | token 2p+1 cols] adds, per
lane (g, t), sum_k level(g, k) q_t[k]. Per 64 weights and token: 2 smmla + (3 and + 1 zip) / N
(rowdot: 4 sdot + 3 and), the weight bytes loaded once for N tokens.

Activations: buffer "q" holds the N tokens interleaved in 8-byte chunks, token pairs adjacent
(chunk c of token t at byte (c * N + t) * 8): the layout ggml's i8mm GEMM takes from its
quantizer (``ggml_quantize_mat_q8_0_4x8`` writes block_q8_0x4 with blck_size_interleave 8 for
``ggml_gemm_q4_0_4x8_q8_0``'s ``vmmlaq_s32``; ggml-org/llama.cpp
ggml/src/ggml-cpu/arch/arm/repack.cpp, commit a3a397738763d730ae7443ad7f9e509e8b8a1ab0), so
`prepare` lays q [N, K] out that way, as the activation quantizer would write it. "qsum" holds
int32 [S_a, S_b, S_a, S_b] per token pair (S_t = sum(q_t), bitnet.cpp's act_sum).

Blocking: a parallel iteration takes `groups` byte rows (4 * groups rows) and all N tokens; the
accumulators are 4 levels x groups/2 row pairs x N/2 token pairs = groups * N registers
(default groups 2, N 8: 16 accumulators, 32 vector registers live at the peak, checked by
the builder; clang-19 allocates the loop without a spill). The K loop
steps 16 columns. At the end of a row block, per row pair and token pair: the level
differences (sub, exact sshr by 2/4/6), minus S for the t + 1 rows, a 4x4 ``trn`` transpose to
four rows of one (group, token) each, stored as 4 int32 at acc[token, row]. The K loop is
software-pipelined (the next step's weights and first-half activations load during this one).
Measured in the model at 2560 x 2560 (cycles per token, machine files of 2026-12-05, groups 2):
cortex-x4 N=8 64,994 (rowdot 181,608: 2.79x; N=4 2.33x, N=2 1.76x), cortex-a720 N=8 130,001
(2.79x), cortex-a520 N=8 163,441 (2.62x); bound by the vector pipes (40 per 16-column step).

Exactness: "exact". A level byte read as int8 lies in [-64, 106] (64 t3 + 16 c2 + 4 c1 + c0,
c <= 2), so an smmla lane, the sum over K of one level byte times one int8 activation, is at
most 106 * 128 * K < 2^31 for K <= 2^17 (`check_shape` enforces it); the differences and
shifts are then exact and the result equals `workbench.reference.ternary_matvec` for every
token and every int8 input, -128 included.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import check_batch, int32_rows
from kernels.neon_common import neon_kernel
from workbench.formats import get_format
from workbench.formats.rows4 import ROWS

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "interleave", "pair_sums", "COLS", "K_MAX",
           "MASKS", "SHIFTS", "TOKENS"]

COLS = 16                      # columns per K step (two 8-column smmla operands)
CHUNK = 8                      # columns per smmla operand row
K_MAX = 1 << 17                # 106 * 128 * K < 2^31
MASKS = (0x03, 0x0F, 0x3F)     # nested masks of levels 0..2 (level 3 is the byte itself)
SHIFTS = (2, 4, 6)             # (A_{i+1} - A_i) >> SHIFTS[i] = the sum of row 4g+i+1
TOKENS = (2, 4, 8)             # supported N
GROUPS = (2, 4)                # supported byte rows per parallel iteration
MAX_ACCUMULATORS = 16          # groups * N: accumulators of one row block


def check_shape(M: int, K: int, *, N: int = 8, groups: int = 2) -> None:
    """N in 2, 4, 8; groups 2 or 4 with groups * N <= 16; K a multiple of 16 up to 2^17; M a
    multiple of 4 * groups."""
    if N not in TOKENS:
        raise ValueError(f"prefill_smmla/neon: N={N} must be one of {', '.join(map(str, TOKENS))} (tokens per call)")
    if groups not in GROUPS:
        raise ValueError(f"prefill_smmla/neon: groups={groups} must be 2 or 4 (byte rows per block, in pairs)")
    if groups * N > MAX_ACCUMULATORS:
        raise ValueError(f"prefill_smmla/neon: groups * N = {groups * N} accumulators exceed {MAX_ACCUMULATORS} "
                         f"(32 vector registers)")
    if K <= 0 or K % COLS or K > K_MAX:
        raise ValueError(f"prefill_smmla/neon: K={K} is not a positive multiple of {COLS} up to {K_MAX}")
    if M <= 0 or M % (ROWS * groups):
        raise ValueError(f"prefill_smmla/neon: M={M} is not a positive multiple of {ROWS * groups} "
                         f"(4 rows per byte x groups={groups})")


def _transpose4(b: ProgramBuilder, d: list) -> list:
    """The 4x4 int32 transpose of d[0..3]: out[L] = [d0[L], d1[L], d2[L], d3[L]] (trn1/trn2 .4s, .2d)."""
    t0, t1 = b.trn1_4s(d[0], d[1]), b.trn2_4s(d[0], d[1])
    t2, t3 = b.trn1_4s(d[2], d[3]), b.trn2_4s(d[2], d[3])
    return [b.trn1_2d(t0, t2), b.trn1_2d(t1, t3), b.trn2_2d(t0, t2), b.trn2_2d(t1, t3)]


def build(M: int, K: int, *, N: int = 8, groups: int = 2) -> Program:
    """The prefill_smmla Program for an M x K weight and N tokens."""
    check_shape(M, K, N=N, groups=groups)
    pairs, tpairs = groups // 2, N // 2
    b = ProgramBuilder(ISA, f"prefill_smmla_neon_{M}x{K}x{N}", kernel="prefill_smmla", M=M, K=K, N=N,
                       format="rows4", groups=groups, rows=ROWS * groups)
    w = b.buffer("w", get_format("rows4").nbytes(M, K))
    q = b.buffer("q", N * K)
    qsum = b.buffer("qsum", 16 * tpairs)
    acc_out = b.buffer("acc", 4 * N * M, role="output")
    masks = [b.movi_16b(m, comment=f"0x{m:02X} per byte") for m in MASKS]
    with b.loop("r", M // (ROWS * groups), parallel=True) as r:
        # A[p][i][tp]: row pair p, level i, token pair tp; lanes [g0 ta, g0 tb, g1 ta, g1 tb]
        A = [[[b.movi_zero_16b() for _ in range(tpairs)] for _ in range(ROWS)] for _ in range(pairs)]

        def w_at(g, j):
            return w[(r * groups + g) * K + j * COLS]

        def q_at(h, tp, j):
            return q[j * (COLS * N) + (h * tpairs + tp) * 16]

        def step(raw, acts0, j, j_next=None):
            """One 16-column step. With `j_next`, the next step's weights (after the zips) and
            first-half activations (after their last smmla) are loaded into the same registers,
            one load after every two smmla, so an in-order core has them in time; the second
            half's activations are loaded during the first half."""
            xs = [(b.zip1_2d(raw[2 * p], raw[2 * p + 1]), b.zip2_2d(raw[2 * p], raw[2 * p + 1]))
                  for p in range(pairs)]
            nxt = j_next is not None
            pending = [(w_at(g, j_next), raw[g]) for g in range(groups)] if nxt else []
            acts1 = [b.reg("v") for _ in range(tpairs)]
            pending = [(q_at(1, tp, j), acts1[tp]) for tp in range(tpairs)] + pending
            n = 0
            for h, acts in ((0, acts0), (1, acts1)):
                for p in range(pairs):
                    for i in (3, 0, 1, 2):
                        level = xs[p][h] if i == 3 else b.and_16b(xs[p][h], masks[i])
                        for tp in range(tpairs):
                            b.smmla_4s(A[p][i][tp], level, acts[tp], out=A[p][i][tp])
                            if nxt and h == 0 and p == pairs - 1 and i == 2:     # last reader
                                pending.append((q_at(0, tp, j_next), acts0[tp]))
                            if pending and n % 2 == 1:
                                mem, reg = pending.pop(0)
                                b.ld1_16b(mem, out=reg)
                            n += 1
            for mem, reg in pending:
                b.ld1_16b(mem, out=reg)

        raw = [b.ld1_16b(w_at(g, 0)) for g in range(groups)]
        acts0 = [b.ld1_16b(q_at(0, tp, 0)) for tp in range(tpairs)]
        steps = K // COLS
        if steps > 1:
            with b.loop("j", steps - 1) as j:
                step(raw, acts0, j, j + 1)
        step(raw, acts0, steps - 1)
        for tp in range(tpairs):
            s = b.ld1_16b(qsum[16 * tp], comment="[S_a, S_b, S_a, S_b]: the t+1 offset")
            for p in range(pairs):
                a = [A[p][i][tp] for i in range(ROWS)]
                d = [b.sub_4s(a[0], s)]
                d += [b.sub_4s(b.sshr_4s(b.sub_4s(a[i + 1], a[i]), SHIFTS[i]), s) for i in range(2)]
                d.append(b.sshr_4s(b.sub_4s(a[3], a[2]), SHIFTS[2]))
                for lane, col in enumerate(_transpose4(b, d)):
                    token, group = 2 * tp + lane % 2, 2 * p + lane // 2
                    b.st1_16b(acc_out[4 * token * M + (r * groups + group) * 16], col)
    return b.build()


def interleave(q: np.ndarray) -> np.ndarray:
    """uint8 [N * K]: tokens q [N, K] interleaved in 8-byte chunks (chunk c of token t at (c * N + t) * 8)."""
    n, k = q.shape
    return np.ascontiguousarray(q.reshape(n, k // CHUNK, CHUNK).transpose(1, 0, 2)).view(np.uint8).reshape(-1)


def pair_sums(q: np.ndarray) -> np.ndarray:
    """uint8 [16 * N/2]: int32 [S_a, S_b, S_a, S_b] per token pair (S_t = sum(q_t))."""
    s = q.astype(np.int64).sum(axis=1).reshape(-1, 2)
    return np.tile(s, (1, 2)).astype("<i4").view(np.uint8).reshape(-1)


def prepare(codes, q, *, N: int = 8, groups: int = 2) -> dict[str, np.ndarray]:
    """Buffers: w (rows4 bytes, gamma 1), q (the N tokens interleaved: `interleave`), qsum (`pair_sums`).

    q : int8 [N, K], one row per token.
    """
    m, k = np.shape(codes)
    check_shape(m, k, N=N, groups=groups)
    q = check_batch(q, N, k, "prefill_smmla/neon.prepare")
    return {"w": get_format("rows4").pack(codes, gamma=1.0), "q": interleave(q), "qsum": pair_sums(q)}


def result(buffers, *, M: int, K: int, N: int = 8, groups: int = 2) -> np.ndarray:
    """int32 [N, M]: the accumulators of every token."""
    return int32_rows(buffers).reshape(N, M)


KERNEL = neon_kernel(
    "prefill_smmla", "rows4", build=build, prepare=prepare, check_shape=check_shape, result=result,
    result_needs_shape=True, tokens_param="N",
    description="workbench design, batched (prefill, FEAT_I8MM): rows4 weights loaded and decoded once for "
                "N tokens; two byte rows zipped into a 2x8 smmla operand, nested masks x, x&0x3F, x&0x0F, "
                "x&0x03 (3 and) as the four row levels, one smmla per level and token pair (2 rows x 2 tokens "
                "x 8 columns); tokens interleaved in 8-byte chunks as ggml's i8mm GEMM quantizes them; rows "
                "separated at the end by differences and exact shifts, minus sum(q_t) for the t+1 rows; "
                "exact in int32",
    params={"N": 8, "groups": 2},
    exactness="exact",
)
