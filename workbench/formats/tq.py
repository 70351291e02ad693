"""TQ1_0 and TQ2_0: ggml's ternary block formats (256 weights per block, fp16 block scale).

Ground-truth layer. Each row of K weights is K/256 blocks; rows are contiguous. Block scale
d = fp16(max|w|) over the block's w = codes * gamma, i.e. fp16(gamma), or 0 for an all-zero block
(what ggml's and gguf-py's quantizers compute). TQ2_0 = qs[64] (2-bit codes t+1) + d: 66 bytes,
2.0625 bpw. TQ1_0 = qs[48] (5 trits per byte, base 3, ceil(v*256/243)) + qh[4] (4 trits per
byte) + d: 54 bytes, 1.6875 bpw (research/kernels.md §3.1-§3.2, §5.5).

With gamma = 0 the codes are still stored (d = 0), so they round-trip; gguf-py, which sees
only w = 0, writes zero codes instead.

`unpack` returns ``(codes int8 [M, K], d fp32 [M, K/256])``: the codes and every block's fp16
scale widened to fp32 (gamma itself is not stored: the blocks keep only fp16(gamma)).
"""

from __future__ import annotations

import numpy as np

from workbench.formats._common import (Format, FormatError, check_codes, check_data, check_gamma,
                                       check_multiple)

__all__ = ["TQ1_0", "TQ2_0", "QK_K", "BLOCK_BYTES", "nbytes", "pack", "unpack", "block_scale"]

QK_K = 256
BLOCK_BYTES = {"tq1_0": 54, "tq2_0": 66}
_POW3 = np.array([81, 27, 9, 3, 1], dtype=np.int32)
_DEC3 = np.array([1, 3, 9, 27, 81], dtype=np.uint16)


def _kind(kind: str) -> str:
    if kind not in BLOCK_BYTES:
        raise FormatError(f"tq: unknown format {kind!r}; valid: {', '.join(BLOCK_BYTES)}")
    return kind


def nbytes(m: int, k: int, *, kind: str) -> int:
    """Packed size: M * K/256 blocks of 54 (TQ1_0) or 66 (TQ2_0) bytes."""
    check_multiple(m, 1, "M", kind)
    check_multiple(k, QK_K, "K", _kind(kind))
    return m * (k // QK_K) * BLOCK_BYTES[kind]


def block_scale(gamma: np.float32, who: str) -> np.float16:
    """fp16(gamma); a gamma that overflows fp16 or underflows to 0 is an error (it would not
    round-trip even approximately)."""
    with np.errstate(over="ignore"):
        d = np.float16(gamma)
    if not np.isfinite(d) or (gamma > 0 and d == 0):
        raise FormatError(f"{who}: gamma={float(gamma)!r} is not representable as an fp16 block scale")
    return d


def _encode_trits(t: np.ndarray) -> np.ndarray:
    """Trits [..., 5, n] (values 0..2, most significant first) -> bytes ceil(v*256/243)."""
    # weights 81, 27, 9, 3(, 1): a qh byte's 4 trits take the top places, its 5th trit is 0
    v = (t.astype(np.int32) * _POW3[:t.shape[-2], None]).sum(axis=-2)
    return ((v * 256 + 242) // 243).astype(np.uint8)


def _decode_trits(b: np.ndarray, n: int) -> np.ndarray:
    """Bytes [..., m] -> trits [..., n, m]: trit i = ((b * 3^i mod 256) * 3) >> 8."""
    q = (b[..., None, :].astype(np.uint16) * _DEC3[:n, None]) & 0xFF
    return ((q * 3) >> 8).astype(np.uint8)


def pack(codes, *, gamma, kind: str) -> np.ndarray:
    """Pack codes [M, K] (K % 256 == 0) into TQ1_0 / TQ2_0 blocks.

    TQ2_0 block: element e = 128h + 32l + m sits in qs[32h + m], bits 2l+1:2l, as t+1; then d.
    TQ1_0 block: elements 0..159 -> qs[0..31] (byte m: elements m + 32n, n = 0..4, n = 0 most
    significant trit); 160..239 -> qs[32..47] (byte 32+m: 160 + m + 16n); 240..255 -> qh[0..3]
    (byte j: 240 + j + 4n, n = 0..3, times 3); each byte = ceil(v*256/243); then d.
    d is fp16(gamma) (little-endian), or 0 for an all-zero block.
    """
    who = f"{_kind(kind)}.pack"
    t = check_codes(codes, who)
    g = check_gamma(gamma, who)
    m, k = t.shape
    check_multiple(k, QK_K, "K", who)
    blocks = (t.reshape(-1, QK_K) + 1).astype(np.uint8)       # [n_blocks, 256], trits 0..2
    d = np.where((blocks != 1).any(axis=1), block_scale(g, who), np.float16(0)).astype("<f2")
    if kind == "tq2_0":
        q = blocks.reshape(-1, 2, 4, 32) << np.array([0, 2, 4, 6], dtype=np.uint8)[None, None, :, None]
        qs = (q[:, :, 0] | q[:, :, 1] | q[:, :, 2] | q[:, :, 3]).reshape(-1, 64)
    else:
        qs0 = _encode_trits(blocks[:, :160].reshape(-1, 5, 32))
        qs1 = _encode_trits(blocks[:, 160:240].reshape(-1, 5, 16))
        qh = _encode_trits(blocks[:, 240:].reshape(-1, 4, 4))
        qs = np.concatenate([qs0, qs1, qh], axis=1)
    out = np.concatenate([qs, d.reshape(-1, 1).view(np.uint8)], axis=1)
    return out.reshape(-1)


def unpack(data, m: int, k: int, *, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of `pack`: (codes int8 [M, K], d fp32 [M, K/256]).

    Errors: a 2-bit field holding 3 (TQ2_0); a non-finite block scale. (Every TQ1_0 byte decodes
    to trits 0..2, so TQ1_0 has no invalid code.)
    """
    who = f"{_kind(kind)}.unpack"
    raw = check_data(data, nbytes(m, k, kind=kind), who, m, k)
    blocks = raw.reshape(-1, BLOCK_BYTES[kind])
    d = blocks[:, -2:].copy().view("<f2").reshape(-1).astype(np.float32)
    if not np.isfinite(d).all():
        b = int(np.argwhere(~np.isfinite(d))[0, 0])
        raise FormatError(f"{who}: block {b} has a non-finite scale {d[b]}")
    if kind == "tq2_0":
        qs = blocks[:, :64].reshape(-1, 2, 1, 32)
        trits = (qs >> np.array([0, 2, 4, 6], dtype=np.uint8)[None, None, :, None]) & 3
        if (trits == 3).any():
            b = int(np.argwhere((trits == 3).any(axis=(1, 2, 3)))[0, 0])
            raise FormatError(f"{who}: code 3 in a 2-bit field of block {b} (valid codes are 0, 1, 2)")
        trits = trits.reshape(-1, QK_K)
    else:
        t0 = _decode_trits(blocks[:, :32], 5).reshape(-1, 160)
        t1 = _decode_trits(blocks[:, 32:48], 5).reshape(-1, 80)
        t2 = _decode_trits(blocks[:, 48:52], 4).reshape(-1, 16)
        trits = np.concatenate([t0, t1, t2], axis=1)
    codes = (trits.astype(np.int8) - 1).reshape(m, k)
    return codes, d.reshape(m, k // QK_K)


def _format(kind: str, bpw: float, what: str) -> Format:
    return Format(
        name=kind,
        description=f"ggml {kind.upper()}: {what}; unpack returns (codes, per-block fp16 d as fp32 "
                    "[M, K/256]) (kernels.md §3.1-§3.2)",
        bits_per_weight=bpw,
        nbytes=lambda m, k: nbytes(m, k, kind=kind),
        pack=lambda codes, *, gamma: pack(codes, gamma=gamma, kind=kind),
        unpack=lambda data, m, k: unpack(data, m, k, kind=kind),
    )


TQ1_0 = _format("tq1_0", 54 * 8 / 256, "5 trits per byte base 3 + fp16 d, 54 B per 256 weights")
TQ2_0 = _format("tq2_0", 66 * 8 / 256, "2-bit codes t+1 + fp16 d, 66 B per 256 weights")
