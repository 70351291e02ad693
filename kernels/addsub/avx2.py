"""addsub on AVX2: the multiply-free twin on vpsignb, with a multiply-free horizontal sum (vpsadbw).

Kernel layer, multiply-free family (kernels/addsub/__init__.py). Weights: format "i2s_x86" (128
weights per 32-byte block; element 32 s + j in byte j, bits 7-2s:6-2s, as c = t + 1). Per block
and row: one load, the four fields unpacked as I2_S does (vpsrlw 6/4/2, vpand 0x03), decoded to
t = c - 1 (vpsubb), and for each field: vpsignb(q, t) keeps, negates or zeroes each activation
by its weight's sign (no multiplication), vpxor 0x80 biases the signed bytes to unsigned
(v + 128), vpsadbw against zero adds each 8 of them into a 64-bit lane, vpaddq into one of four
accumulators per row (one per field). Rows go 4 at a time through `store_row_sums` (the 64-bit
sums are below 2^31, so their high halves are zero and the int32 hadd tree adds them), minus the
bias 128 K (a "const" broadcast).

Exactness: "bounded". vpsignb negates in int8: -(-128) wraps to -128, so an activation -128
meeting a weight -1 contributes -128 instead of +128 (256 too little). Exact whenever no such
pair occurs in a row (`bound_holds`); per-token absmax quantization never produces -128 (|q| <=
127), the verify sweep's extreme inputs do. Everything else is exact: a 64-bit lane holds at most
8 * 255 * K/128 * 4 < 2^31 for K <= 2^21 (`check_shape`). The int8 lane model for the adversarial
search is `kernels/addsub/lanes.py` (`probe_lanes` stores every vpsignb result).
"""

from __future__ import annotations

import numpy as np

from isa_models.core.program import Program
from kernels.avx2_common import avx2_kernel, const_bytes, i2s_program, store_row_sums
from kernels.common import check_tiles, gemv_buffers

__all__ = ["KERNEL", "build", "prepare", "check_shape", "bound_holds", "diagnose", "wrapped_columns",
           "QK", "ROWS", "BOUND"]

QK = 128
ROWS = 4
BLOCK_BYTES = 32
K_MAX = 1 << 21
BOUND = "no activation of -128 meets a weight of -1 in the row (vpsignb cannot negate -128)"


def check_shape(M: int, K: int) -> None:
    """K a multiple of 128 up to 2^21, M a multiple of 4."""
    check_tiles("addsub/avx2", M, K, k_multiple=QK, rows=ROWS, k_max=K_MAX)


def build(M: int, K: int, *, probe_lanes: bool = False) -> Program:
    """The vpsignb add/subtract Program for an M x K weight.

    probe_lanes : also store every vpsignb result into an output buffer "lanes" (int8 [M, K], in
        element order), so a functional run exposes what each int8 lane held
        (`kernels.addsub.lanes.probe`).
    """
    check_shape(M, K)
    row_bytes = K // 4
    b, w, q, qsum, consts, acc_out = i2s_program("addsub", M, K, rows=ROWS, const_size=128)
    lanes_out = b.buffer("lanes", M * K, role="output") if probe_lanes else None
    mask = b.vmovdqu_load_ymm(consts[0], comment="0x03 per byte")
    one = b.vmovdqu_load_ymm(consts[32], comment="1 per byte: t = c - 1")
    bias = b.vmovdqu_load_ymm(consts[64], comment="0x80 per byte: v + 128 as unsigned")
    zero = b.vpxor_zero_ymm()
    with b.loop("t", M // ROWS, parallel=True) as t:
        rows = []
        for r in range(ROWS):
            accs = [b.vpxor_zero_ymm() for _ in range(4)]
            row = t * ROWS + r
            with b.loop(f"j{r}", K // QK) as j:
                x = b.vmovdqu_load_ymm(w[row * row_bytes + j * BLOCK_BYTES])
                fields = [b.vpand_ymm(b.vpsrlw_ymm(x, 6), mask), b.vpand_ymm(b.vpsrlw_ymm(x, 4), mask),
                          b.vpand_ymm(b.vpsrlw_ymm(x, 2), mask), b.vpand_ymm(x, mask)]
                for s, c in enumerate(fields):
                    a = b.vmovdqu_load_ymm(q[j * QK + 32 * s])
                    v = b.vpsignb_ymm(a, b.vpsubb_ymm(c, one))
                    if lanes_out is not None:
                        b.vmovdqu_store_ymm(lanes_out[row * K + j * QK + 32 * s], v)
                    b.vpaddq_ymm(accs[s], b.vpsadbw_ymm(b.vpxor_ymm(v, bias), zero), out=accs[s])
            rows.append(b.vpaddq_ymm(b.vpaddq_ymm(accs[0], accs[1]), b.vpaddq_ymm(accs[2], accs[3])))
        store_row_sums(b, rows, acc_out[t * (4 * ROWS)], subtract=b.vpbroadcastd_ymm_m(consts[96]))
    return b.build()


def prepare(codes, q) -> dict[str, np.ndarray]:
    """Buffers: w (i2s_x86 bytes, gamma 1), q, qsum (unused by the Program: the I2_S buffer set),
    const (0x03, 1, 0x80 per byte, then the int32 bias 128 K)."""
    m, k = np.shape(codes)
    check_shape(m, k)
    return gemv_buffers("i2s_x86", codes, q, "addsub/avx2.prepare", qsum=np.zeros(4, np.uint8),
                        const=const_bytes(np.full(32, 3, np.uint8), np.ones(32, np.uint8),
                                          np.full(32, 0x80, np.uint8), np.full(8, 128 * k, "<i4")))


def wrapped_columns(codes_row, q) -> np.ndarray:
    """The columns k of one row where vpsignb wraps: q[k] == -128 and the weight is -1."""
    return np.flatnonzero((np.asarray(codes_row) == -1) & (np.asarray(q) == -128))


def bound_holds(codes, q) -> np.ndarray:
    """bool [M]: True for the rows where no activation -128 meets a weight -1 (exact rows)."""
    return ~((np.asarray(codes) == -1) & (np.asarray(q)[None, :] == -128)).any(axis=1)


def diagnose(codes, q, row: int, expected: int, got: int) -> str:
    """Name the columns of `row` where vpsignb wrapped (each costs 256)."""
    cols = wrapped_columns(np.asarray(codes)[row], q)
    if not cols.size:
        return "no activation -128 meets a weight -1: not a vpsignb wrap"
    shown = ", ".join(str(int(c)) for c in cols[:4]) + (" ..." if cols.size > 4 else "")
    return (f"vpsignb wrapped -(-128) to -128 at {cols.size} column(s) {shown}: "
            f"{256 * cols.size} too little")


KERNEL = avx2_kernel(
    "addsub", "i2s_x86", build=build, prepare=prepare, check_shape=check_shape, diagnose=diagnose,
    description="multiply-free twin: I2_S x86 fields decoded to t = c - 1, vpsignb(q, t) selects/negates the "
                "activations, vpxor 0x80 + vpsadbw sum them without a multiply into 64-bit lanes, 4 "
                "accumulators per row, minus the 128 K bias; bounded (vpsignb cannot negate -128)",
    params={},
    exactness="bounded",
    bound=BOUND,
    bound_holds=bound_holds,
)
