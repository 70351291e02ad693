"""Quantizers: absmean ternary weights and per-token absmax int8 activations.

Ground-truth layer (imports only the leaf `workbench.errors`). The formulas and rounding rules are
exactly those of research/reference.md §1.3, §4 and §6; two activation-scale conventions exist
and are selectable:

- ``"hf"``: Hugging Face ``BitLinear``: ``s = fl32(127 * fl32(1 / amax))`` (torch evaluates
  ``127 / t`` as ``t.reciprocal() * 127``);
- ``"bitnet_cpp"``: bitnet.cpp ``quantize_row_i8_s``: ``s = float(127 / double(amax))``.

Both then compute ``q = clip(rint(fl32(x * s)), -128, 127)`` with round-half-even, and both floor
``amax`` at 1e-5, so an all-zero row gets ``s = 127 / 1e-5`` and ``q = 0``.
"""

from __future__ import annotations

import numpy as np

from workbench.errors import UnknownNameError

__all__ = ["CONVENTIONS", "quantize_weights", "quantize_activations", "activation_scale",
           "dequantize_output"]

CONVENTIONS = ("hf", "bitnet_cpp")
_EPS = np.float32(1e-5)


def _check_convention(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise UnknownNameError(f"unknown scale convention {convention!r}; valid: {', '.join(CONVENTIONS)}")


def quantize_weights(w: np.ndarray) -> tuple[np.ndarray, np.float32]:
    """Absmean ternary quantization of one weight tensor (one scale per tensor).

    ``gamma = max(mean|W|, 1e-5)`` (fp32, the mean accumulated in float64 and rounded once, so the
    result does not depend on the summation order); ``codes = clip(rint(W * fl32(1/gamma)), -1, 1)``.

    Returns
    -------
    codes : np.ndarray of int8, same shape as `w`, values in {-1, 0, 1}
    gamma : np.float32, the per-tensor scale (the dequantized weight is ``codes * gamma``)
    """
    w = np.asarray(w, dtype=np.float32)
    if w.size == 0:
        raise ValueError("quantize_weights: empty weight tensor")
    gamma = np.float32(max(np.float32(np.abs(w, dtype=np.float64).mean()), _EPS))
    inv = np.float32(np.float32(1.0) / gamma)
    codes = np.clip(np.rint(w * inv), -1, 1).astype(np.int8)
    return codes, gamma


def activation_scale(amax: np.ndarray, *, convention: str = "hf") -> np.ndarray:
    """Per-row scale ``s`` from the row absmax (already floored at 1e-5), fp32."""
    _check_convention(convention)
    amax = np.asarray(amax, dtype=np.float32)
    if convention == "hf":
        return (np.float32(127.0) * (np.float32(1.0) / amax)).astype(np.float32)
    return (127.0 / amax.astype(np.float64)).astype(np.float32)


def quantize_activations(x: np.ndarray, *, convention: str = "hf") -> tuple[np.ndarray, np.ndarray]:
    """Per-token (per-row, last axis) absmax int8 quantization.

    Returns
    -------
    q : np.ndarray of int8, same shape as `x`
    s : np.ndarray of float32, shape ``x.shape[:-1]``: ``x ~= q / s``
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"quantize_activations: need at least one element per row, got shape {x.shape}")
    amax = np.maximum(np.abs(x).max(axis=-1), _EPS)
    s = activation_scale(amax, convention=convention)
    q = np.clip(np.rint(x * s[..., None]), -128, 127).astype(np.int8)
    return q, s


def dequantize_output(acc: np.ndarray, s: np.ndarray, gamma: np.float32, *,
                      convention: str = "hf", weight_scale: np.float32 | None = None) -> np.ndarray:
    """Float output of a BitLinear from its int32 accumulators.

    ``"hf"``: ``acc / fl32(ws * s)`` where ``ws`` is the checkpoint's stored `weight_scale` when
    given, else ``fl32(1/gamma)`` (HF stores ``weight_scale = 1/gamma`` and divides);
    ``"bitnet_cpp"``: ``fl32(acc / s) * gamma``.
    """
    _check_convention(convention)
    accf = np.asarray(acc).astype(np.float32)
    s = np.asarray(s, dtype=np.float32)[..., None]
    gamma = np.float32(gamma)
    if convention == "hf":
        ws = np.float32(np.float32(1.0) / gamma) if weight_scale is None else np.float32(weight_scale)
        return (accf / (ws * s)).astype(np.float32)
    return ((accf / s) * gamma).astype(np.float32)
