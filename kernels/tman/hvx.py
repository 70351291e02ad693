"""T-MAN's vlut16 LUT kernel on HVX, BitNet specialisation, with int8 activations: exact.

Kernel layer (research/kernels.md §2.1, §2.5). Source: T-MAN's QNN op package,
``backends/qualcomm/runtime/op_packages/TMANOpPackage/include/hvx_funcs.h`` (kaleid-liner/executorch,
stored as pytorch/executorch @ 09e90b431495af88ad4e5b85db10fa8ad7543c40): ``hvx_lut_ctor`` and the
BitNet overload of ``hvx_tbl`` (GroupSize == 0: per-tensor scales, int32 accumulation over all K).

Method: ternary weights as u = t + 2 in two bit planes (format "tman", `workbench.formats.vector_tiles`);
every group of 4 activations has a 16-entry table LUT[e] = sum_i s_i x_i, s_i = +1 if bit i of e
else -1; four tables share one vector (T-MAN's interleave: words 0-15 / 16-31, low / high
halves, selected by vlut16's Rt = 0..3). The inner loop is hvx_tbl's: per 16 columns and plane,
two weight vectors; vand 0x0F and vasr.h 4 give the low and high nibbles, four
``vlut16(...):nomatch`` look 128 indices each up, and ``vaddacc(Ww, Vh, Vh)`` widens the int16
results into int32 per row (even bytes -> low vector, odd -> high: rows 32s + i come out in order).
Then sum(t*x) = (T0 + 2 T1 - sum(x)) / 2 (T-MAN: 0.5 T0 + T1 + lb, lb = -sum(x)/2).

Departures, by design: activations are the workbench's per-token int8 (T-MAN: fp16), so the
tables are built exactly in integers instead of fp16/qf32 quantised to int16 with scale
max|sum|/32767; here LUT entries are int8 sums (|.| <= 512) that int16 holds exactly. The table
build runs in the Program (as hvx_lut_ctor runs on HVX) but by another route: vlut32 gathers the
four activations of a table position into each word, ``vrmpy(b, b)`` with the sign patterns gives
the entries, ``vpacke`` narrows them (exact) into T-MAN's table vector. sum(x) is an input
(bitnet.cpp's act_sum) instead of a reduction of entry 15 in the LUT builder. The per-tensor
scales are applied outside. The planes of a 128-row chunk are processed in one loop (T-MAN: one
chunk of 128 P-lanes at a time), keeping the eight int32 accumulators in registers.

Exactness (proof): entries are sums of 4 int8 values with signs: |e| <= 512 < 2**15, so vlut16
returns them exactly; vaddacc adds two int16 into int32 (no saturation, no int16 accumulation), a
plane sum satisfies |T_j| <= 512 * K/4, and |T0 + 2 T1 - sum(x)| <= 512 K < 2**31 for K < 2**22;
T0 + 2 T1 - sum(x) = 2 sum(t x) is even, so the arithmetic shift by one is exact.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.hvx import ISA
from kernels.common import check_tiles, gemv_buffers, gemv_program
from kernels.hvx_common import VBYTES, hvx_kernel, weight_placement, int32_rows, qsum_vector, splat_b, vector_consts

__all__ = ["KERNEL", "build", "prepare", "check_shape", "lut_consts", "ROWS", "MAX_K"]

ROWS = 128           # rows per chunk (128 byte lanes)
MAX_K = 1 << 22


def check_shape(M: int, K: int, *, unroll: int = 16, dma: int = 0) -> None:
    """M a multiple of 128, K a multiple of 128 up to 2**22, unroll >= 1, dma 0 or 1."""
    if dma not in (0, 1):
        raise ValueError(f"tman/hvx: dma={dma} must be 0 or 1")
    if unroll <= 0:
        raise ValueError(f"tman/hvx: unroll={unroll} is not positive")
    check_tiles("tman/hvx", M, K, k_multiple=128, rows=ROWS, k_max=MAX_K)


def steps_per_iteration(K: int, unroll: int) -> int:
    """Column steps (16 columns each) per loop iteration: the largest divisor of K/16 up to unroll."""
    steps = K // 16
    return max(d for d in range(1, min(unroll, steps) + 1) if steps % d == 0)


def _gather_index(base: int) -> np.ndarray:
    """vlut32 indices gathering activations base + (i % 8) of a 128-activation vector into byte i.

    Source byte s lives in sub-table block s // 64, half s % 2, entry (s % 64) // 2; the match value
    (bits 7:5) is block | 2 * half, so a match-mode vlut32 with Rt = block fills the even bytes and
    the oracc one with Rt = block | 2 the odd ones.
    """
    s = base + np.arange(VBYTES) % 8
    m = (s // 64) | 2 * (s % 2)
    return ((m << 5) | ((s % 64) // 2)).astype(np.uint8)


def lut_consts() -> np.ndarray:
    """const buffer: the sign patterns (word p: signs of entry p // 2), then the gather indices of
    tables A (groups 0, 1) and B (groups 2, 3) of each of the 8 tables of a 128-activation vector."""
    e = np.arange(32) // 2
    signs = np.where((e[:, None] >> np.arange(4)) & 1, 1, -1).astype(np.int8).reshape(-1)
    idx = [_gather_index(16 * t + 8 * h) for t in range(8) for h in range(2)]
    return vector_consts(signs, *idx)


def _build_luts(b: ProgramBuilder, q, consts, lut, K: int) -> None:
    """One table vector per 16 activations (4 groups), stored to `lut` (hvx_lut_ctor's role)."""
    sel = [b.tfrsi(v) for v in range(4)]
    signs = b.vmem_load(consts[0], comment="sign patterns of the 16 entries")
    with b.loop("lk", K // 128) as lk:
        qv = b.vmem_load(q[128 * lk])
        for t in range(8):
            halves = []
            for h in range(2):
                block = (16 * t + 8 * h) // 64
                idx = b.vmem_load(consts[VBYTES * (1 + 2 * t + h)])
                g = b.vlut32(idx, qv, sel[block], comment="even bytes")
                b.vlut32_oracc(g, idx, qv, sel[block | 2], out=g, comment="odd bytes")
                halves.append(b.vrmpy_bb_vv(g, signs, comment="entries of 2 tables"))
            b.vmem_store(lut[(8 * lk + t) * VBYTES], b.vpacke_w(halves[1], halves[0]))


def build(M: int, K: int, *, unroll: int = 16, dma: int = 0) -> Program:
    """The T-MAN Program for an M x K weight: table build, then per 128-row chunk the vlut16 loop
    (`unroll` steps of 16 columns per iteration, software-pipelined as T-MAN's unrolled loop is).
    """
    check_shape(M, K, unroll=unroll, dma=dma)
    unroll = steps_per_iteration(K, unroll)
    b, w, q, qsum, consts, lut, acc_out = gemv_program(
        ISA, "tman", M, K, "tman", rows=ROWS, **weight_placement(dma),
        buffers=[("qsum", VBYTES), ("const", 17 * VBYTES, "const"), ("lut", K // 16 * VBYTES, "scratch")])
    _build_luts(b, q, consts, lut, K)
    mask = splat_b(b, 0x0F)
    four, one, zero = b.tfrsi(4), b.tfrsi(1), b.tfrsi(0)
    sel = [b.tfrsi(v) for v in range(4)]
    steps = K // 16
    with b.loop("c", M // ROWS, parallel=True) as c:
        acc = [[b.vsplat_w(zero) for _ in range(4)] for _ in range(2)]   # plane j: lo.v0, lo.v1, hi.v0, hi.v1
        with b.loop("g", steps // unroll) as g:
            def table(u):
                return b.vmem_load(lut[(unroll * g + u) * VBYTES], comment="4 tables of 16 int16")
            tables = [table(0)]
            items = [(u, j) for u in range(unroll) for j in range(2)]

            def load(n):
                u, j = items[n]
                base = ((c * steps + unroll * g + u) * 2 + j) * 2 * VBYTES
                return b.vmem_load(w[base]), b.vmem_load(w[base + VBYTES])

            def nibbles(pair):
                """Nibble indices (low by vand, high by vasr.h), emitted one by one between lookups."""
                w_lo, w_hi = pair
                out: list = []
                return out, [lambda: out.append(b.vand(w_lo, mask)), lambda: out.append(b.vand(w_hi, mask)),
                             lambda: out.append(b.vasr_h_r(w_lo, four)), lambda: out.append(b.vasr_h_r(w_hi, four))]

            def widen(a, first, second, half):
                """Vxx.w += vadd(Vu.h, Vv.h): half 0 feeds (lo.v0, lo.v1), half 1 (hi.v0, hi.v1)."""
                lo, hi = (a[0], a[1]) if half == 0 else (a[2], a[3])
                b.vadd_hw_acc(lo, hi, first[half], second[half], out=(lo, hi))

            # Steady state per item (one plane of one step), six packets on the shift unit's budget:
            # {vlut16; vaddacc(prev)} {vlut16; vand} {vlut16; vand} {vlut16; vaddacc}
            # {vaddacc; vasr; vmem} {vaddacc; vasr; vmem}: loads two items ahead, nibbles one ahead.
            loaded = [load(0)] + ([load(1)] if len(items) > 1 else [])
            idx, ops = nibbles(loaded[0])
            for op in ops:
                op()
            pending = None
            for n, (u, j) in enumerate(items):
                nxt_idx, nxt_ops = nibbles(loaded[n + 1]) if n + 1 < len(items) else (None, [])
                nxt_ops = nxt_ops + [None] * (4 - len(nxt_ops))
                res = [b.vlut16_nm(idx[0], tables[u], sel[0])]
                if pending:
                    pending()
                for k, s in ((1, 1), (2, 2)):
                    res.append(b.vlut16_nm(idx[k], tables[u], sel[s]))
                    if nxt_ops[k - 1]:
                        nxt_ops[k - 1]()
                    if k == 1 and j == 0 and u + 1 < unroll:
                        tables.append(table(u + 1))
                res.append(b.vlut16_nm(idx[3], tables[u], sel[3]))
                a = acc[j]
                widen(a, res[0], res[1], 0)
                for k, half, first, second in ((2, 1, res[0], res[1]), (3, 0, res[2], res[3])):
                    widen(a, first, second, half)
                    if nxt_ops[k]:
                        nxt_ops[k]()
                    if n + 2 < len(items) and k == 2:
                        loaded.append(load(n + 2))
                pending = (lambda a=a, r2=res[2], r3=res[3]: widen(a, r2, r3, 1))
                idx = nxt_idx
            pending()
        qs = b.vmem_load(qsum[0], comment="sum(q) per word")
        # rows 0-31: lo.v0, 32-63: hi.v0, 64-95: lo.v1, 96-127: hi.v1
        for k, v in enumerate((0, 2, 1, 3)):
            twice = b.vsub_w(b.vadd_w(acc[0][v], b.vadd_w(acc[1][v], acc[1][v])), qs, comment="2 sum(t*q)")
            b.vmem_store(acc_out[c * (4 * ROWS) + 4 * 32 * k], b.vasr_w_r(twice, one))
    return b.build()


def prepare(codes, q, *, unroll: int = 16, dma: int = 0) -> dict[str, np.ndarray]:
    """Buffers: w (tman, gamma 1), q, qsum (sum(q) per word), const (signs and gather indices)."""
    m, k = np.shape(codes)
    check_shape(m, k, unroll=unroll, dma=dma)
    return gemv_buffers("tman", codes, q, "tman/hvx.prepare", qsum=qsum_vector, const=lut_consts())


KERNEL = hvx_kernel(
    "tman", "tman", build=build, prepare=prepare, check_shape=check_shape, result=int32_rows,
    description="T-MAN's BitNet hvx_tbl: bit planes of u=t+2, 16-entry int16 tables of int8 activation "
                "sums (4 per vector), vand/vasr nibbles, vlut16:nomatch, widening vaddacc to int32, "
                "(T0 + 2 T1 - sum(q)) / 2; tables built in the Program (kernels.md §2.5)",
    params={"unroll": 16, "dma": 0},
    exactness="exact",
)
