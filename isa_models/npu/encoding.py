"""Weight-word trit encodings of the NPU array ("2bit" and "base3") and tile packing.

Engine layer of the NPU ISA. One weight word holds the R x C trits the array consumes in one
cycle, trit j = r*C + c (row-major). "2bit": trit j in byte j//4 at bits 2*(j%4), code t+1
(code 3 is invalid). "base3": trit j in byte j//5, byte = sum_i (t_i+1) * 3**i over its five
trits (bytes >= 243 invalid; missing trits of a last partial byte encode t = 0), then zero bytes
pad the word to the DMA bus width. `pack_matrix_tiles` lays out a ternary matrix as the word
stream the DMA copies verbatim (docs/npu.md §3); the RTL decoder (`rtl.decoder`) implements the
same tables.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EncodingError", "pack_words", "unpack_words", "pack_matrix_tiles", "tile_words",
           "decode_table"]


class EncodingError(ValueError):
    """Invalid trits or invalid weight codes."""


def decode_table(encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """(trits int8 [256, g], valid bool [256]) for one byte, g = 4 ("2bit") or 5 ("base3")."""
    codes = np.arange(256)
    if encoding == "2bit":
        digits = np.stack([(codes >> (2 * i)) & 3 for i in range(4)], axis=1)
        valid = np.ones(256, dtype=bool)
        bad = digits == 3
        trits = np.where(bad, 0, digits - 1)
        return trits.astype(np.int8), ~bad.any(axis=1) & valid
    if encoding == "base3":
        digits = np.stack([(codes // 3 ** i) % 3 for i in range(5)], axis=1)
        valid = codes < 243
        trits = np.where(valid[:, None], digits - 1, 0)
        return trits.astype(np.int8), valid
    raise EncodingError(f"unknown weight encoding {encoding!r}; valid: 2bit, base3")


_TABLES = {e: decode_table(e) for e in ("2bit", "base3")}


def pack_words(trits: np.ndarray, *, encoding: str, word_bytes: int) -> np.ndarray:
    """Pack trit words [..., T] (values -1/0/+1) into uint8 [..., word_bytes]."""
    t = np.asarray(trits)
    if t.size and (t.min() < -1 or t.max() > 1):
        raise EncodingError(f"pack_words: values outside {{-1, 0, +1}} (min {t.min()}, max {t.max()})")
    n = t.shape[-1]
    group = 4 if encoding == "2bit" else 5 if encoding == "base3" else None
    if group is None:
        raise EncodingError(f"unknown weight encoding {encoding!r}; valid: 2bit, base3")
    nbytes = -(-n // group)
    if nbytes > word_bytes:
        raise EncodingError(f"pack_words: {n} trits need {nbytes} bytes > word of {word_bytes}")
    digits = np.ones(t.shape[:-1] + (nbytes * group,), dtype=np.int64)   # pad trits are t = 0
    digits[..., :n] = t.astype(np.int64) + 1
    digits = digits.reshape(t.shape[:-1] + (nbytes, group))
    if encoding == "2bit":
        weights = np.array([1, 4, 16, 64])
    else:
        weights = np.array([1, 3, 9, 27, 81])
    out = np.zeros(t.shape[:-1] + (word_bytes,), dtype=np.uint8)
    out[..., :nbytes] = (digits * weights).sum(axis=-1).astype(np.uint8)
    return out


def unpack_words(words: np.ndarray, *, encoding: str, trits: int, where: str = "weights") -> np.ndarray:
    """Decode uint8 words [..., word_bytes] into int8 trits [..., trits]; invalid codes raise."""
    table, valid = _TABLES[encoding] if encoding in _TABLES else decode_table(encoding)
    group = table.shape[1]
    nbytes = -(-trits // group)
    used = np.asarray(words)[..., :nbytes]
    if not valid[used].all():
        bad = used[~valid[used]][0]
        raise EncodingError(f"{where}: invalid {encoding} weight byte 0x{int(bad):02x}")
    out = table[used].reshape(used.shape[:-1] + (nbytes * group,))
    return out[..., :trits]


def tile_words(m: int, k: int, rows: int, cols: int) -> tuple[int, int]:
    """(row tiles, words per row tile) for an M x K matrix on an R x C array (zero padded)."""
    return -(-m // rows), -(-k // cols)


def pack_matrix_tiles(codes: np.ndarray, params) -> np.ndarray:
    """Pack a ternary matrix codes int8 [M, K] as NPU weight words, row tile by row tile.

    Row tile i (rows i*R .. i*R+R-1), K word j (columns j*C .. j*C+C-1) is word
    ``i * ceil(K/C) + j`` of the returned uint8 [tiles * words, w_word_bytes] array; M and K are
    zero padded to multiples of R and C.
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise EncodingError(f"pack_matrix_tiles: codes must be 2-D [M, K], got shape {codes.shape}")
    m, k = codes.shape
    r, c = params.rows, params.cols
    mt, kw = tile_words(m, k, r, c)
    padded = np.zeros((mt * r, kw * c), dtype=np.int8)
    padded[:m, :k] = codes
    words = padded.reshape(mt, r, kw, c).transpose(0, 2, 1, 3).reshape(mt * kw, r * c)
    return pack_words(words, encoding=params.weight_encoding, word_bytes=params.w_word_bytes)
