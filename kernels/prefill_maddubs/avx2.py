"""prefill_maddubs on AVX2: N tokens against one ternary weight with vpmaddubsw, no VNNI (ours).

Kernel layer, batched (prefill), for AVX2 cores without AVX512-VNNI (zen3, skylake; alderlake-p
has only the VEX AVX-VNNI, whose form this ISA model does not hold: its ``extensions``). The
Program is prefill_vnni's (`kernels.prefill_vnni.avx2.batched_program`: i2s_x86 weights, each
block loaded and decoded once into u8 fields {0, 1, 2} and applied to G tokens, two rows per
iteration, q [N, K] as memory operands loaded once per quarter and token); only the dot product
differs: per (quarter, token, row) one vpmaddubsw (u8 field x s8 activation pairs into int16)
and one vpaddw into one int16 accumulator per (row, token) (vpaddw's 1-cycle latency needs no
further chains). After every chunk of `blocks_per_chunk` blocks each token's accumulator is
widened by vpmaddwd with ones into int32 and the row's G tokens reduced by the vphaddd tree into
one vector of chunk totals, added to the running totals kept in the row's "acc" slot (the 16 ymm
hold 8 accumulators, 2 weights, 2 fields, the mask and an activation: no room for them); at the
row's end sum(q_t) is subtracted and the totals stored as prefill_vnni's. Per 128 weights and
token: 4 vpmaddubsw + 4 vpaddw + 7/G decode ops, against i2s's 4 vpmaddubsw + 4 vpaddw + 7
decode + 1 load. Measured in the model (2560 x 2560, N = 4..16, 2026-12-05;
benchmarks/prefill_kernels.py): 141,761 cycles per token on zen3 against tq2's 209,290 (1.48x),
179,841 on alderlake-p against 275,637 (1.53x), 179,521 on skylake against 298,889 (1.66x).

Exactness: "exact", no bound. A vpmaddubsw int16 lane is f0 q0 + f1 q1 with f in {0, 1, 2} and
q in [-128, 127], so it lies in [-512, 508] and never saturates; an int16 accumulator lane sums
4 such lanes per block for at most 16 blocks: [-32768, 32512],
inside int16 (the extreme -32768 is tested); vpmaddwd with ones is exact
in int32 and the row total is bounded as prefill_vnni's (|.| <= 256 K < 2^31, K <= 2^21). The
result equals `workbench.reference.ternary_matvec` for every token and every int8 input.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from kernels.avx2_common import avx2_kernel, const_bytes
from kernels.prefill_vnni.avx2 import CHUNK_MAX, _check, batch_buffers, batched_program, result, token_totals

__all__ = ["KERNEL", "build", "prepare", "check_shape"]


def check_shape(M: int, K: int, *, N: int = 8, rows: int = 2, blocks_per_chunk: int = CHUNK_MAX) -> None:
    """N in 1, 2, 4, 8, 16; rows 1 or 2 (M a multiple of it); K a positive multiple of 128 up to
    2^21; blocks_per_chunk in 1..16 (the int16 lanes' exactness)."""
    _check(M, K, N=N, rows=rows, who="prefill_maddubs/avx2", blocks_per_chunk=blocks_per_chunk)


def maddubs_dot(b: ProgramBuilder, acc, field, act) -> None:
    """acc (int16) += the u8 x s8 pair sums of field and activations (vpmaddubsw, vpaddw)."""
    b.vpaddw_ymm(acc, b.vpmaddubsw_ymm(field, act), out=acc)


def widen(b: ProgramBuilder, A, consts) -> list:
    """After a chunk: per row, each token's int16 chains added, widened with vpmaddwd(ones) and
    reduced to the chunk's G token totals (one vector per row)."""
    out = []
    for tokens in A:
        wide = []
        for chains in tokens:
            v = chains[0]
            for c in chains[1:]:
                v = b.vpaddw_ymm(v, c)
            wide.append(b.vpmaddwd_ymm_m(v, consts[32]))
        out.append(token_totals(b, wide))
    return out


def build(M: int, K: int, *, N: int = 8, rows: int = 2, blocks_per_chunk: int = CHUNK_MAX) -> Program:
    """The prefill_maddubs Program for an M x K weight and N tokens."""
    check_shape(M, K, N=N, rows=rows, blocks_per_chunk=blocks_per_chunk)
    return batched_program("prefill_maddubs", M, K, N=N, rows=rows, dot=maddubs_dot, const=("ones16",),
                           chunk=blocks_per_chunk, flush=widen, chains=1)


def prepare(codes, q, *, N: int = 8, rows: int = 2, blocks_per_chunk: int = CHUNK_MAX) -> dict[str, np.ndarray]:
    """Buffers: w, q [N, K], qsum (`batch_buffers`) and const (0x03 per byte, int16 ones)."""
    m, k = np.shape(codes)
    check_shape(m, k, N=N, rows=rows, blocks_per_chunk=blocks_per_chunk)
    return {**batch_buffers("prefill_maddubs/avx2.prepare", codes, q, N, rows),
            "const": const_bytes(np.full(32, 3, np.uint8), np.ones(16, "<i2"))}


KERNEL = avx2_kernel(
    "prefill_maddubs", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape, result=result,
    result_needs_shape=True, tokens_param="N",
    description="workbench design, batched (prefill, plain AVX2, no VNNI): prefill_vnni's blocking (each "
                "i2s_x86 block decoded once for every token, two rows per iteration) with vpmaddubsw + vpaddw "
                "into int16 over chunks of up to 16 blocks (never saturates: lanes in [-512, 508]), widened by "
                "vpmaddwd(ones), token totals by a vphaddd tree, minus sum(q_t); exact",
    params={"N": 8, "rows": 2, "blocks_per_chunk": CHUNK_MAX},
    exactness="exact",
)
