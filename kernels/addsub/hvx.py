"""Multiply-free add/subtract on HVX: predicates from the weight codes choose +q, -q or 0.

Kernel layer (the addsub family; research/isa.md §3.2 for the VA-class compares and vmux).
Weights: format "rows128" (codes t + 1, four rows per byte). Per weight vector and field f:
``P = ((x ^ 0xAA) & (3 << 2f)) == 0`` (code 2: t = +1) and ``N = (x & (3 << 2f)) == 0`` (code 0:
t = -1) are byte predicates; with a = q ^ 0x80 (q + 128 as an unsigned byte), ``p = vmux(P, a, 128)`` and
``n = vmux(N, a, 128)`` differ by exactly t*q, and ``vsub(p.ub, n.ub)`` widens that difference to
int16 halfwords (even bytes low, odd bytes high) which ``vaddacc`` widens again into an int32
pair: acc_lo word i gathers columns s = 0, 1 of row i, acc_hi columns 2, 3. No instruction
multiplies (the widening add/subtract run on the multiply units' adders, the way T-MAN's
widening adds do). Rows are acc_lo + acc_hi.

Exact: every term is t*q in [-128, 128] and each int32 word adds 2 per step: |row| <= 128 K.
"""

from __future__ import annotations

from kernels.hvx_common import rows128_kernel, splat_b

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 1          # 8 accumulators (4 pairs) and 7 splats: one tile fits the 32 registers
MAX_K = 1 << 22


def _setup(b, consts):
    return {"mask": [splat_b(b, 3 << 2 * f) for f in range(4)], "plus": splat_b(b, 0xAA),
            "c80": splat_b(b, 0x80), "zero_b": splat_b(b, 0), "zero": b.tfrsi(0)}


def _init(b, env):
    return [(b.vsplat_w(env["zero"]), b.vsplat_w(env["zero"])) for _ in range(4)]


def _activations(b, env, act):
    return b.vxor(act, env["c80"], comment="q + 128 as unsigned bytes")


def _unpack(b, env, x):
    """x and x ^ 0xAA (a field of the latter is zero where the code is 2)."""
    return x, b.vxor(x, env["plus"], comment="fields holding code 2 become 0")
    yield  # a generator: one instruction, nothing to interleave


def _accumulate(b, env, parts, act, accs):
    """Per field f: (x ^ 0xAA) & (3 << 2f) == 0 is t = +1, x & (3 << 2f) == 0 is t = -1."""
    x, flipped = parts
    for f, (lo, hi) in enumerate(accs):
        pos = b.vcmp_eq_b(b.vand(flipped, env["mask"][f]), env["zero_b"], comment="t = +1")
        neg = b.vcmp_eq_b(b.vand(x, env["mask"][f]), env["zero_b"], comment="t = -1")
        yield
        p = b.vmux(pos, act, env["c80"])
        n = b.vmux(neg, act, env["c80"])
        yield
        d_lo, d_hi = b.vsub_ubh(p, n, comment="t*q as halfwords")
        yield
        b.vadd_hw_acc(lo, hi, d_lo, d_hi, out=(lo, hi))
        yield


def _finish(b, env, accs, qs):
    return [b.vadd_w(lo, hi) for lo, hi in accs]


KERNEL = rows128_kernel(
    "addsub", max_tiles=MAX_TILES, max_k=MAX_K, setup=_setup, init=_init, unpack=_unpack,
    accumulate=_accumulate, finish=_finish, activations=_activations,
    description="multiply-free: vcmp.eq predicates from the masked 2-bit codes, vmux picks q+128 or 128, "
                "the widening vsub gives t*q exactly, vaddacc widens to int32 (no multiply instruction)",
    exactness="exact",
)
check_shape, build, prepare = KERNEL.check_shape, KERNEL.build, KERNEL.prepare
