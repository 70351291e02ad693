"""I2_S on HVX: vrmpy of unpacked 2-bit codes c = t + 1 with int8 activations, minus sum(q).

Kernel layer (research/kernels.md §1.2 for I2_S, §2.6 for ggml-hexagon's repack-then-vrmpy style,
isa.md §3.2/§3.6 for vrmpy-acc). bitnet.cpp has no HVX path; this is its MAD kernel ported the
way ggml-hexagon ports its types: the weights are repacked into HVX tiles (format "rows128",
`workbench.formats.hvx_tiles`: codes t + 1 as in I2_S, one vector per 128 rows x 4 columns).
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

from isa_models.core.program import Program
from kernels.hvx_common import check_rows128, hvx_kernel, int32_rows, rows128_prepare, rows128_program, \
    rows128_tiles, splat_b, splat_w

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 4          # 4 accumulators per tile: 16 of the 32 vector registers
MAX_K = 1 << 22


def check_shape(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> None:
    """K a multiple of 128 (<= 2**22), M a multiple of 128 * tiles."""
    if dma not in (0, 1):
        raise ValueError(f"i2s/hvx: dma={dma} must be 0 or 1")
    check_rows128("i2s", M, K, tiles=tiles, max_k=MAX_K)


def _setup(b, consts):
    return {"mask": splat_b(b, 3), "s2": b.tfrsi(2), "s4": b.tfrsi(4), "s6": b.tfrsi(6), "zero": b.tfrsi(0)}


def _init(b, env):
    return [b.vsplat_w(env["zero"]) for _ in range(4)]


def _unpack(b, env, x):
    """Byte codes 0..2 of the four fields: vand 0x03 of x >> 2f (vlsr.ub: per byte)."""
    codes = [b.vand(x, env["mask"])]
    for s in ("s2", "s4"):
        yield
        shifted = b.vlsr_ub_r(x, env[s])
        yield
        codes.append(b.vand(shifted, env["mask"]))
    yield
    codes.append(b.vlsr_ub_r(x, env["s6"]))
    return codes


def _accumulate(b, env, codes, act, accs):
    for f, c in enumerate(codes):
        b.vrmpy_ubb_vv_acc(accs[f], c, act, out=accs[f])
        yield


def _finish(b, env, accs, qs):
    return [b.vsub_w(a, qs) for a in accs]


def build(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> Program:
    """The I2_S vrmpy Program for an M x K weight (tiles=0: as many 128-row tiles as divide M, <= 4)."""
    check_shape(M, K, tiles=tiles, dma=dma)
    n = tiles or rows128_tiles(M, MAX_TILES)
    return rows128_program("i2s", M, K, tiles=n, dma=dma, setup=_setup, init=_init, unpack=_unpack,
                           accumulate=_accumulate, finish=_finish)


def prepare(codes, q, *, tiles: int = 0, dma: int = 0):
    """Buffers: w (rows128), q, qsum."""
    m, k = codes.shape
    check_shape(m, k, tiles=tiles)
    return rows128_prepare("i2s", codes, q)


KERNEL = hvx_kernel(
    "i2s", "rows128", build=build, prepare=prepare, check_shape=check_shape, result=int32_rows,
    description="bitnet.cpp I2_S MAD kernel on HVX: codes t+1 unpacked by vlsr.ub/vand, "
                "vrmpy(codes.ub, q.b) into int32 per row, minus sum(q); weights repacked into 128-row "
                "tiles (kernels.md §1.2, §2.6)",
    params={"tiles": 0, "dma": 0},
    exactness="exact",
)
