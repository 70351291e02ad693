"""TQ2_0-style ternary kernel on HVX, ggml-hexagon style: unpack 2-bit codes, subtract 1, int8 vrmpy.

Kernel layer (research/kernels.md §3.1-§3.3 for TQ2_0, §2.6 for ggml-hexagon). ggml-hexagon runs
no ternary type; its kernels repack weights into HVX tiles, unpack sub-byte codes with
vand/vlsr, subtract the zero point with a byte vsub (Q4_0: ``Q6_Vb_vsub_VbVb`` of 8) and multiply
with ``Q6_Vw_vrmpyacc_VwVbVb`` (int8 x int8). A TQ2_0 kernel in that style, as kernels.md §2.6
sketches it: fields of codes t + 1 (TQ2_0 stores ``t + 1`` in 2-bit fields) unpacked by vlsr.ub
and vand 0x03, ``vsub.b`` of 1 gives t in int8, and ``acc.w += vrmpy(t.b, q.b)``; no bsums are
needed since the codes are signed. Weights: format "rows128" (the 128-row HVX tiles); the
per-block fp16 scales of TQ2_0 are one per-tensor scale here and are applied outside.

Exact: a word adds 4 products |t*q| <= 128 per step, so |row| <= 128 * K < 2**31 for K <= 2**22.
"""

from __future__ import annotations

from isa_models.core.program import Program
from kernels.hvx_common import check_rows128, hvx_kernel, int32_rows, rows128_prepare, rows128_program, \
    rows128_tiles, splat_b

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 4
MAX_K = 1 << 22


def check_shape(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> None:
    """K a multiple of 128 (<= 2**22), M a multiple of 128 * tiles."""
    if dma not in (0, 1):
        raise ValueError(f"tq2/hvx: dma={dma} must be 0 or 1")
    check_rows128("tq2", M, K, tiles=tiles, max_k=MAX_K)


def _setup(b, consts):
    return {"mask": splat_b(b, 3), "one": splat_b(b, 1), "s2": b.tfrsi(2), "s4": b.tfrsi(4),
            "s6": b.tfrsi(6), "zero": b.tfrsi(0)}


def _init(b, env):
    return [b.vsplat_w(env["zero"]) for _ in range(4)]


def _unpack(b, env, x):
    """Signed codes t of the four fields: (x >> 2f) & 3, minus 1 (yields after each instruction)."""
    codes = [b.vand(x, env["mask"])]
    for s in ("s2", "s4"):
        yield
        shifted = b.vlsr_ub_r(x, env[s])
        yield
        codes.append(b.vand(shifted, env["mask"]))
    yield
    codes.append(b.vlsr_ub_r(x, env["s6"]))
    signed = []
    for c in codes:
        yield
        signed.append(b.vsub_b(c, env["one"], comment="t = code - 1"))
    return signed


def _accumulate(b, env, signed, act, accs):
    for f, t in enumerate(signed):
        b.vrmpy_bb_vv_acc(accs[f], t, act, out=accs[f])
        yield


def _finish(b, env, accs, qs):
    return accs


def build(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> Program:
    """The TQ2_0-style Program for an M x K weight."""
    check_shape(M, K, tiles=tiles, dma=dma)
    n = tiles or rows128_tiles(M, MAX_TILES)
    return rows128_program("tq2", M, K, tiles=n, dma=dma, setup=_setup, init=_init, unpack=_unpack,
                           accumulate=_accumulate, finish=_finish)


def prepare(codes, q, *, tiles: int = 0, dma: int = 0):
    """Buffers: w (rows128), q, qsum (unused by the arithmetic, kept for the shared skeleton)."""
    m, k = codes.shape
    check_shape(m, k, tiles=tiles)
    return rows128_prepare("tq2", codes, q)


KERNEL = hvx_kernel(
    "tq2", "rows128", build=build, prepare=prepare, check_shape=check_shape, result=int32_rows,
    description="TQ2_0-style kernel in ggml-hexagon's manner: 2-bit codes t+1 unpacked by vlsr.ub/vand, "
                "vsub.b 1, vrmpy(t.b, q.b) into int32 (kernels.md §2.6, §3.3); 128-row HVX tiles",
    params={"tiles": 0, "dma": 0},
    exactness="exact",
)
