"""TL2 on AVX2, as bitnet.cpp's codegen_tl2 kernels do it, LUT construction included.

Kernel layer (research/kernels.md §1.4, §5.4; layout: `workbench.formats.tl2.pack`'s docstring).
1. LUT construction (in the Program, as bitnet.cpp builds it inside the kernel call): for every
   weight triple g, entry e (0..15) = sum_i digit_i(e) * q[3g+i] with e's balanced base-3 digits
   (entries 14, 15 = 0) as 16 int16 lanes: vpbroadcastb + vpmovsxbw per activation, vpsignw with
   a digit vector, vpaddw; then vpshufb + vpermq split the int16 entries into the two byte planes,
   [16 low bytes | 16 high bytes], 32 bytes per triple. The 2-weight tail gets TL1-style tables
   (entry idx = (idx div 3 - 1) q0 + (idx mod 3 - 1) q1, entries 9..15 = 0). bitnet.cpp builds
   the same entries from fp32 activations with the quantization fused in; here q is the input.
2. Per 32-row tile and BK block: per index vector (32 rows x 2 triples) the top and bottom
   nibbles each do two vpshufb lookups into the broadcast byte planes, vpunpcklbw/vpunpckhbw
   re-form int16 for rows 0-15 / 16-31 (the [0, 2, 1, 3] chunk order), the sign bit is moved to
   bit 15 and spread (vpsllw, vpsraw 15) and applied as (E + s) ^ s; int16 accumulation per BK
   block, then vpmovsxwd into four int32 row accumulators.
3. The K mod BK tail uses the pair tables the same way, without signs.
Exact: an int16 accumulator sums BK/3 entries of |E| <= 384, so BK <= 240 keeps it in int16
(`check_shape` enforces it; bitnet.cpp's BK = 96 gives 12288).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2 import ISA
from isa_models.core.program import Program
from isa_models.core.builder import ProgramBuilder
from kernels.avx2_common import avx2_kernel, check_q, const_bytes
from workbench.formats import get_format
from workbench.formats.tl2 import check_layout, section_sizes, split_k

__all__ = ["KERNEL", "build", "prepare", "check_shape", "tiling", "BK_MAX"]

BM_SUB = 32       # rows per tile (bm)
TWO_BK = 32       # K block of the 2-weight tail
BK_MAX = 240      # largest multiple of 24 with BK/3 * 384 <= 32767


def tiling(M: int, K: int, BM: int | None = None, BK: int | None = None) -> tuple[int, int]:
    """(BM, BK): the given values, else the format's default tiling for (M, K)."""
    if BM is None or BK is None:
        d = get_format("tl2").default_layout(M, K)
        BM = d["BM"] if BM is None else BM
        BK = d["BK"] if BK is None else BK
    return BM, BK


def check_shape(M: int, K: int, *, BM: int | None = None, BK: int | None = None) -> None:
    """The TL2 format's constraints (bm = 32, BM | M, 24 | BK, 32 | K mod BK), BK <= 240, K >= BK."""
    BM, BK = tiling(M, K, BM, BK)
    check_layout(M, K, BM, BK, BM_SUB, "tl2/avx2")
    if BK > BK_MAX:
        raise ValueError(f"tl2/avx2: BK={BK} > {BK_MAX}: an int16 accumulator could overflow")


def _digit_vectors() -> tuple[np.ndarray, ...]:
    e = np.arange(16)
    used3 = e < 14
    triple = [np.where(used3, (e + 13) // 9 - 1, 0), np.where(used3, (e + 13) // 3 % 3 - 1, 0),
              np.where(used3, (e + 13) % 3 - 1, 0)]
    used2 = e < 9
    pair = [np.where(used2, e // 3 - 1, 0), np.where(used2, e % 3 - 1, 0)]
    split = np.array([*range(0, 16, 2), *range(1, 16, 2)] * 2, dtype=np.uint8)
    return (*(v.astype("<i2") for v in triple + pair), split, np.full(32, 0x0F, np.uint8))


def _lut_entries(b: ProgramBuilder, q, positions, digits, split, lut_dst) -> None:
    terms = []
    for pos, d in zip(positions, digits):
        bq = b.vpmovsxbw_ymm(b.vpbroadcastb_ymm_m(q[pos]))
        terms.append(b.vpsignw_ymm(bq, d))
    e = terms[0]
    for t in terms[1:]:
        e = b.vpaddw_ymm(e, t)
    planes = b.vpermq_ymm(b.vpshufb_ymm(e, split), 0xD8)    # qwords (0, 2, 1, 3): lo plane, hi plane
    b.vmovdqu_store_ymm(lut_dst, planes)


def build(M: int, K: int, *, BM: int | None = None, BK: int | None = None) -> Program:
    """The TL2 Program for an M x K weight with tiling (BM, BK, bm = 32)."""
    check_shape(M, K, BM=BM, BK=BK)
    BM, BK = tiling(M, K, BM, BK)
    three_k, two_k = split_k(K, BK)
    n_idx, n_sign, _ = section_sizes(M, K, BK)
    nb3, nb2, subs = three_k // BK, two_k // TWO_BK, BM // BM_SUB
    n_triples, n_pairs = three_k // 3, two_k // 2
    b = ProgramBuilder(ISA, f"tl2_avx2_{M}x{K}", kernel="tl2", M=M, K=K, format="tl2", BM=BM, BK=BK,
                       bm=BM_SUB)
    w = b.buffer("w", get_format("tl2").nbytes(M, K, BM=BM, BK=BK, bm=BM_SUB))
    q = b.buffer("q", K)
    consts = b.buffer("const", 32 * 8, role="const")
    lut = b.buffer("lut", 32 * (n_triples + n_pairs), role="scratch")
    acc_out = b.buffer("acc", 4 * M, role="output")

    split = b.vmovdqu_load_ymm(consts[32 * 5], comment="byte-plane split")
    if n_triples:
        d3 = [b.vmovdqu_load_ymm(consts[32 * i]) for i in range(3)]
        with b.loop("g", n_triples, parallel=True) as g:
            _lut_entries(b, q, [g * 3, g * 3 + 1, g * 3 + 2], d3, split, lut[g * 32])
    if n_pairs:
        d2 = [b.vmovdqu_load_ymm(consts[32 * i]) for i in (3, 4)]
        with b.loop("p", n_pairs, parallel=True) as p:
            _lut_entries(b, q, [three_k + p * 2, three_k + p * 2 + 1], d2, split, lut[(n_triples + p) * 32])

    nibble_mask = b.vmovdqu_load_ymm(consts[32 * 6], comment="0x0F per byte")

    def lookup(nib, entry, sign=None, bit=0):
        lo = b.vpshufb_ymm(b.vbroadcasti128_ymm_m(lut[entry * 32]), nib)
        hi = b.vpshufb_ymm(b.vbroadcasti128_ymm_m(lut[entry * 32 + 16]), nib)
        out = []
        for half, unpack in enumerate((b.vpunpcklbw_ymm, b.vpunpckhbw_ymm)):
            v = unpack(lo, hi)                              # int16 entries, rows 0-15 / 16-31
            if sign is not None:
                s = b.vpsraw_ymm(b.vpsllw_ymm(sign, bit + half), 15)
                v = b.vpxor_ymm(b.vpaddw_ymm(v, s), s)
            out.append(v)
        return out

    def widen_into(c, acc16):
        for half in range(2):
            b.vpaddd_ymm(c[2 * half], b.vpmovsxwd_ymm(acc16[half]), out=c[2 * half])
            b.vpaddd_ymm(c[2 * half + 1], b.vpmovsxwd_ymm(b.vextracti128_ymm(acc16[half], 1)),
                         out=c[2 * half + 1])

    def accumulate(acc16, values):
        for half in range(2):
            b.vpaddw_ymm(acc16[half], values[half], out=acc16[half])

    with b.loop("i", M // BM, parallel=True) as i:
        with b.loop("s", subs, parallel=True) as s:
            c = [b.vpxor_zero_ymm() for _ in range(4)]      # rows 0-7, 8-15, 16-23, 24-31
            if nb3:
                with b.loop("b", nb3) as blk:
                    acc16 = [b.vpxor_zero_ymm(), b.vpxor_zero_ymm()]
                    tile = (i * nb3 + blk) * subs + s
                    with b.loop("kk", BK // 24) as kk:
                        sign = b.vmovdqu_load_ymm(w[n_idx + tile * (BK // 24 * 32) + kk * 32])
                        for jj in range(4):
                            a = b.vmovdqu_load_ymm(w[tile * (BK // 6 * 32) + kk * 128 + jj * 32])
                            g = blk * (BK // 3) + kk * 8 + 2 * jj
                            top = b.vpand_ymm(b.vpsrlw_ymm(a, 4), nibble_mask)
                            accumulate(acc16, lookup(top, g, sign, 4 * jj))
                            bot = b.vpand_ymm(a, nibble_mask)
                            accumulate(acc16, lookup(bot, g + 1, sign, 4 * jj + 2))
                    widen_into(c, acc16)
            if nb2:
                with b.loop("b2", nb2) as blk2:
                    acc16 = [b.vpxor_zero_ymm(), b.vpxor_zero_ymm()]
                    tile2 = (i * nb2 + blk2) * subs + s
                    with b.loop("j2", TWO_BK // 4) as j2:
                        a = b.vmovdqu_load_ymm(w[n_idx + n_sign + tile2 * (TWO_BK // 4 * 32) + j2 * 32])
                        pair = blk2 * (TWO_BK // 2) + j2 * 2 + n_triples
                        accumulate(acc16, lookup(b.vpand_ymm(b.vpsrlw_ymm(a, 4), nibble_mask), pair))
                        accumulate(acc16, lookup(b.vpand_ymm(a, nibble_mask), pair + 1))
                    widen_into(c, acc16)
            for part in range(4):
                b.vmovdqu_store_ymm(acc_out[(i * BM + s * BM_SUB) * 4 + part * 32], c[part])
    return b.build()


def prepare(codes, q, *, BM: int | None = None, BK: int | None = None) -> dict[str, np.ndarray]:
    """Buffers: w (tl2 bytes for (BM, BK, 32), gamma 1), q, const (digit vectors, split, 0x0F)."""
    m, k = np.shape(codes)
    check_shape(m, k, BM=BM, BK=BK)
    BM, BK = tiling(m, k, BM, BK)
    q = check_q(q, k, "tl2/avx2.prepare")
    return {"w": get_format("tl2").pack(codes, gamma=1.0, BM=BM, BK=BK, bm=BM_SUB),
            "q": q.view(np.uint8).copy(), "const": const_bytes(*_digit_vectors(), np.zeros(32, np.uint8))}


KERNEL = avx2_kernel(
    "tl2", "tl2", build=build, prepare=prepare, check_shape=check_shape,
    description="bitnet.cpp TL2: int16 LUT per weight triple built in the kernel (two byte planes), "
                "vpshufb lookups of index nibbles, sign via (E+s)^s, int16 per BK block then int32, "
                "2-weight tail with pair tables (kernels.md §1.4)",
    params={"BM": None, "BK": None},
    # BK need not divide K (a 2-weight tail takes K mod BK): every whole number of sign vectors up to BK_MAX
    param_values={"BK": (None, *range(24, BK_MAX + 1, 24))},
    exactness="exact",
)
