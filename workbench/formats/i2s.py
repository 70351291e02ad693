"""I2_S: bitnet.cpp's 2-bit "int2 with a scale" packing (x86 and ARM block layouts).

Ground-truth layer. Code c = t + 1 in {0, 1, 2} (3 never occurs). Rows are contiguous, K/4 bytes
each, cut into blocks of QK weights: QK = 128 in 32 bytes on x86 ("i2s_x86"), QK = 64 in 16 bytes
on ARM ("i2s_arm", bitnet.cpp main since 2025-11). After the M*K/4 code bytes comes a 32-byte tail
whose first 4 bytes are the fp32 per-tensor scale gamma (research/kernels.md §1.2, §5.2).
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (SCALE_TAIL_BYTES, Format, FormatError, check_codes,
                                       check_data, check_gamma, check_multiple, read_scale,
                                       scale_tail)

__all__ = ["I2S_X86", "I2S_ARM", "nbytes", "pack", "unpack", "BLOCK_WEIGHTS"]

# QK per layout: weights per block; a block is QK/4 bytes.
BLOCK_WEIGHTS = {"x86": 128, "arm": 64}


def _qk(arch: str) -> int:
    if arch not in BLOCK_WEIGHTS:
        raise FormatError(f"i2s: unknown arch {arch!r}; valid: {', '.join(BLOCK_WEIGHTS)}")
    return BLOCK_WEIGHTS[arch]


def nbytes(m: int, k: int, *, arch: str = "x86") -> int:
    """Packed size: M*K/4 code bytes plus the 32-byte scale tail."""
    qk = _qk(arch)
    check_multiple(m, 1, "M", f"i2s_{arch}")
    check_multiple(k, qk, "K", f"i2s_{arch}")
    return m * k // 4 + SCALE_TAIL_BYTES


def pack(codes, *, gamma, arch: str = "x86") -> np.ndarray:
    """Pack ternary codes [M, K] and gamma into I2_S bytes.

    Byte j of a block (j < QK/4) holds element j in bits 7:6, element QK/4 + j in bits 5:4,
    element QK/2 + j in bits 3:2 and element 3QK/4 + j in bits 1:0, each as code t + 1.
    """
    who = f"i2s_{arch}.pack"
    qk = _qk(arch)
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_multiple(k, qk, "K", who)
    c = (t.astype(np.uint8) + 1).reshape(m * k // qk, 4, qk // 4)  # [block, quarter, j]
    body = (c[:, 0] << 6) | (c[:, 1] << 4) | (c[:, 2] << 2) | c[:, 3]
    return np.concatenate([body.reshape(-1).astype(np.uint8), scale_tail(g)])


def unpack(data, m: int, k: int, *, arch: str = "x86") -> tuple[np.ndarray, np.float32]:
    """Inverse of `pack`: (codes int8 [M, K], gamma fp32). A 2-bit field holding 3 is an error."""
    who = f"i2s_{arch}.unpack"
    qk = _qk(arch)
    check_multiple(k, qk, "K", who)
    check_multiple(m, 1, "M", who)
    raw = check_data(data, nbytes(m, k, arch=arch), who, m, k)
    body = raw[:m * k // 4].reshape(m * k // qk, 1, qk // 4)
    fields = (body >> np.array([6, 4, 2, 0], dtype=np.uint8).reshape(1, 4, 1)) & 3
    if (fields == 3).any():
        pos = int(np.argwhere((fields == 3).any(axis=1).reshape(-1))[0, 0])
        raise FormatError(f"{who}: code 3 in a 2-bit field of byte {pos} (valid codes are 0, 1, 2)")
    codes = (fields.astype(np.int8) - 1).reshape(m, k)
    return codes, read_scale(raw, m * k // 4, who)


def _format(arch: str) -> Format:
    qk = BLOCK_WEIGHTS[arch]
    return Format(
        name=f"i2s_{arch}",
        description=f"bitnet.cpp I2_S, {arch} layout: {qk} weights per {qk // 4}-byte block, "
                    "codes t+1, fp32 scale in a 32-byte tail (kernels.md §5.2)",
        bits_per_weight=2.0,
        nbytes=lambda m, k: nbytes(m, k, arch=arch),
        pack=lambda codes, *, gamma: pack(codes, gamma=gamma, arch=arch),
        unpack=lambda data, m, k: unpack(data, m, k, arch=arch),
    )


I2S_X86 = _format("x86")
I2S_ARM = _format("arm")
