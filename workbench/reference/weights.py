"""Model weights: the containers every loader, writer and forward pass shares, and the
deterministic random weights of a preset.

Ground-truth layer. A `TernaryLinear` holds int8 codes in {-1, 0, +1} of shape (out, in) (rows are
output channels, the reduction runs along a row) and one fp32 scale gamma = mean|W| per tensor
(research/reference.md §6.1). Random weights are Gaussian, then absmean-quantized; every tensor is
drawn from its own `SeedSequence((seed, layer, tensor))`, so one layer can be built alone (the
kernels' whole-token runs need one projection at a time) and is identical to the same layer of a
full build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from workbench.quant import quantize_weights
from workbench.reference.config import PROJECTIONS, ModelConfig

__all__ = ["TernaryLinear", "LayerWeights", "ModelWeights", "random_linear", "random_layer",
           "random_weights"]


@dataclass
class TernaryLinear:
    """One BitLinear: codes (int8, shape (out, in), values -1/0/+1) and gamma (fp32)."""

    codes: np.ndarray
    gamma: np.float32

    def __post_init__(self) -> None:
        if self.codes.dtype != np.int8 or self.codes.ndim != 2:
            raise ValueError(f"TernaryLinear: codes must be a 2-D int8 array, got {self.codes.dtype} "
                             f"shape {self.codes.shape}")
        self.gamma = np.float32(self.gamma)

    @property
    def shape(self) -> tuple[int, int]:
        return self.codes.shape  # type: ignore[return-value]


@dataclass
class LayerWeights:
    """Weights of one decoder layer (norm weights are fp32 vectors)."""

    input_norm: np.ndarray
    q: TernaryLinear
    k: TernaryLinear
    v: TernaryLinear
    attn_sub_norm: np.ndarray
    o: TernaryLinear
    post_attn_norm: np.ndarray
    gate: TernaryLinear
    up: TernaryLinear
    ffn_sub_norm: np.ndarray
    down: TernaryLinear

    def projection(self, name: str) -> TernaryLinear:
        if name not in PROJECTIONS:
            raise ValueError(f"unknown projection {name!r}; valid: {', '.join(PROJECTIONS)}")
        return getattr(self, name)

    def projections(self) -> Iterator[tuple[str, TernaryLinear]]:
        for name in PROJECTIONS:
            yield name, getattr(self, name)


@dataclass
class ModelWeights:
    """All weights of a model. `lm_head` is None when the embedding is tied."""

    config: ModelConfig
    embed: np.ndarray
    layers: list[LayerWeights]
    final_norm: np.ndarray
    lm_head: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def output_embedding(self) -> np.ndarray:
        return self.embed if self.lm_head is None else self.lm_head


# Tensor ids inside one layer's SeedSequence; norms use ids 100+.
_TENSOR_ID = {name: i for i, name in enumerate(PROJECTIONS)}
_NORM_ID = {"input_norm": 100, "attn_sub_norm": 101, "post_attn_norm": 102, "ffn_sub_norm": 103}


def _rng(seed: int, *path: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence((seed, *path))))


def _norm_weight(seed: int, layer: int, name: str, n: int) -> np.ndarray:
    # Norm weights near 1, so activations stay in a realistic range through many layers.
    rng = _rng(seed, layer, _NORM_ID[name])
    return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)


def random_linear(config: ModelConfig, layer: int, proj: str, *, seed: int = 0) -> TernaryLinear:
    """Gaussian weights of one projection, absmean-quantized (deterministic in seed, layer, proj)."""
    if not 0 <= layer < config.num_layers:
        raise ValueError(f"model {config.name!r} has layers 0..{config.num_layers - 1}, not {layer}")
    m, k = config.projection_shape(proj)
    w = _rng(seed, layer, _TENSOR_ID[proj]).standard_normal((m, k), dtype=np.float32)
    w *= np.float32(1.0 / np.sqrt(k))
    codes, gamma = quantize_weights(w)
    return TernaryLinear(codes, gamma)


def random_layer(config: ModelConfig, layer: int, *, seed: int = 0) -> LayerWeights:
    """All weights of one decoder layer (see `random_linear`)."""
    lin = {p: random_linear(config, layer, p, seed=seed) for p in PROJECTIONS}
    h, i = config.hidden_size, config.intermediate_size
    return LayerWeights(
        input_norm=_norm_weight(seed, layer, "input_norm", h),
        attn_sub_norm=_norm_weight(seed, layer, "attn_sub_norm", h),
        post_attn_norm=_norm_weight(seed, layer, "post_attn_norm", h),
        ffn_sub_norm=_norm_weight(seed, layer, "ffn_sub_norm", i),
        **lin,
    )


def random_weights(config: ModelConfig, *, seed: int = 0, progress=None) -> ModelWeights:
    """Deterministic random weights for every tensor of `config`.

    `progress`, if given, is called as ``progress(layer_index)`` after each layer is built.
    """
    top = _rng(seed, 1_000_000)
    embed = (0.02 * np.float32(np.sqrt(config.hidden_size) / 8.0)
             * top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32))
    layers = []
    for layer in range(config.num_layers):
        layers.append(random_layer(config, layer, seed=seed))
        if progress is not None:
            progress(layer)
    final_norm = (1.0 + 0.1 * top.standard_normal(config.hidden_size, dtype=np.float32)).astype(np.float32)
    lm_head = None
    if not config.tie_embeddings:
        lm_head = (0.02 * top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32))
    return ModelWeights(config=config, embed=embed.astype(np.float32), layers=layers,
                        final_norm=final_norm, lm_head=lm_head, meta={"seed": seed, "source": "random"})
