"""Lane helpers shared by every ISA's semantics: typed views, saturation, wrap, per-block lanes.

Engine layer (`isa_models.core`, Spike's ``VI_*`` and QEMU's helper idea). Every semantics
function receives ``uint8`` arrays of shape ``(P, nbytes)`` (the value convention of
`isa_models.core.isa`) and returns the same. These helpers keep instruction bodies down to their
lane math: view bytes as a lane type, saturate or wrap a wide intermediate back to a lane type,
and split a value into independent 128-bit blocks (AVX2 shuffles and packs work per 128-bit lane;
NEON registers are one such block; HVX works on whole 128-byte vectors).
"""

from __future__ import annotations

import numpy as np

__all__ = ["lanes", "to_bytes", "saturate", "wrap", "per128", "from128", "zeros_like_bytes",
           "shift_count"]

_LANE_TYPES = {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                     np.int64, np.uint64)}


def lanes(value: np.ndarray, dtype) -> np.ndarray:
    """View a ``(P, nbytes)`` uint8 value as little-endian lanes of `dtype`, shape ``(P, nbytes/size)``."""
    dt = np.dtype(dtype)
    if dt not in _LANE_TYPES:
        raise ValueError(f"lanes: unsupported lane type {dt}")
    v = np.ascontiguousarray(value, dtype=np.uint8)
    if v.ndim != 2 or v.shape[1] % dt.itemsize:
        raise ValueError(f"lanes: value of shape {v.shape} is not (P, k*{dt.itemsize}) bytes")
    return v.view(dt.newbyteorder("<")).astype(dt, copy=False)


def to_bytes(lane_values: np.ndarray, dtype) -> np.ndarray:
    """Cast integer lane values (already in range of `dtype`) back to ``(P, nbytes)`` uint8."""
    dt = np.dtype(dtype)
    arr = np.ascontiguousarray(np.asarray(lane_values).astype(dt.newbyteorder("<"), copy=False))
    if arr.ndim != 2:
        raise ValueError(f"to_bytes: lane array must be (P, lanes), got shape {arr.shape}")
    return arr.view(np.uint8).reshape(arr.shape[0], -1)


def saturate(wide: np.ndarray, dtype) -> np.ndarray:
    """Clamp wide integer lane values to the range of `dtype` and return them as bytes."""
    info = np.iinfo(dtype)
    return to_bytes(np.clip(np.asarray(wide, dtype=np.int64), info.min, info.max), dtype)


def wrap(wide: np.ndarray, dtype) -> np.ndarray:
    """Keep the low bits of wide integer lane values (two's-complement wrap) as bytes of `dtype`."""
    # integer-to-integer astype keeps the low bits (C cast semantics): exactly the wrap
    return to_bytes(np.asarray(wide, dtype=np.int64).astype(np.dtype(dtype)), dtype)


def per128(value: np.ndarray) -> np.ndarray:
    """Split ``(P, 16*L)`` bytes into ``(P, L, 16)``: the independent 128-bit lanes."""
    v = np.ascontiguousarray(value, dtype=np.uint8)
    if v.shape[1] % 16:
        raise ValueError(f"per128: {v.shape[1]} bytes is not a whole number of 128-bit lanes")
    return v.reshape(v.shape[0], v.shape[1] // 16, 16)


def from128(lane_bytes: np.ndarray) -> np.ndarray:
    """Inverse of `per128`: ``(P, L, 16)`` back to ``(P, 16*L)`` bytes."""
    return np.ascontiguousarray(lane_bytes, dtype=np.uint8).reshape(lane_bytes.shape[0], -1)


def zeros_like_bytes(value: np.ndarray) -> np.ndarray:
    return np.zeros(np.shape(value), np.uint8)


def shift_count(count: np.ndarray) -> np.ndarray:
    """The 64-bit unsigned shift count held in the low quadword of an xmm operand, shape ``(P, 1)``."""
    return lanes(np.asarray(count)[:, :8], np.uint64)
