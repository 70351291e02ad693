"""prefill_vrmpy on HVX: N tokens against one ternary weight, fields masked once per weight vector (ours, exact).

Kernel layer, batched (prefill). The fieldmask scheme (`kernels.fieldmask.hvx`: rows128 weights,
research/isa.md §3.2, §3.6) with the weight reuse a prompt allows: each 128-byte weight vector x
(128 rows x 4 columns) is loaded and masked once (x & 0x03, x & 0x0C, x & 0x30 and x: three vand)
and multiplied by vrmpy against the activations of a group of G tokens, four vrmpy per token:

    a0[n] += vrmpy(x & 0x03, act[n])  ->  S0        a2[n] += vrmpy(x & 0x30, act[n])  ->  16 S2
    a1[n] += vrmpy(x & 0x0C, act[n])  ->  4 S1      aF[n] += vrmpy(x, act[n])  ->  S0 + 4 S1 + 16 S2 + 64 S3

Each token's activations of a column step are its aligned 128-activation vector rotated by 4 bytes
a step (one vror per token and step, shared by the step's tiles), as in fieldmask.

Registers bound the group: 4 accumulators per token and 128-row tile, and the 32 vector registers
also hold 3 masks, G activation vectors and about 5 weight vectors in flight, so G x tiles <= 4
(16 accumulators, 28 registers live at the peak: `Program.peak_live`). N = 8 runs as two passes
of G = 4 over a tile, its weights (K/4 x 128 bytes, 221 KB for K = 6912) read again from VTCM in
the second pass (``dma=1`` streams them from DDR into VTCM, double-buffered, once per call).
The multipliers bind: 4 G vrmpy per weight vector are 2 G packets (two multiply units per packet
from v69 on), and the load, the three vand and the G / tiles vror ride the other two units of
those packets, so per token the kernel issues fieldmask's two packets per weight vector while DDR
sees the weights once per N tokens.

Software pipeline (the in-order packetizer, isa.md §3.4): token n's four vrmpy fill packets 2n
(x & 3, x) and 2n + 1 (x & 0x0C, x & 0x30) of an item (one weight vector); the next vector is
loaded in packet 2G - 3 and masked in packets 2G - 2 and 2G - 1, right after the last reads of
the parts it replaces; token n's next activations (vror) come in packet 2n + 2 of the step's last
tile (token G - 1's in the next item's first packet): every multiplicand is two or more packets
old when read.

Buffers: w (rows128, gamma 1), q (int8 [N, K] token-major: each token's row as the quantizer
writes it), qsum (per token one vector holding sum(q_n) in every word: bitnet.cpp's act_sum), acc
(int32 [N, M], token-major).

Exactness (proof, fieldmask's for every token): a byte is at most 0b10101010 = 170 and |q| <= 128,
so a column step adds at most 4 * 170 * 128 = 87,040 to a word of aF[n] and less to the others;
after K/4 steps |aF| <= 21,760 K < 2**31 for K <= 98,688 (`check_shape`), so no int32 lane wraps,
the shifts by 2, 4 and 6 divide exactly and every token's rows equal
`workbench.reference.ternary_matvec`.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.hvx import ISA
from kernels.common import check_batch, int32_rows
from kernels.hvx_common import (ROWS, VBYTES, check_rows128, hvx_kernel, qsum_vector, rows128_tiles, splat_b,
                                weight_placement)
from workbench.formats import get_format

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "group_size", "pick_tiles", "TOKENS", "MAX_GROUP",
           "MAX_ACCUMULATORS", "MAX_K"]

TOKENS = (2, 4, 8)          # supported N (tokens per call)
MAX_GROUP = 4               # tokens whose accumulators are in registers at once
MAX_ACCUMULATORS = 16       # 4 fields x group x tiles accumulator vectors of the 32
MAX_K = 98_688              # largest multiple of 128 with 21,760 K < 2**31
MASKS = (0x03, 0x0C, 0x30)  # fields 0..2 in place; field 3 weighs in through the whole byte
ORDER = ((0, 3), (1, 2))    # fields multiplied in a token's first and second packet
STEPS = 32                  # column steps (4 columns each) of a 128-column block


def group_size(N: int) -> int:
    """Tokens per pass: all N up to `MAX_GROUP`, else groups of `MAX_GROUP` (N = 8: two passes)."""
    return min(N, MAX_GROUP)


def pick_tiles(M: int, N: int) -> int:
    """128-row tiles per parallel iteration when tiles = 0: `rows128_tiles` among the counts whose
    accumulators fit (4 x group x tiles <= 16); a tuning choice, never a correctness one."""
    return rows128_tiles(M, MAX_ACCUMULATORS // (4 * group_size(N)))


def check_shape(M: int, K: int, *, N: int = 8, tiles: int = 0, dma: int = 0) -> None:
    """N in 2, 4, 8; 4 x group x tiles accumulators at most 16; K a multiple of 128 up to 98,688;
    M a multiple of 128 x tiles; dma 0 or 1."""
    if N not in TOKENS:
        raise ValueError(f"prefill_vrmpy/hvx: N={N} must be one of {', '.join(map(str, TOKENS))} (tokens per call)")
    accumulators = 4 * group_size(N) * tiles
    if accumulators > MAX_ACCUMULATORS:
        raise ValueError(f"prefill_vrmpy/hvx: tiles={tiles} with {group_size(N)} tokens per pass needs "
                         f"{accumulators} accumulators, more than {MAX_ACCUMULATORS} (32 vector registers)")
    check_rows128("prefill_vrmpy", M, K, tiles=tiles, dma=dma, max_k=MAX_K)


def _finish(b: ProgramBuilder, shifts: dict, accs: list, qs) -> list:
    """int32 rows 32f + i of one token and tile: (a0, a1 >> 2, a2 >> 4, (aF - a0 - a1 - a2) >> 6) - sum(q)."""
    a0, a1, a2, af = accs
    top = b.vsub_w(b.vsub_w(af, a0), b.vadd_w(a1, a2), comment="64 S3")
    scaled = (a0, b.vasr_w_r(a1, shifts[2]), b.vasr_w_r(a2, shifts[4]), b.vasr_w_r(top, shifts[6]))
    return [b.vsub_w(s, qs) for s in scaled]


def _block(b: ProgramBuilder, *, w, q, masks: list, four, state: list, t, p, kb, tiles: int, group: int,
           K: int) -> None:
    """One 128-column block of one pass: the group's activation vectors and the first weight
    vector loaded, then 32 steps x `tiles` items, each 4 x group vrmpy with the next item's load
    and masks and the next step's vror placed as the module doc says."""
    steps = K // 4

    def load(item: int):
        u, r = divmod(item, tiles)
        return b.vmem_load(w[((t * tiles + r) * steps + STEPS * kb + u) * VBYTES])

    x = load(0)
    acts = [b.vmem_load(q[(p * group + n) * K + 128 * kb], comment=f"token {n} of the pass: 128 activations")
            for n in range(group)]
    parts = [b.vand(x, m) for m in masks] + [x]
    items = STEPS * tiles
    carry = False                     # token group-1's vror is due in this item's first packet
    for item in range(items):
        u, r = divmod(item, tiles)
        rotate = r == tiles - 1 and u < STEPS - 1
        following = item + 1 < items
        nxt, new = None, []
        for pk in range(2 * group):
            n, half = divmod(pk, 2)
            for f in ORDER[half]:
                b.vrmpy_ubb_vv_acc(state[r][n][f], parts[f], acts[n], out=state[r][n][f])
            if pk == 0 and carry:
                acts[group - 1] = b.vror(acts[group - 1], four)
                carry = False
            if rotate and half == 0 and n >= 1:
                acts[n - 1] = b.vror(acts[n - 1], four)
            if following and pk == 2 * group - 3:
                nxt = load(item + 1)
            if following and pk == 2 * group - 2:
                new.append(b.vand(nxt, masks[0]))
            if following and pk == 2 * group - 1:
                new += [b.vand(nxt, masks[1]), b.vand(nxt, masks[2])]
        carry = rotate
        if following:
            parts = new + [nxt]


def build(M: int, K: int, *, N: int = 8, tiles: int = 0, dma: int = 0) -> Program:
    """The prefill_vrmpy Program for an M x K weight and N tokens (tiles = 0: `pick_tiles`)."""
    check_shape(M, K, N=N, tiles=tiles, dma=dma)
    tiles = tiles or pick_tiles(M, N)
    group = group_size(N)
    b = ProgramBuilder(ISA, f"prefill_vrmpy_hvx_{M}x{K}x{N}", kernel="prefill_vrmpy", M=M, K=K, N=N,
                       format="rows128", tiles=tiles, group=group, **weight_placement(dma))
    w = b.buffer("w", get_format("rows128").nbytes(M, K))
    q = b.buffer("q", N * K)
    qsum = b.buffer("qsum", N * VBYTES)
    acc = b.buffer("acc", 4 * N * M, role="output")
    masks = [splat_b(b, m) for m in MASKS]
    zero, four = b.tfrsi(0), b.tfrsi(4)
    shifts = {s: b.tfrsi(s) for s in (2, 4, 6)}
    with b.loop("t", M // (ROWS * tiles), parallel=True) as t:
        with b.loop("p", N // group) as p:
            state = [[[b.vsplat_w(zero) for _ in range(4)] for _ in range(group)] for _ in range(tiles)]
            with b.loop("kb", K // 128) as kb:
                _block(b, w=w, q=q, masks=masks, four=four, state=state, t=t, p=p, kb=kb, tiles=tiles,
                       group=group, K=K)
            for r in range(tiles):
                for n in range(group):
                    qs = b.vmem_load(qsum[(p * group + n) * VBYTES], comment="sum(q) of the token per word")
                    for f, row in enumerate(_finish(b, shifts, state[r][n], qs)):
                        b.vmem_store(acc[((p * group + n) * M + (t * tiles + r) * ROWS + 32 * f) * 4], row)
    return b.build()


def prepare(codes, q, *, N: int = 8, tiles: int = 0, dma: int = 0) -> dict[str, np.ndarray]:
    """Buffers: w (rows128, gamma 1), q (the N rows, token-major), qsum (sum(q_n) per word, per token).

    q : int8 [N, K], one row per token.
    """
    m, k = np.shape(codes)
    check_shape(m, k, N=N, tiles=tiles, dma=dma)
    q = check_batch(q, N, k, "prefill_vrmpy/hvx.prepare")
    return {"w": get_format("rows128").pack(codes, gamma=1.0),
            "q": np.ascontiguousarray(q).view(np.uint8).reshape(-1).copy(),
            "qsum": np.concatenate([qsum_vector(row) for row in q])}


def result(buffers, *, M: int, K: int, N: int = 8, tiles: int = 0, dma: int = 0) -> np.ndarray:
    """int32 [N, M]: every token's accumulators."""
    return int32_rows(buffers).reshape(N, M)


KERNEL = hvx_kernel(
    "prefill_vrmpy", "rows128", build=build, prepare=prepare, check_shape=check_shape, result=result,
    result_needs_shape=True, tokens_param="N",
    description="ours, batched (prefill): fieldmask's rows128 weights loaded and masked once (x&3, x&0xC, x&0x30, "
                "x: three vand) and multiplied by vrmpy against a group of up to 4 tokens' activation vectors "
                "(rotated by one vror per token and step), 4 accumulators per token and 128-row tile in "
                "registers; N=8 as two passes over a VTCM-resident tile; 2 packets per weight vector and "
                "token, the weights read once per N tokens; exact for K <= 98,688",
    params={"N": 8, "tiles": 0, "dma": 0},
    exactness="exact",
)
