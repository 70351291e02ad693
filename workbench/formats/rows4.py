"""rows4: four weight rows per byte, the top field in two's complement (the rowdot kernels' layout).

Ground-truth layer. Byte [g, k] (at g*K + k) holds column k of rows 4g..4g+3: row 4g+i in bits
2i+1:2i. Rows 4g, 4g+1, 4g+2 store the code t + 1 (0, 1, 2, as I2_S does); row 4g+3, in bits
7:6, stores t in two's complement (t & 3: -1 -> 3, 0 -> 0, 1 -> 1), so the byte read as a signed
int8 is 64 t + (its low six bits). A kernel then gets the four rows' products with one shared
activation from nested masks of the same byte (x, x & 0x3F, x & 0x0F, x & 0x03; see
kernels/rowdot). This workbench's own layout: no published kernel uses it. 2 bits per weight; a
4-byte little-endian fp32 gamma follows the M*K/4 code bytes.
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (Format, FormatError, check_codes, check_data, check_gamma,
                                       check_multiple)

__all__ = ["ROWS4", "ROWS", "nbytes", "pack", "unpack", "field_values"]

ROWS = 4       # rows per byte


def nbytes(m: int, k: int) -> int:
    """M/4 x K code bytes plus 4 bytes of fp32 gamma."""
    check_multiple(m, ROWS, "M", "rows4")
    check_multiple(k, 1, "K", "rows4")
    return m * k // ROWS + 4


def field_values(codes: np.ndarray) -> np.ndarray:
    """uint8 [4, M/4, K]: the 2-bit field of row 4g+i at [i, g, k] (t+1 for i < 3, t & 3 for i = 3)."""
    m, k = codes.shape
    t = codes.reshape(m // ROWS, ROWS, k).transpose(1, 0, 2).astype(np.int16)
    fields = t + 1
    fields[3] = t[3] & 3
    return fields.astype(np.uint8)


def pack(codes, *, gamma) -> np.ndarray:
    """Pack ternary codes [M, K] (M a multiple of 4) and gamma into rows4 bytes."""
    who = "rows4.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_multiple(m, ROWS, "M", who)
    check_multiple(k, 1, "K", who)
    f = field_values(t)
    body = f[0] | (f[1] << 2) | (f[2] << 4) | (f[3] << 6)
    return np.concatenate([body.reshape(-1).astype(np.uint8),
                           np.frombuffer(np.asarray(g, "<f4").tobytes(), np.uint8)])


def unpack(data, m: int, k: int) -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32).

    Errors: a code field holding 3 in rows 4g..4g+2, or 2 (t = -2) in row 4g+3.
    """
    who = "rows4.unpack"
    raw = check_data(data, nbytes(m, k), who, m, k)
    body = raw[:m * k // ROWS].reshape(1, m // ROWS, k)
    fields = (body >> np.array([0, 2, 4, 6], np.uint8).reshape(4, 1, 1)) & 3
    bad = np.concatenate([fields[:3] == 3, fields[3:] == 2])
    if bad.any():
        i, g, c = (int(v) for v in np.argwhere(bad)[0])
        raise FormatError(f"{who}: field {int(fields[i, g, c])} of row {ROWS * g + i} col {c} is not a "
                          f"ternary code ({'t+1 in 0..2' if i < 3 else 't & 3 in {3, 0, 1}'})")
    t = fields.astype(np.int8)
    t[:3] -= 1
    t[3] = np.where(t[3] == 3, -1, t[3])
    codes = np.ascontiguousarray(t.transpose(1, 0, 2)).reshape(m, k)
    gamma = np.frombuffer(raw[m * k // ROWS:].tobytes(), "<f4")[0]
    return codes, check_gamma(gamma, who)


ROWS4 = Format(
    name="rows4",
    description="4 rows per byte (row 4g+i in bits 2i+1:2i), codes t+1, the top row's t in two's "
                "complement, + fp32 gamma trailer (this workbench's layout for kernels/rowdot)",
    bits_per_weight=2.0,
    nbytes=nbytes,
    pack=pack,
    unpack=unpack,
)
