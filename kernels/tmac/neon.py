"""T-MAC's NEON tbl kernel (g = 4, two bit planes, int8 tables): lossy as published.

Kernel layer (research/kernels.md §2.1-§2.2, §5.6). Source: T-MAC
python/t_mac/intrins/tbl.cc, tbl_g4_int8_float_update_impl with SignedWideningAdder (the default,
no fast aggregation), microsoft/T-MAC 0a69bfd92e6fad6df21428f4abd391c816a933de; the twin of
`kernels/tmac/avx2.py`.

Weights: format "tmac" (u = t + 2, planes (M, 2, K/4) of 4-bit group indices). T-MAC permutes its
index nibbles offline so that one 16-byte vector serves 32 "bit rows" with the SAME table: the low
nibbles (vandq_u8 0x0F) are 16 bit rows, the high nibbles (vshrq_n_u8 4) 16 more. Here the 32 bit
rows of a vector are the two planes of 16 weight rows: byte [tile of 16 rows, group k, lane l] =
plane-0 index of row l | plane-1 index << 4 (`tile_weights`: a reordering of the format's nibbles
only, every nibble comes from `workbench.formats`).

Tables (per group of 4 activations, `kernels.tmac.tables.build_tables`): int8 LUT rounded with the
activation group's scale ls = max sum|q_i| / 127 (act_group 64), built in `prepare` (T-MAC builds
them once per token outside the tbl kernel, lut_ctor); Program inputs with the group scales.

Program: a parallel tile is 32 rows (two 16-row vectors per group, so each table load feeds four
vqtbl1q lookups). Per activation group, pairs of groups k, k+1 (SignedWideningAdder): two table
loads; per 16-row vector two weight loads, and/ushr nibbles, four tbl; saddl/saddl2 of the two
groups' lookups (plane 0 and plane 1 apart) added into int16 accumulators (|.| <= 16 * 128). At
the end of the activation group, as T-MAC: plane sums combined s = T0 + 2 T1 (shl, add: alpha 1/2
and 1, times 2), widened (sxtl/sxtl2), converted (scvtf), multiplied by the group scale (ld1r,
fmul) and added into fp32 row accumulators (fadd): total = fl(total + fl(ls_g * s_g)), g in order.
At the tile's end y = fl(fl(0.5 * total) - fl(0.5 * sum(q))) (w = b0 + 2 b1 - 2) is stored: "y"
holds M fp32 and `result` rounds it to int32 (np.rint).

Where this departs from T-MAC by design: T-MAC's NEON path accumulates and scales in fp16
(float16x8_t, vcvtq_f16_s16) and rounds the tables in fp16; here fp32 (as T-MAC's AVX2 path), and
the per-tensor weight scale and the -sum(q)/2 bias are applied once per row at the end instead of
a lut_bias per group. Exactness: "lossy", error measured (`MEASURED_ERROR`).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program
from isa_models.neon import ISA
from kernels.common import check_q, rounded_rows
from kernels.neon_common import neon_kernel
from kernels.tmac.tables import G, check_tmac_shape, table_buffers
from workbench.formats import get_format

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "tile_weights", "MEASURED_ERROR",
           "LANES", "TILE"]

LANES = 16       # rows per weight vector
TILE = 32        # rows per parallel tile (two vectors share each table)


def check_shape(M: int, K: int, *, act_group: int = 64) -> None:
    """M a multiple of 32, act_group a multiple of 8 dividing K."""
    check_tmac_shape("tmac/neon", M, K, act_group=act_group, rows=TILE)


def build(M: int, K: int, *, act_group: int = 64) -> Program:
    """The T-MAC NEON Program for an M x K weight."""
    check_shape(M, K, act_group=act_group)
    groups, n_ag = K // G, K // act_group
    b = ProgramBuilder(ISA, f"tmac_neon_{M}x{K}", kernel="tmac", M=M, K=K, format="tmac",
                       act_group=act_group, rows=TILE)
    w = b.buffer("w", M * K // 4)
    lut = b.buffer("lut", 16 * groups)
    lut_scale = b.buffer("lut_scale", 4 * n_ag)            # fp32 scale per activation group
    half_qsum = b.buffer("half_qsum", 4)                   # fp32 0.5 * sum(q)
    consts = b.buffer("const", 16, role="const")           # four fp32 0.5
    y_out = b.buffer("y", 4 * M, role="output")
    nib = b.movi_16b(0x0F, comment="0x0F per byte")
    half = b.ld1_16b(consts[0], comment="0.5 per fp32 lane")
    n_vec = TILE // LANES
    with b.loop("t", M // TILE, parallel=True) as t:
        total = [b.movi_zero_16b() for _ in range(n_vec * 4)]      # fp32, rows 4i .. 4i+3 of the tile
        with b.loop("ag", n_ag) as ag:
            accs = [[b.movi_zero_16b() for _ in range(4)] for _ in range(n_vec)]  # plane x half, int16
            with b.loop("p", act_group // (2 * G)) as p:
                k0 = ag * (act_group // G) + 2 * p                 # groups k0, k0 + 1
                tables = [b.ld1_16b(lut[(k0 + d) * 16]) for d in range(2)]
                for v in range(n_vec):
                    looked = []
                    for d in range(2):
                        a = b.ld1_16b(w[((t * n_vec + v) * groups + k0 + d) * 16])
                        looked.append((b.tbl1_16b(tables[d], b.and_16b(a, nib)),      # plane 0
                                       b.tbl1_16b(tables[d], b.ushr_16b(a, 4))))     # plane 1
                    for plane in range(2):
                        lo = b.saddl_8h(looked[0][plane], looked[1][plane])
                        hi = b.saddl2_8h(looked[0][plane], looked[1][plane])
                        for h, x in enumerate((lo, hi)):
                            acc = accs[v][2 * plane + h]
                            b.add_8h(acc, x, out=acc)
            scale = b.ld1r_4s(lut_scale[ag * 4])
            for v in range(n_vec):
                for h in range(2):
                    s = b.add_8h(accs[v][h], b.shl_8h(accs[v][2 + h], 1))       # T0 + 2 T1
                    for part, wide in enumerate((b.sxtl_4s(s), b.sxtl2_4s(s))):
                        j = v * 4 + 2 * h + part
                        b.fadd_4s(total[j], b.fmul_4s(b.scvtf_4s(wide), scale), out=total[j])
        correction = b.ld1r_4s(half_qsum[0])
        for j in range(n_vec * 4):
            y = b.fsub_4s(b.fmul_4s(total[j], half), correction)
            b.st1_16b(y_out[(t * TILE + 4 * j) * 4], y)
    return b.build()


def tile_weights(packed: np.ndarray, M: int, K: int) -> np.ndarray:
    """T-MAC's offline nibble reordering of "tmac" bytes: byte [tile of 16 rows, group, lane] holds
    the plane-0 index of the lane's row in bits 3:0 and its plane-1 index in bits 7:4."""
    body = packed[:M * K // 4].reshape(M, 2, K // (2 * G), 1)
    idx = np.concatenate([body & 0x0F, body >> 4], axis=-1).reshape(M, 2, K // G)   # [row, plane, group]
    merged = idx[:, 0] | (idx[:, 1] << 4)                                            # [row, group]
    tiles = merged.reshape(M // LANES, LANES, K // G).transpose(0, 2, 1)             # [tile, group, lane]
    return np.ascontiguousarray(tiles).reshape(-1).astype(np.uint8)


def prepare(codes, q, *, act_group: int = 64) -> dict[str, np.ndarray]:
    """Buffers: w (tmac nibbles in T-MAC's tile order), lut (int8 tables), lut_scale (fp32 per activation
    group), half_qsum (fp32 0.5 * sum(q)), const (four fp32 0.5)."""
    m, k = np.shape(codes)
    check_shape(m, k, act_group=act_group)
    q = check_q(q, k, "tmac/neon.prepare")
    return {"w": tile_weights(get_format("tmac").pack(codes, gamma=1.0), m, k), **table_buffers(q, act_group),
            "const": np.full(4, 0.5, "<f4").view(np.uint8)}


#: int32 [M]: rint of the Program's fp32 y = 0.5 * sum_g ls_g * s_g - 0.5 * sum(q)
result = rounded_rows


#: Measured by `kernels.verify.measure_error(KERNEL)` (re-run it to refresh;
#: tests/unit/test_kernels_tmac_neon.py checks it).
MEASURED_ERROR = {"relative_rms_error": 0.00969, "max_abs_error": 37.0,
                  "measured_on": "bitnet-b1.58-2B-4T layer 0 projections q, k, gate, down, 4 Student-t(4) "
                                 "tokens each, seed 0, act_group 64 (kernels.verify.measure_error); equal to "
                                 "the AVX2 twin's figures: both scale and add in fp32 in the same order"}

KERNEL = neon_kernel(
    "tmac", "tmac", build=build, prepare=prepare, check_shape=check_shape, result=result,
    description="T-MAC NEON tbl kernel (tbl.cc, SignedWideningAdder): g=4 bit-plane nibbles of 16 rows per "
                "vector, vqtbl1q lookups in int8 tables rounded with a per-64-activation scale, saddl pairs "
                "into int16 per activation group, scaled into fp32 row accumulators (fp16 in T-MAC), M fp32 "
                "out, rounded by result (kernels.md §2.1-§2.2, §5.6)",
    params={"act_group": 64},
    exactness="lossy",
    error=MEASURED_ERROR,
)
