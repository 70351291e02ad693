"""fieldmask on HVX: ternary GEMV with vrmpy on 2-bit fields masked in place (ours, exact).

Kernel layer (ours; research/isa.md §3.2, §3.6: vrmpy-acc is a single-multiply instruction from
v69 on, two per packet). Weights: format "rows128" (`workbench.formats.vector_tiles`): one vector per
128 rows x 4 columns, byte 4i + s holding rows i, 32 + i, 64 + i, 96 + i of column s in fields
f = 0..3 as codes c = t + 1. Per weight vector x:

    a0 += vrmpy(x & 0x03, act)    ->  S0          (rows i)
    a1 += vrmpy(x & 0x0C, act)    ->  4 S1        (rows 32 + i)
    a2 += vrmpy(x & 0x30, act)    ->  16 S2       (rows 64 + i)
    aF += vrmpy(x, act)           ->  S0 + 4 S1 + 16 S2 + 64 S3

with S_f = sum(c * q) of row 32f + i. So 3 vand + 4 vrmpy per 512 weights, none on the shift or
permute unit: the steady state is two packets per vector, {vmem; vand; vrmpy; vrmpy} and
{vand; vand; vrmpy; vrmpy} (MPY0 and MPY1 both busy), against three (shift-bound: 3 vlsr) for
the I2_S unpack and T-MAN's 12 shift-unit packets per 2048 weights. The activations of a step
are one vror of an aligned vector (the rows128 skew), shared by `tiles` tiles. At the end
rows = (a0, a1 >> 2, a2 >> 4, (aF - a0 - a1 - a2) >> 6) - sum(q), all exact shifts of multiples.

Exactness (proof): a byte is at most 0b10101010 = 170 and |q| <= 128, so a step adds at most
4 * 170 * 128 = 87,040 to a word of aF and less to the others; after K/4 steps
|aF| <= 21,760 K <= 2**31 - 1 for K <= 98,689. `check_shape` caps K at 98,688 (the largest multiple of 128 below it),
so no int32 lane wraps and every shift divides exactly: the kernel is exact.
"""

from __future__ import annotations

from kernels.hvx_common import rows128_kernel, splat_b, zero_words

__all__ = ["KERNEL", "build", "prepare", "check_shape", "MAX_TILES", "MAX_K"]

MAX_TILES = 4          # 4 accumulators per tile
MAX_K = 98_688         # largest multiple of 128 with 21,760 K < 2**31


def _setup(b, consts):
    return {"m0": splat_b(b, 0x03), "m1": splat_b(b, 0x0C), "m2": splat_b(b, 0x30), "zero": b.tfrsi(0),
            "s2": b.tfrsi(2), "s4": b.tfrsi(4), "s6": b.tfrsi(6)}


def _unpack(b, env, x):
    """The fields in place: x & 0x03, x & 0x0C, x & 0x30 and the whole byte (yields after each)."""
    parts = [b.vand(x, env["m0"])]
    yield
    parts.append(b.vand(x, env["m1"]))
    yield
    parts.append(b.vand(x, env["m2"]))
    return parts + [x]


def _accumulate(b, env, fields, act, accs):
    """x & 3 and x first (their inputs are the older ones), then x & 0x0C and x & 0x30."""
    for f in (0, 3, 1, 2):
        b.vrmpy_ubb_vv_acc(accs[f], fields[f], act, out=accs[f])
        yield


def _finish(b, env, accs, qs):
    a0, a1, a2, af = accs
    top = b.vsub_w(b.vsub_w(af, a0), b.vadd_w(a1, a2), comment="64 S3")
    scaled = (a0, b.vasr_w_r(a1, env["s2"]), b.vasr_w_r(a2, env["s4"]), b.vasr_w_r(top, env["s6"]))
    return [b.vsub_w(s, qs) for s in scaled]


KERNEL = rows128_kernel(
    "fieldmask", max_tiles=MAX_TILES, max_k=MAX_K, setup=_setup, init=zero_words, unpack=_unpack,
    accumulate=_accumulate, finish=_finish,
    description="ours: four rows per weight byte, fields masked in place (x&3, x&0xC, x&0x30, x) and "
                "multiplied by vrmpy with one shared activation vector, no shift unit: 2 packets per 512 "
                "weights; rows recovered by exact shifts, minus sum(q); exact for K <= 98,688",
    exactness="exact",
)
check_shape, build, prepare = KERNEL.check_shape, KERNEL.build, KERNEL.prepare
