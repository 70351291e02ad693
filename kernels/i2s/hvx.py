"""I2_S on HVX: vrmpy of unpacked 2-bit codes c = t + 1 with int8 activations, minus sum(q).

Kernel layer (research/kernels.md §1.2 for I2_S, §2.6 for ggml-hexagon's repack-then-vrmpy style,
isa.md §3.2/§3.6 for vrmpy-acc). bitnet.cpp has no HVX path; this is its MAD kernel ported the
way ggml-hexagon ports its types: the weights are repacked into HVX tiles (format "rows128",
`workbench.formats.vector_tiles`: codes t + 1 as in I2_S, one vector per 128 rows x 4 columns).
Per weight vector: the four 2-bit fields are unpacked to byte codes 0..2 with shifts and masks as
bitnet.cpp does (vlsr.ub by 2/4/6, vand 0x03), and each field f goes through
``acc_f.w += vrmpy(codes.ub, act.b)`` (word i = row 32f + i against four activations). The rows
are sum(c*q) - sum(q) (bitnet.cpp's act_sum, an input computed at quantization).

Departures, by design: the tile layout (bitnet.cpp's x86 blocks are row-major 128-weight blocks
that a 128-byte vector cannot address per row when K/4 is not a multiple of 128); accumulation
straight in int32 (vrmpy widens; bitnet.cpp's AVX2 path adds int16 lanes for 32 blocks).

Exact: a vrmpy word adds 4 products |c*q| <= 256, so a row's word stays below
256 * K <= 2**31 - 1 for every K <= 8,388,607; K is capped at 2**22.
"""

from __future__ import annotations

from kernels.hvx_common import field_codes, rows128_kernel, splat_b, zero_words

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 4          # 4 accumulators per tile: 16 of the 32 vector registers
MAX_K = 1 << 22


def _setup(b, consts):
    return {"mask": splat_b(b, 3), "s2": b.tfrsi(2), "s4": b.tfrsi(4), "s6": b.tfrsi(6), "zero": b.tfrsi(0)}


def _accumulate(b, env, codes, act, accs):
    for f, c in enumerate(codes):
        b.vrmpy_ubb_vv_acc(accs[f], c, act, out=accs[f])
        yield


def _finish(b, env, accs, qs):
    return [b.vsub_w(a, qs) for a in accs]


KERNEL = rows128_kernel(
    "i2s", max_tiles=MAX_TILES, max_k=MAX_K, setup=_setup, init=zero_words, unpack=field_codes,
    accumulate=_accumulate, finish=_finish,
    description="bitnet.cpp I2_S MAD kernel on HVX: codes t+1 unpacked by vlsr.ub/vand, "
                "vrmpy(codes.ub, q.b) into int32 per row, minus sum(q); weights repacked into 128-row "
                "tiles (kernels.md §1.2, §2.6)",
    exactness="exact",
)
check_shape, build, prepare = KERNEL.check_shape, KERNEL.build, KERNEL.prepare
