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

from kernels.hvx_common import field_codes, rows128_kernel, splat_b, zero_words

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 4
MAX_K = 1 << 22


def _setup(b, consts):
    return {"mask": splat_b(b, 3), "one": splat_b(b, 1), "s2": b.tfrsi(2), "s4": b.tfrsi(4),
            "s6": b.tfrsi(6), "zero": b.tfrsi(0)}


def _unpack(b, env, x):
    """Signed codes t of the four fields: (x >> 2f) & 3, minus 1 (yields after each instruction)."""
    codes = yield from field_codes(b, env, x)
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


KERNEL = rows128_kernel(
    "tq2", max_tiles=MAX_TILES, max_k=MAX_K, setup=_setup, init=zero_words, unpack=_unpack,
    accumulate=_accumulate, finish=_finish,
    description="TQ2_0-style kernel in ggml-hexagon's manner: 2-bit codes t+1 unpacked by vlsr.ub/vand, "
                "vsub.b 1, vrmpy(t.b, q.b) into int32 (kernels.md §2.6, §3.3); 128-row HVX tiles",
    exactness="exact",
)
check_shape, build, prepare = KERNEL.check_shape, KERNEL.build, KERNEL.prepare
