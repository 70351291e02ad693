"""prefill_vnni on AVX2: N tokens against one ternary weight, each decoded block reused (ours).

Kernel layer, batched (prefill); the design shared with `kernels.prefill_maddubs.avx2`, which
differs only in the dot-product step. Weights: format "i2s_x86" unchanged (as kernels/vnni): a
32-byte block holds 128 weights of one row, byte b carrying c = t + 1 of elements 32s + b in
bits 7-6, 5-4, 3-2, 1-0 for quarters s = 0..3. Per block the weight is loaded once and decoded
once into four u8 field vectors f_s = (x >> 2(3-s)) & 0x03 in {0, 1, 2} (3 vpsrlw + 4 vpand);
every field then meets every token's 32 activations of its quarter (memory operands, q [N, K]
row-major): here one EVEX vpdpbusd ymm per (quarter, token) into int32; per 128 weights and
token 4 vpdpbusd + 7/G decode ops + 0 extra loads, against vnni's 4 vpdpbusd + 4 vpand + 1 load
(a weight decoded once serves G tokens: the weight reuse of a prefill kernel).

Blocking: a parallel iteration is one row; tokens go in groups of G = min(N, 8) (N = 16: two
groups, the row's 640-byte weight read twice from L1). Per group the accumulators are G tokens
x C chains (C = 4, 4, 2, 1 for G = 1, 2, 4, 8: quarters alternate over chains, so 8 int32
chains hide vpdpbusd's 4-cycle latency at 2 per cycle on Zen 4, research/isa.md §1.2); with the
4 field vectors, the weight, the mask and the group total that is at most 15 of the 16 ymm.
At the row's end each token's chains are added and reduced across lanes by a vphaddd tree (two
vperm2i128 + vpaddd for 8 tokens, vextracti128 + vpaddd otherwise) into one vector of the G
token totals, minus the tokens' sum(q_t) (buffer "qsum", bitnet.cpp's act_sum), stored at
acc[row, group]: "acc" is int32 [M, groups, P], P = max(G, 4) (padding lanes hold 0), and
`result` returns it as [N, M].
Measured (2560 x 2560, 2026-12-05; benchmarks/prefill_kernels.py): zen4 model, N = 4..16,
117,072 cycles per token against vnni2's 128,014 warm (1.09x, FP0+FP1 bound: the vpdpbusd
floor is 102,400) and 201,938 with the weights streamed from DRAM (1.72x); natively on this
project's Granite Rapids host N = 8 took 147,952 cycles per token against vnni2's 227,928
(1.54x, NativeKernel.time, least of 3 medians of 31, shared host). N = 8 is the default.

Exactness: "exact". vpdpbusd is u8 x s8 into int32 without saturation; an int32 lane sums
at most 4 * K/32 products c * q with |c * q| <= 256, i.e. |lane| <= 32 K < 2^31, and the row
total sum((t + 1) q) has |.| <= 256 K < 2^31 for K <= 2^21 (`check_shape` enforces it), so
total - sum(q) = sum(t * q) equals `workbench.reference.ternary_matvec` for every token and
every int8 input, -128 included. Requires AVX512-VNNI + AVX512-VL (the EVEX form; zen4,
graniterapids); machines without them run prefill_maddubs.
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2 import ISA
from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from kernels.common import check_batch
from kernels.avx2_common import avx2_kernel, const_bytes
from workbench.formats import get_format

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "token_sums", "groups_of", "QK", "K_MAX",
           "TOKENS", "GROUP"]

QK = 128                       # weights per 32-byte block
K_MAX = 1 << 21                # 256 * K < 2^31
TOKENS = (1, 2, 4, 8, 16)      # supported N
GROUP = 8                      # tokens per pass over a row (accumulator registers)
SHIFTS = (6, 4, 2, 0)          # field of quarter s: (x >> SHIFTS[s]) & 0x03
CHUNK_MAX = 16                 # maddubs: int16 lanes exact over 16 blocks (see its module)


def groups_of(N: int, rows: int = 2) -> tuple[int, int, int]:
    """(G, groups, P): tokens per group (`GROUP` // rows at most), groups per row, int32 lanes per
    group in acc and qsum."""
    g = min(N, GROUP // rows)
    return g, N // g, max(g, 4)


def check_shape(M: int, K: int, *, N: int = 8, rows: int = 2) -> None:
    """N in 1, 2, 4, 8, 16; rows 1 or 2 (M a multiple of it); K a positive multiple of 128 up to
    2^21."""
    _check(M, K, N=N, rows=rows, who="prefill_vnni/avx2")


def _check(M: int, K: int, *, N: int, rows: int, who: str, blocks_per_chunk: int | None = None) -> None:
    if N not in TOKENS:
        raise ValueError(f"{who}: N={N} must be one of {', '.join(map(str, TOKENS))} (tokens per call; "
                         f"groups of up to {GROUP})")
    if K <= 0 or K % QK or K > K_MAX:
        raise ValueError(f"{who}: K={K} is not a positive multiple of {QK} up to {K_MAX}")
    if rows not in (1, 2):
        raise ValueError(f"{who}: rows={rows} must be 1 or 2 (rows per iteration; 16 ymm registers)")
    if M <= 0 or M % rows:
        raise ValueError(f"{who}: M={M} is not a positive multiple of rows={rows}")
    if blocks_per_chunk is not None and not 1 <= blocks_per_chunk <= CHUNK_MAX:
        raise ValueError(f"{who}: blocks_per_chunk={blocks_per_chunk} must be in 1..{CHUNK_MAX} "
                         f"(int16 lanes are exact over at most {CHUNK_MAX} blocks)")


def _chains(G: int, rows: int) -> int:
    """int32 chains per (row, token): 8 accumulators in all, at most 4 (the quarters)."""
    return min(4, GROUP // (rows * G))


def token_totals(b: ProgramBuilder, vecs: list):
    """The lane sums of G <= 8 int32x8 token vectors as one vector [t_0, .., t_{G-1}, 0, ..]: a
    ymm of 8 totals for G = 8, else an xmm of 4 (tokens padded with zero vectors)."""
    vecs = list(vecs)
    while len(vecs) % 4:
        vecs.append(b.vpxor_zero_ymm())
    quads = []
    for i in range(0, len(vecs), 4):
        v = vecs[i:i + 4]
        quads.append(b.vphaddd_ymm(b.vphaddd_ymm(v[0], v[1]), b.vphaddd_ymm(v[2], v[3])))
    if len(quads) == 1:                    # [lo sums t0..t3 | hi sums t0..t3]
        return b.vpaddd_xmm(quads[0], b.vextracti128_ymm(quads[0], 1))
    lo = b.vperm2i128_ymm(quads[0], quads[1], 0x20)
    hi = b.vperm2i128_ymm(quads[0], quads[1], 0x31)
    return b.vpaddd_ymm(lo, hi)


def program(kernel: str, M: int, K: int, N: int, *, const_size: int, rows: int, **meta):
    """The ProgramBuilder of a batched AVX2 kernel over i2s_x86 weights and its buffers:
    (b, w, q [N, K], qsum [groups, P] int32, const, acc [M, groups, P] int32)."""
    _, groups, P = groups_of(N, rows)
    b = ProgramBuilder(ISA, f"{kernel}_avx2_{M}x{K}x{N}", kernel=kernel, M=M, K=K, N=N, format="i2s_x86",
                       rows=rows, **meta)
    w = b.buffer("w", get_format("i2s_x86").nbytes(M, K))
    q = b.buffer("q", N * K)
    qsum = b.buffer("qsum", 4 * groups * P)
    consts = b.buffer("const", const_size, role="const")
    acc = b.buffer("acc", 4 * M * groups * P, role="output")
    return b, w, q, qsum, consts, acc


def _store(b: ProgramBuilder, mem, v, P: int) -> None:
    (b.vmovdqu_store_ymm if P == 8 else b.vmovdqu_store_xmm)(mem, v)


def _add_stored(b: ProgramBuilder, v, mem, P: int):
    """v + the P int32 stored at `mem`."""
    if P == 8:
        return b.vpaddd_ymm_m(v, mem)
    return b.vpaddd_xmm(v, b.vmovdqu_load_xmm(mem))


def store_totals(b: ProgramBuilder, total, qsum, acc, row, group: int, *, groups: int, P: int) -> None:
    """total - sum(q_t) of one row's token group, stored at acc[row, group]."""
    if P == 8:
        out = b.vpsubd_ymm_m(total, qsum[4 * P * group])
        b.vmovdqu_store_ymm(acc[(row * groups + group) * 4 * P], out)
    else:
        out = b.vpsubd_ymm(total, b.vmovdqu_load_xmm(qsum[4 * P * group]))
        b.vmovdqu_store_xmm(acc[(row * groups + group) * 4 * P], out)


def build(M: int, K: int, *, N: int = 8, rows: int = 2) -> Program:
    """The prefill_vnni Program for an M x K weight and N tokens (`rows` rows per iteration)."""
    check_shape(M, K, N=N, rows=rows)
    return batched_program("prefill_vnni", M, K, N=N, rows=rows, dot=vnni_dot)


def vnni_dot(b: ProgramBuilder, acc, field, act) -> None:
    """acc += the u8 x s8 quad sums of field and activations (one EVEX vpdpbusd ymm)."""
    b.vpdpbusd_ymm(acc, field, act, out=acc)


def batched_program(kernel: str, M: int, K: int, *, N: int, rows: int, dot, const=(), chunk: int | None = None,
                    flush=None, chains: int | None = None) -> Program:
    """The Program of a batched kernel over i2s_x86 weights (see the module docstring).

    Parameters
    ----------
    dot : ``(b, acc, field, act) -> None``, acc += field (u8 0..2) . act (s8) for one quarter.
    const : further 32-byte constant vectors after the 0x03 mask (``const[32 * (i + 1)]``).
    chunk, flush : with `chunk`, the K loop is split into chunks of `chunk` blocks and
        ``flush(b, accs) -> [total per row]`` runs after each chunk of every group (prefill_maddubs
        widens its int16 lanes there); the running totals wait in the "acc" slots (registers are
        short) and the accumulators are re-zeroed.
    chains : accumulators per (row, token); default 8 accumulators in all, at most 4.
    """
    G, groups, P = groups_of(N, rows)
    C = chains or _chains(G, rows)
    nb, row_bytes = K // QK, K // 4
    b, w, q, qsum, consts, acc = program(kernel, M, K, N, const_size=32 * (1 + len(const)), chains=C,
                                         rows=rows)
    mask = b.vmovdqu_load_ymm(consts[0], comment="0x03 per byte")
    with b.loop("r", M // rows, parallel=True) as r:
        for g in range(groups):
            # A[i][t][c]: row i of the iteration, token t of the group, chain c
            A = [[[b.vpxor_zero_ymm() for _ in range(C)] for _ in range(G)] for _ in range(rows)]
            totals = None
            spans = [(0, nb)] if chunk is None else [(f, min(chunk, nb - f)) for f in range(0, nb, chunk)]
            for ci, (first, count) in enumerate(spans):
                with b.loop(f"j{g}_{ci}" if len(spans) > 1 else f"j{g}", count) as j:
                    blk = j + first
                    xs = [b.vmovdqu_load_ymm(w[(r * rows + i) * row_bytes + blk * 32]) for i in range(rows)]
                    for s, shift in enumerate(SHIFTS):
                        fs = [b.vpand_ymm(b.vpsrlw_ymm(x, shift), mask) if shift else b.vpand_ymm(x, mask)
                              for x in xs]
                        for t in range(G):
                            a = b.vmovdqu_load_ymm(q[(g * G + t) * K + blk * QK + 32 * s])
                            for i in range(rows):
                                dot(b, A[i][t][s % C], fs[i], a)
                if flush is not None:
                    for i, total in enumerate(flush(b, A, consts)):
                        slot = acc[((r * rows + i) * groups + g) * 4 * P]
                        if ci:
                            total = _add_stored(b, total, slot, P)
                        if ci + 1 < len(spans):
                            _store(b, slot, total, P)
                        else:
                            totals = (totals or []) + [total]
                    if ci + 1 < len(spans):
                        A = [[[b.vpxor_zero_ymm() for _ in range(C)] for _ in range(G)] for _ in range(rows)]
            for i in range(rows):
                if totals is not None:
                    total = totals[i]
                else:
                    per_token = []
                    for chains in A[i]:
                        v = chains[0]
                        for c in chains[1:]:
                            v = b.vpaddd_ymm(v, c)
                        per_token.append(v)
                    total = token_totals(b, per_token)
                store_totals(b, total, qsum, acc, r * rows + i, g, groups=groups, P=P)
    return b.build()


def token_sums(q: np.ndarray, N: int, rows: int) -> np.ndarray:
    """uint8 [4 * groups * P]: int32 sum(q_t) of every token, laid out [groups, P] (0 padding)."""
    G, groups, P = groups_of(N, rows)
    s = np.zeros((groups, P), dtype=np.int64)
    s[:, :G] = q.astype(np.int64).sum(axis=1).reshape(groups, G)
    return s.astype("<i4").view(np.uint8).reshape(-1)


def batch_buffers(who: str, codes, q, N: int, rows: int) -> dict[str, np.ndarray]:
    """Buffers w (i2s_x86, gamma 1), q (int8 [N, K] row-major bytes), qsum (`token_sums`)."""
    k = np.shape(codes)[1]
    q = check_batch(q, N, k, who)
    return {"w": get_format("i2s_x86").pack(codes, gamma=1.0), "q": q.view(np.uint8).reshape(-1).copy(),
            "qsum": token_sums(q, N, rows)}


def prepare(codes, q, *, N: int = 8, rows: int = 2) -> dict[str, np.ndarray]:
    """Buffers: w, q [N, K], qsum (`batch_buffers`) and const (0x03 per byte)."""
    m, k = np.shape(codes)
    check_shape(m, k, N=N, rows=rows)
    return {**batch_buffers("prefill_vnni/avx2.prepare", codes, q, N, rows),
            "const": const_bytes(np.full(32, 3, np.uint8))}


def result(buffers, *, M: int, K: int, N: int = 8, rows: int = 2, **params) -> np.ndarray:
    """int32 [N, M]: acc [M, groups, P] with the padding dropped, tokens first."""
    G, groups, P = groups_of(N, rows)
    acc = np.asarray(buffers["acc"]).view("<i4").astype(np.int32).reshape(M, groups, P)[:, :, :G]
    return np.ascontiguousarray(acc.reshape(M, N).T)


KERNEL = avx2_kernel(
    "prefill_vnni", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape, result=result,
    result_needs_shape=True, tokens_param="N",
    description="workbench design, batched (prefill, AVX512-VNNI): N tokens per call; each i2s_x86 block "
                "loaded and decoded once (3 vpsrlw + 4 vpand into u8 fields 0..2) and applied to every token "
                "by EVEX vpdpbusd ymm with memory activations (8 int32 chains per row), token totals reduced "
                "by a vphaddd tree, minus sum(q_t); exact in int32",
    params={"N": 8, "rows": 2},
    exactness="exact",
)
