"""T-MAC-style int8-table kernel on AVX2 (g = 4, two bit planes): lossy by design.

Kernel layer (research/kernels.md §2.1-§2.2, §5.6). Weights: format "tmac" (u = t + 2, planes
(M, 2, K/4) of 4-bit group indices, two per byte, low nibble first). T-MAC permutes those bytes
offline so a vector holds one byte column of 32 rows; the "tmac" format stores the plain order,
so `prepare` applies that permutation to the packed bytes (tiles of 32 rows: [tile][byte
column][plane][row]) -- a reordering only, every nibble comes from `workbench.formats`.

Table (per group of 4 activations): LUT[idx] = sum_i (2 bit_i(idx) - 1) q_i, rounded to int8
with the activation group's scale ls = max over its groups of sum|q_i| / 127 (act_group
activations, 64 as for BitNet-3B): qlut = rint(LUT * (127 / max)) in fp32, as T-MAC's AVX2
lut_ctor. The table construction stays in `prepare` (numpy fp32): it needs the per-group absmax
and vroundps / vcvtps2dq, which the AVX2 ISA model does not have, so the tables, their scales and
the fp32 constants are Program inputs.

Program: per 32-row tile and byte column, per plane: nibbles (vpand / vpsrlw), one vpshufb per
group into its broadcast 16-byte table, vpmovsxbw widening, int16 accumulation of
qT0 + 2 qT1 over an activation group (|.| <= 16 * 3 * 127, exact in int16). After each
activation group, as T-MAC's kernel: the int16 sums widen to int32 (vpmovsxwd), convert to fp32
(vcvtdq2ps), multiply by the group's scale (vbroadcastss of "lut_scale", vmulps) and add into
four fp32 row accumulators (vaddps): total = fl(total + fl(ls_g * acc_g)), g in order. At the
tile's end y = fl(fl(0.5 * total) - fl(0.5 * sum(q))) (T-MAC's reconstruction w = b0 + 2 b1 - 2;
0.5 and 0.5 * sum(q) are fp32 inputs) is stored: "y" holds M fp32. `result` rounds y to int32
(np.rint): an approximation of the exact accumulator; its error is measured (`kernels.verify.measure_error`).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2 import ISA
from isa_models.core.program import Program
from isa_models.core.builder import ProgramBuilder
from kernels.avx2_common import avx2_kernel, check_q, const_bytes
from kernels.common import rounded_rows
from kernels.tmac.tables import build_tables, check_tmac_shape, table_buffers
from workbench.formats import get_format

__all__ = ["KERNEL", "build", "prepare", "result", "check_shape", "build_tables", "tile_weights",
           "MEASURED_ERROR"]

G = 4
ROWS = 32


def check_shape(M: int, K: int, *, act_group: int = 64) -> None:
    """M a multiple of 32, act_group a multiple of 8 dividing K."""
    check_tmac_shape("tmac/avx2", M, K, act_group=act_group, rows=ROWS)


def build(M: int, K: int, *, act_group: int = 64) -> Program:
    """The T-MAC-style Program for an M x K weight."""
    check_shape(M, K, act_group=act_group)
    n_ag, cols = K // act_group, K // 8
    b = ProgramBuilder(ISA, f"tmac_avx2_{M}x{K}", kernel="tmac", M=M, K=K, format="tmac",
                       act_group=act_group, rows=ROWS)
    w = b.buffer("w", M * K // 4)
    lut = b.buffer("lut", 16 * (K // G))
    lut_scale = b.buffer("lut_scale", 4 * n_ag)               # fp32 scale per activation group
    half_qsum = b.buffer("half_qsum", 4)                      # fp32 0.5 * sum(q)
    consts = b.buffer("const", 64, role="const")
    y_out = b.buffer("y", 4 * M, role="output")               # fp32 per row, before rounding
    nib = b.vmovdqu_load_ymm(consts[0], comment="0x0F per byte")
    with b.loop("t", M // ROWS, parallel=True) as t:
        total = [b.vpxor_zero_ymm() for _ in range(ROWS // 8)]       # fp32, rows 8j .. 8j+7
        with b.loop("ag", n_ag) as ag:
            acc = [b.vpxor_zero_ymm(), b.vpxor_zero_ymm()]          # rows 0-15, 16-31 (int16)
            with b.loop("p", act_group // 8) as p:
                col = ag * (act_group // 8) + p
                for plane in range(2):
                    a = b.vmovdqu_load_ymm(w[(t * cols + col) * 64 + plane * 32])
                    for half, idx in enumerate((b.vpand_ymm(a, nib), b.vpand_ymm(b.vpsrlw_ymm(a, 4), nib))):
                        v = b.vpshufb_ymm(b.vbroadcasti128_ymm_m(lut[(col * 2 + half) * 16]), idx)
                        for part, x in enumerate((v, b.vextracti128_ymm(v, 1))):
                            wide = b.vpmovsxbw_ymm(x)
                            if plane == 1:
                                wide = b.vpaddw_ymm(wide, wide)             # alpha = 2 for plane 1
                            b.vpaddw_ymm(acc[part], wide, out=acc[part])
            scale = b.vbroadcastss_ymm_m(lut_scale[ag * 4])
            for part in range(2):
                for quarter, x in enumerate((acc[part], b.vextracti128_ymm(acc[part], 1))):
                    j = part * 2 + quarter
                    sums = b.vcvtdq2ps_ymm(b.vpmovsxwd_ymm(x))
                    b.vaddps_ymm(total[j], b.vmulps_ymm(sums, scale), out=total[j])
        correction = b.vbroadcastss_ymm_m(half_qsum[0])
        for j in range(ROWS // 8):
            y = b.vsubps_ymm(b.vmulps_ymm_m(total[j], consts[32]), correction)   # 0.5 * total - ...
            b.vmovdqu_store_ymm(y_out[(t * ROWS + j * 8) * 4], y)
    return b.build()


def tile_weights(packed: np.ndarray, M: int, K: int) -> np.ndarray:
    """T-MAC's offline reordering of "tmac" bytes: [row, plane, column] -> [tile, column, plane, row]."""
    body = packed[:M * K // 4].reshape(M // ROWS, ROWS, 2, K // 8)
    return np.ascontiguousarray(body.transpose(0, 3, 2, 1)).reshape(-1)


def prepare(codes, q, *, act_group: int = 64) -> dict[str, np.ndarray]:
    """Buffers: w (tmac bytes, T-MAC tile order), lut (int8 tables), lut_scale (fp32 per activation
    group), half_qsum (fp32 0.5 * sum(q)), const (0x0F bytes, then eight fp32 0.5)."""
    m, k = np.shape(codes)
    check_shape(m, k, act_group=act_group)
    q = check_q(q, k, "tmac/avx2.prepare")
    return {"w": tile_weights(get_format("tmac").pack(codes, gamma=1.0), m, k), **table_buffers(q, act_group),
            "const": const_bytes(np.full(32, 0x0F, np.uint8), np.full(8, 0.5, "<f4"))}


#: int32 [M]: rint of the Program's fp32 y = 0.5 * sum_g ls_g * acc_g - 0.5 * sum(q)
result = rounded_rows


#: Measured by `kernels.verify.measure_error(KERNEL)` (re-run it to refresh; tests/kernels/test_tmac_avx2.py
#: checks it).
MEASURED_ERROR = {"relative_rms_error": 0.00969, "max_abs_error": 37.0,
                  "measured_on": "bitnet-b1.58-2B-4T layer 0 projections q, k, gate, down, 4 Student-t(4) "
                                 "tokens each, seed 0, act_group 64 (kernels.verify.measure_error)"}

KERNEL = avx2_kernel(
    "tmac", "tmac", build=build, prepare=prepare, check_shape=check_shape, result=result,
    description="T-MAC-style: g=4 bit-plane indices, int8 tables rounded with a per-64-activation scale, "
                "vpshufb lookups, int16 sums per activation group converted to fp32 and scaled into fp32 "
                "row accumulators in the kernel, M fp32 out, rounded by result (kernels.md §2.1, §5.6)",
    params={"act_group": 64},
    exactness="lossy",
    error=MEASURED_ERROR,
)
