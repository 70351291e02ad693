"""Shared pieces of the weight formats: the `Format` record, the error types and input checks.

Ground-truth layer (imports only the leaf `workbench.errors`). Every packing module builds one
`Format` and uses these checks, so malformed input fails the same way everywhere: a `FormatError`
whose one-line message names the format, the function and the problem. Model-file readers
(`gguf_io`, `hf_io`, `model_io`) raise `ModelFileError` naming the file, and refuse non-finite
weights with `check_finite`. Both are `workbench.errors.UserError`s: one line, exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from workbench.errors import UserError

__all__ = ["Format", "FormatError", "ModelFileError", "check_finite", "check_codes", "check_gamma",
           "check_data", "check_multiple",
           "scale_tail", "read_scale", "SCALE_TAIL_BYTES"]

# bitnet.cpp puts a 32-byte tail after the packed codes; its first 4 bytes hold the fp32 scale
# (research/kernels.md §1.1, §5.2).
SCALE_TAIL_BYTES = 32


class FormatError(UserError):
    """Malformed input to a weight packing: bad codes, gamma, shape, layout or packed bytes."""


class ModelFileError(UserError):
    """A model file or checkpoint that cannot be read as a model: the message names the file."""


def check_finite(arr: np.ndarray, what: str) -> np.ndarray:
    """Return `arr` if every value is finite, else raise ModelFileError naming `what` and the
    first bad element (NaN or infinite weights would decode garbage without any error)."""
    a = np.asarray(arr)
    if a.dtype.kind in "fc" and not np.isfinite(a).all():
        bad = ~np.isfinite(a)
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
        raise ModelFileError(f"{what} holds a non-finite value {a[where]} at index {list(where)} "
                             f"({int(bad.sum())} of {a.size} values are NaN or infinite)")
    return arr


@dataclass(frozen=True)
class Format:
    """One weight packing.

    Attributes
    ----------
    name, description : str
    bits_per_weight : float
        Nominal storage per weight, without per-tensor tails (kernels.md).
    nbytes : callable ``(M, K, **layout) -> int``
        Exact size of a packed tensor (codes, tails and scales included).
    pack : callable ``(codes, *, gamma, **layout) -> np.ndarray[uint8]``
    unpack : callable ``(data, M, K, **layout) -> (codes int8 [M, K], scale)``
        ``scale`` is the fp32 per-tensor gamma, except for TQ1_0/TQ2_0 (per-block scales).
    layout_keys : tuple of str
        The layout keyword arguments the format accepts (empty if none).
    default_layout : callable ``(M, K) -> dict``
        The layout used when none is given.
    """

    name: str
    description: str
    bits_per_weight: float
    nbytes: Callable[..., int]
    pack: Callable[..., np.ndarray]
    unpack: Callable[..., tuple]
    layout_keys: tuple[str, ...] = ()
    default_layout: Callable[[int, int], dict] = lambda m, k: {}


def check_codes(codes, who: str) -> np.ndarray:
    """Return `codes` as a C-contiguous 2-D int8 array in {-1, 0, 1}, or raise FormatError."""
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise FormatError(f"{who}: codes must be 2-D [M, K], got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise FormatError(f"{who}: codes must be integers in {{-1, 0, 1}}, got dtype {arr.dtype}")
    bad = (arr < -1) | (arr > 1)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise FormatError(f"{who}: code {int(arr[r, c])} at row {r} col {c} is outside {{-1, 0, 1}}")
    return np.ascontiguousarray(arr, dtype=np.int8)


def check_gamma(gamma, who: str) -> np.float32:
    """Return `gamma` as a finite non-negative np.float32, or raise FormatError."""
    try:
        g = np.float32(gamma)
    except (TypeError, ValueError):
        raise FormatError(f"{who}: gamma must be a number, got {gamma!r}") from None
    if np.ndim(g) != 0 or not np.isfinite(g) or g < 0:
        raise FormatError(f"{who}: gamma must be a finite number >= 0, got {gamma!r}")
    return g


def check_multiple(value: int, block: int, what: str, who: str) -> None:
    """Raise FormatError unless `value` is a positive multiple of `block`."""
    if value <= 0 or value % block:
        raise FormatError(f"{who}: {what}={value} is not a positive multiple of {block}")


def check_data(data, expected: int, who: str, m: int, k: int) -> np.ndarray:
    """Return `data` as a flat uint8 array of exactly `expected` bytes, or raise FormatError."""
    arr = np.asarray(data)
    if arr.dtype != np.uint8:
        raise FormatError(f"{who}: data must be uint8 bytes, got dtype {arr.dtype}")
    arr = arr.reshape(-1)
    if arr.size != expected:
        raise FormatError(f"{who}: length {arr.size} is not {expected} for M={m} K={k}")
    return arr


def scale_tail(gamma: np.float32) -> np.ndarray:
    """The 32-byte tensor tail: little-endian fp32 gamma in bytes 0..3, zeros after."""
    tail = np.zeros(SCALE_TAIL_BYTES, dtype=np.uint8)
    tail[:4] = np.frombuffer(np.asarray(gamma, dtype="<f4").tobytes(), dtype=np.uint8)
    return tail


def read_scale(data: np.ndarray, offset: int, who: str) -> np.float32:
    """Read the little-endian fp32 scale at byte `offset`; a non-finite or negative one is an error."""
    g = np.frombuffer(data[offset:offset + 4].tobytes(), dtype="<f4")[0]
    if not np.isfinite(g) or g < 0:
        raise FormatError(f"{who}: scale at byte {offset} is {g}, not a finite number >= 0")
    return np.float32(g)
