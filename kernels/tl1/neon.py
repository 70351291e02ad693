"""TL1 on NEON, as bitnet.cpp's codegen_tl1 kernels do it, LUT construction included.

Kernel layer (research/kernels.md §1.3, §5.3; layout: `workbench.formats.tl1.pack`'s docstring).
Source: microsoft/BitNet utils/codegen_tl1.py (``lut_ctor``, ``Transpose_8_8``, ``gen_tbl_impl``,
``gen_body_core_code``, ``qgemm_lut_*``), commit 16da220ae2b510caff437d403288882687f44ae5; the
generated kernels are preset_kernels/*/bitnet-lut-kernels-tl1.h.

1. LUT construction (in the Program, as bitnet.cpp builds it per call): for every 16 activations
   (8 pairs p), the int16 vectors of the even and odd activations b0 = q[2p], b1 = q[2p+1]; the
   nine entries E[idx] = (idx div 3 - 1) b0 + (idx mod 3 - 1) b1 as int16x8 vectors over the
   pairs (neg/sub/add), entries 9..15 zero; two 8x8 int16 transposes (Transpose_8_8: three rounds
   of zip1/zip2 .8h) give each pair's 16 entries; ``tbl`` with {0,2,..,14,1,3,..,15} splits them
   into low and high bytes, and each pair's 32 bytes are stored as [16 high bytes | 16 low bytes].
2. Per row tile (BM rows), K block (BK), sub-tile (bm rows) and step (by = 256/bm weights): four
   16-byte index vectors; top nibble (ushr 4) and bottom nibble (and 0x0F) each do two ``tbl``
   lookups, in the high- and the low-byte table of their pair; ``zip1``/``zip2`` .16b of (low,
   high) re-form int16 entries for rows 0-7 and 8-15 of the vector's 16 rows, added into bm/8
   int16x8 accumulators (vec_c). After each K block the accumulators are widened into the int32
   row sums (vmovl_s16 + vaddq_s32 into CBits, here ``saddw``/``saddw2`` on the "acc" buffer,
   which is zeroed first, as qgemm_lut's memset does).

Exact: an int16 accumulator lane sums BK/2 entries, one per pair of its row in the block, with
|E| <= 2 * 128, so |lane| <= 128 * BK <= 32767 for BK <= 255 (`check_shape` enforces it; bitnet.cpp's
presets use BK = 64 or 128, which give 8192 and 16384; the lane model `kernels.tl1.lanes` lets
the adversarial search confirm it). Entries are int16 and exact; indices are at most 8 < 16, so
``tbl`` never leaves its table. Departures, by design: activations are per-token int8 and go into
the LUT as they are (bitnet.cpp quantizes fp32 activations inside lut_ctor with per_tensor_quant's
scale and vcvtnq_s32_f32; same int16 values); entries 9..15 are zero (bitnet.cpp leaves them
uninitialised, never read); each pair's table halves are assembled with zip1/zip2 .2d and one
``st1 {2 regs}`` (bitnet.cpp: four 8-byte vst1_s8); the tables of a step are loaded where they are
used (bitnet.cpp loads a block's 2*KK table vectors up front, more than the 32 registers hold for
BK > 32, so the compiler reloads them); the fp32 scaling of CBits happens outside.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import check_q, int32_rows
from kernels.neon_common import neon_kernel
from workbench.formats import get_format
from workbench.formats.tl1 import check_layout

__all__ = ["KERNEL", "build", "prepare", "check_shape", "tiling", "lut_bytes", "BK_MAX", "LUT_BYTES_PER_PAIR"]

BK_MAX = 254             # largest even BK with 128 * BK <= 32767 (an int16 lane holds BK/2 entries)
LUT_BYTES_PER_PAIR = 32  # 16 high bytes then 16 low bytes of a pair's 16 int16 entries
GROUP = 16               # activations per LUT construction step (8 pairs)
SPLIT = np.array([*range(0, 16, 2), *range(1, 16, 2)], np.uint8)   # lut_ctor's tbl_mask


def tiling(M: int, K: int, BM: int | None = None, BK: int | None = None,
           bm: int | None = None) -> tuple[int, int, int]:
    """(BM, BK, bm): the given values, else the format's default tiling for (M, K)."""
    d = get_format("tl1").default_layout(M, K) if None in (BM, BK, bm) else {}
    return (d["BM"] if BM is None else BM, d["BK"] if BK is None else BK, d["bm"] if bm is None else bm)


def check_shape(M: int, K: int, *, BM: int | None = None, BK: int | None = None, bm: int | None = None) -> None:
    """The TL1 format's constraints (bm in {32, 64}, bm | BM | M, BK | K, by | BK) and BK <= 254."""
    if M <= 0 or K <= 0:
        raise ValueError(f"tl1/neon: M={M}, K={K} must be positive")
    BM, BK, bm = tiling(M, K, BM, BK, bm)
    check_layout(M, K, BM, BK, bm, "tl1/neon")
    if BK > BK_MAX:
        raise ValueError(f"tl1/neon: BK={BK} > {BK_MAX}: an int16 accumulator could overflow")


def _transpose_8x8(b: ProgramBuilder, v: list) -> list:
    """bitnet.cpp's Transpose_8_8: eight int16x8 rows to eight columns by three rounds of zips."""
    def zip_pair(x, y):
        return b.zip1_8h(x, y), b.zip2_8h(x, y)
    q04, q15, q26, q37 = (zip_pair(v[n], v[n + 4]) for n in range(4))
    q0246_0, q0246_1 = zip_pair(q04[0], q26[0]), zip_pair(q04[1], q26[1])
    q1357_0, q1357_1 = zip_pair(q15[0], q37[0]), zip_pair(q15[1], q37[1])
    fin = [zip_pair(q0246_0[0], q1357_0[0]), zip_pair(q0246_0[1], q1357_0[1]),
           zip_pair(q0246_1[0], q1357_1[0]), zip_pair(q0246_1[1], q1357_1[1])]
    return [half for pair in fin for half in pair]


def _lut_ctor(b: ProgramBuilder, q, consts, lut, K: int) -> None:
    """Every pair's 32-byte table (16 high bytes, 16 low bytes of its 16 int16 entries) into `lut`."""
    split = b.ld1_16b(consts[0], comment="lut_ctor's tbl_mask: low bytes then high bytes")
    with b.loop("g", K // GROUP, parallel=True) as g:
        x = b.ld1_16b(q[g * GROUP])
        b0 = b.sshr_8h(b.shl_8h(x, 8), 8)               # q[2p] as int16 (pair p = lane p)
        b1 = b.sshr_8h(x, 8)                            # q[2p + 1]
        zero = b.movi_zero_16b()
        neg_b0 = b.neg_8h(b0)
        lut_vec = [b.sub_8h(neg_b0, b1), neg_b0, b.add_8h(neg_b0, b1), b.neg_8h(b1), zero, b1,
                   b.sub_8h(b0, b1), b0, b.add_8h(b0, b1)] + [zero] * 7
        lo_entries = _transpose_8x8(b, lut_vec[:8])     # [p]: entries 0..7 of pair p
        hi_entries = _transpose_8x8(b, lut_vec[8:])     # [p]: entries 8..15 of pair p
        for p in range(8):
            q0 = b.tbl1_16b(lo_entries[p], split)       # low bytes of entries 0..7, then high bytes
            q1 = b.tbl1_16b(hi_entries[p], split)       # the same for entries 8..15
            b.st1x2_16b(lut[g * (8 * LUT_BYTES_PER_PAIR) + p * LUT_BYTES_PER_PAIR],
                        b.zip2_2d(q0, q1), b.zip1_2d(q0, q1))


def build(M: int, K: int, *, BM: int | None = None, BK: int | None = None, bm: int | None = None,
          probe_lanes: bool = False) -> Program:
    """The TL1 Program for an M x K weight with tiling (BM, BK, bm).

    probe_lanes : also store every int16 accumulator before widening into an output buffer
        "lanes" (int16 [M/BM, K/BK, BM]), so a functional run exposes the lane partial sums
        (read by `kernels.tl1.lanes.probe` for the adversarial search).
    """
    check_shape(M, K, BM=BM, BK=BK, bm=bm)
    BM, BK, bm = tiling(M, K, BM, BK, bm)
    by = 256 // bm                      # weights per step; a step reads 4 vectors of 16 rows
    nb, subs, steps, nacc = K // BK, BM // bm, BK // by, bm // 8
    b = ProgramBuilder(ISA, f"tl1_neon_{M}x{K}", kernel="tl1", M=M, K=K, format="tl1", BM=BM, BK=BK, bm=bm)
    w = b.buffer("w", get_format("tl1").nbytes(M, K, BM=BM, BK=BK, bm=bm))
    q = b.buffer("q", K)
    consts = b.buffer("const", 16, role="const")
    lut = b.buffer("lut", LUT_BYTES_PER_PAIR * (K // 2), role="scratch")
    acc_out = b.buffer("acc", 4 * M, role="output")
    lanes_out = b.buffer("lanes", 2 * M * nb, role="output") if probe_lanes else None

    _lut_ctor(b, q, consts, lut, K)
    nibble = b.movi_16b(0x0F, comment="0x0F per byte")
    with b.loop("i", M // BM, parallel=True) as i:
        zero = b.movi_zero_16b()
        with b.loop("z", BM // 16) as z:                # qgemm_lut's memset of CBits
            b.st1x4_16b(acc_out[i * (4 * BM) + z * 64], zero, zero, zero, zero)
        with b.loop("blk", nb) as blk:
            with b.loop("s", subs) as s:
                vec_c = [b.movi_zero_16b() for _ in range(nacc)]
                with b.loop("k", steps) as k:
                    tables = [b.ld1_16b(lut[blk * (BK // 2 * LUT_BYTES_PER_PAIR) + (k * by + v) * 16])
                              for v in range(by)]       # [2n]: high bytes of pair n, [2n+1]: low bytes
                    a_base = i * (BM * K // 4) + blk * (BM * BK // 4) + s * (bm * BK // 4) + k * 64
                    for v in range(4):
                        a = b.ld1_16b(w[a_base + 16 * v])
                        top, bot = b.ushr_16b(a, 4), b.and_16b(a, nibble)
                        left = [b.tbl1_16b(tables[(4 * v + n) % by], top) for n in (0, 1)]
                        right = [b.tbl1_16b(tables[(4 * v + n) % by], bot) for n in (2, 3)]
                        c = (2 * v) // (by // 2) * 2
                        for lookup in (left, right):    # zip(low, high): int16 rows 0-7, rows 8-15
                            b.add_8h(vec_c[c], b.zip1_16b(lookup[1], lookup[0]), out=vec_c[c])
                            b.add_8h(vec_c[c + 1], b.zip2_16b(lookup[1], lookup[0]), out=vec_c[c + 1])
                for n in range(nacc):
                    row = i * BM + s * bm + 8 * n
                    if lanes_out is not None:
                        b.st1_16b(lanes_out[(i * nb + blk) * (2 * BM) + (s * bm + 8 * n) * 2], vec_c[n])
                    lo = b.ld1_16b(acc_out[row * 4])
                    b.st1_16b(acc_out[row * 4], b.saddw_4s(lo, vec_c[n]))
                    hi = b.ld1_16b(acc_out[row * 4 + 16])
                    b.st1_16b(acc_out[row * 4 + 16], b.saddw2_4s(hi, vec_c[n]))
    return b.build()


def lut_bytes(q: np.ndarray) -> np.ndarray:
    """The LUT the Program builds, computed in numpy (uint8 [K/2 * 32]; for tests and readers)."""
    q = np.asarray(q).astype(np.int16).reshape(-1, 2)
    idx = np.arange(16)
    entries = np.where(idx < 9, (idx // 3 - 1)[None, :] * q[:, :1] + (idx % 3 - 1)[None, :] * q[:, 1:], 0)
    raw = entries.astype("<i2").view(np.uint8).reshape(-1, 16, 2)            # [pair, entry, lo/hi byte]
    return np.concatenate([raw[:, :, 1], raw[:, :, 0]], axis=1).reshape(-1)  # high bytes, low bytes


def prepare(codes, q, *, BM: int | None = None, BK: int | None = None,
            bm: int | None = None) -> dict[str, np.ndarray]:
    """Buffers: w (tl1 bytes for (BM, BK, bm), gamma 1), q (int8 as bytes), const (tbl split mask)."""
    m, k = np.shape(codes)
    check_shape(m, k, BM=BM, BK=BK, bm=bm)
    BM, BK, bm = tiling(m, k, BM, BK, bm)
    q = check_q(q, k, "tl1/neon.prepare")
    return {"w": get_format("tl1").pack(codes, gamma=1.0, BM=BM, BK=BK, bm=bm), "q": q.view(np.uint8).copy(),
            "const": SPLIT.copy()}


KERNEL = neon_kernel(
    "tl1", "tl1", build=build, prepare=prepare, check_shape=check_shape, result=int32_rows,
    description="bitnet.cpp TL1 (ARM LUT): int16 LUT per weight pair built in the kernel (high/low byte "
                "planes via Transpose_8_8 and tbl), vqtbl1q lookups of index nibbles, zip to int16, int16 per "
                "BK block then int32 (kernels.md §1.3)",
    params={"BM": None, "BK": None, "bm": None},
    exactness="exact",
)
