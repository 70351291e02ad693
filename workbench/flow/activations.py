"""The inputs of a simulate run: a model's weights (only the layers it needs) and activation rows.

Top of the flow (`workbench.flow`), first step of the pipeline. `load_weights` reads or generates
the preset's deterministic random weights through `workbench.reference.random_weights`, asking
for the layers the run needs only (one layer: that layer, plus the layers before it when the
activations come from the reference forward pass); large presets come from the memory-mapped
disk cache, so forked workers share the pages. `Activations` gives each projection its int8 row
and the reference int32 accumulators for it, and for a batched (prefill) kernel a batch of rows:
that row plus further seeded Gaussian rows.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from workbench.errors import UnknownNameError
from workbench.quant import quantize_activations
from workbench.reference import PROJECTIONS, Trace, forward, random_weights, ternary_matvec

__all__ = ["ACTIVATION_SOURCES", "check_source", "needed_layers", "load_weights", "Activations",
           "activation_rows"]

ACTIVATION_SOURCES = ("trace", "gaussian")


def check_source(source: str) -> None:
    """UnknownNameError unless `source` is one of `ACTIVATION_SOURCES`."""
    if source not in ACTIVATION_SOURCES:
        raise UnknownNameError(f"unknown activation source {source!r}; valid: {', '.join(ACTIVATION_SOURCES)}")


def needed_layers(layers: list[int], *, source: str) -> list[int]:
    """The layers whose weights a run of `layers` reads: those layers, and with the "trace"
    source every layer before the last of them (the forward pass computes their activations)."""
    check_source(source)
    if source == "trace" and layers:
        return list(range(max(layers) + 1))
    return sorted(set(layers))


def load_weights(config, *, seed: int, layers: list[int], progress: Callable | None = None):
    """The preset's deterministic random weights, holding `layers` (any other layer loads on
    first access); disk-cached and memory-mapped for large presets (`random_weights`)."""
    full = list(layers) == list(range(config.num_layers))
    return random_weights(config, seed=seed, layers=None if full else layers, progress=progress)


class Activations:
    """The int8 activation row each projection sees, and the reference accumulators for it.

    Parameters
    ----------
    weights : `workbench.reference.ModelWeights`.
    source : "trace": one decode step of the reference forward pass (`token_id`, default BOS, at
        position 0) through layers 0..max(`layers`); every projection gets exactly the q the
        reference quantized for it, and the expected accumulators are the ones
        `workbench.reference.ternary_matvec` computed inside that forward pass for the same q
        and codes. "gaussian": a standard-normal row per (layer, proj) from its own seeded
        generator, quantized with `workbench.quant.quantize_activations`; expected =
        `ternary_matvec`.
    token_id : the token of the "trace" source (None: the model's BOS).
    seed : seed of the "gaussian" rows.
    layers : the layers rows will be asked for (default: every layer).
    """

    def __init__(self, weights, *, source: str, token_id: int | None, seed: int, layers=None):
        check_source(source)
        self.weights, self.source, self.seed = weights, source, seed
        self.trace = None
        if source == "trace":
            config = weights.config
            last = config.num_layers - 1 if layers is None else max(layers)
            upto = dataclasses.replace(weights, layers=[weights.layers[li] for li in range(last + 1)])
            self.trace = Trace()
            token = config.bos_token_id if token_id is None else token_id
            forward(upto, [token], trace=self.trace, last_only=True)

    def row(self, layer: int, proj: str) -> np.ndarray:
        """int8 [K] activation row of projection `proj` of `layer`."""
        if self.trace is not None:
            return np.ascontiguousarray(self.trace[(layer, proj)].q[0])
        _, K = self.weights.config.projection_shape(proj)
        rng = np.random.default_rng((self.seed, layer, PROJECTIONS.index(proj)))
        q, _ = quantize_activations(rng.standard_normal(K, dtype=np.float32))
        return q

    def batch(self, layer: int, proj: str, tokens: int) -> np.ndarray:
        """int8 [tokens, K]: `row(layer, proj)` then tokens-1 further rows, each a standard-normal
        row from its own seeded generator ``(seed, layer, proj, t)``, quantized per token with
        `workbench.quant.quantize_activations` (the batch a batched kernel runs on)."""
        if tokens < 1:
            raise ValueError(f"Activations.batch: tokens={tokens} must be at least 1")
        _, K = self.weights.config.projection_shape(proj)
        rows = [self.row(layer, proj)]
        for t in range(1, tokens):
            rng = np.random.default_rng((self.seed, layer, PROJECTIONS.index(proj), t))
            rows.append(quantize_activations(rng.standard_normal(K, dtype=np.float32))[0])
        return np.ascontiguousarray(np.stack(rows))

    def expected_batch(self, layer: int, proj: str, tokens: int) -> np.ndarray:
        """The reference int32 [tokens, M] accumulators for `batch(layer, proj, tokens)`: row 0 is
        `expected(layer, proj)`, the others `ternary_matvec` of the further rows."""
        first = self.expected(layer, proj)
        if tokens == 1:
            return np.asarray(first)[None, :]
        codes = self.weights.layers[layer].projection(proj).codes
        rest = ternary_matvec(self.batch(layer, proj, tokens)[1:], codes)
        return np.concatenate([np.asarray(first)[None, :], rest]).astype(np.int32)

    def expected(self, layer: int, proj: str) -> np.ndarray:
        """The reference int32 [M] accumulators for `row(layer, proj)` and the layer's codes."""
        if self.trace is not None:
            return self.trace[(layer, proj)].acc[0]
        codes = self.weights.layers[layer].projection(proj).codes
        return ternary_matvec(self.row(layer, proj)[None, :], codes)[0]


def activation_rows(weights, *, source: str, token_id: int | None, seed: int) -> Callable:
    """``(layer, proj) -> int8 [K]``: the rows of an `Activations` (see there)."""
    return Activations(weights, source=source, token_id=token_id, seed=seed).row
