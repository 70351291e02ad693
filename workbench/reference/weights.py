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

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from workbench.quant import quantize_weights
from workbench.reference.config import PROJECTIONS, ModelConfig

__all__ = ["TernaryLinear", "LayerWeights", "ModelWeights", "random_linear", "random_layer",
           "random_weights", "weights_cache_dir", "CACHE_FORMAT_VERSION", "CACHE_MIN_PARAMS"]

# Bump when the generator or the on-disk layout changes: old cache entries are then ignored.
CACHE_FORMAT_VERSION = 1
# Presets with at least this many ternary weights are cached on disk by default.
CACHE_MIN_PARAMS = 200_000_000


@dataclass
class TernaryLinear:
    """One BitLinear: codes (int8, shape (out, in), values -1/0/+1) and gamma (fp32).

    `weight_scale` is the divisor a Hugging Face ``bitlinear`` checkpoint stores (fp32, nominally
    ``1/gamma``). It is kept when a checkpoint provides it, because ``fl(1/fl(1/ws))`` need not equal
    ``ws``; the "hf" dequantization then divides by exactly the stored value. None means
    ``fl(1/gamma)``.
    """

    codes: np.ndarray
    gamma: np.float32
    weight_scale: np.float32 | None = None

    def __post_init__(self) -> None:
        if self.codes.dtype != np.int8 or self.codes.ndim != 2:
            raise ValueError(f"TernaryLinear: codes must be a 2-D int8 array, got {self.codes.dtype} "
                             f"shape {self.codes.shape}")
        self.gamma = np.float32(self.gamma)
        if self.weight_scale is not None:
            self.weight_scale = np.float32(self.weight_scale)

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


def weights_cache_dir() -> Path:
    """Root of the on-disk weight cache: $TERNARY_WORKBENCH_CACHE or ~/.cache/ternary-workbench."""
    env = os.environ.get("TERNARY_WORKBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ternary-workbench"


def _cache_key(config: ModelConfig, seed: int) -> str:
    shape = {k: v for k, v in config.to_dict().items() if k != "source"}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]
    return f"{config.name}-{digest}-seed{seed}-v{CACHE_FORMAT_VERSION}"


def _tensor_files(weights: ModelWeights) -> dict[str, np.ndarray]:
    files = {"embed": weights.embed, "final_norm": weights.final_norm}
    if weights.lm_head is not None:
        files["lm_head"] = weights.lm_head
    for li, lw in enumerate(weights.layers):
        for name in _NORM_ID:
            files[f"{li}.{name}"] = getattr(lw, name)
        for proj, lin in lw.projections():
            files[f"{li}.{proj}.codes"] = lin.codes
            files[f"{li}.{proj}.gamma"] = np.asarray([lin.gamma], dtype=np.float32)
    return files


def _save_cache(weights: ModelWeights, path: Path) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, arr in _tensor_files(weights).items():
        np.save(tmp / f"{name}.npy", arr)
    (tmp / "complete").write_text("ok\n")
    try:
        tmp.rename(path)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)


def _load_cache(config: ModelConfig, path: Path, seed: int, progress) -> ModelWeights:
    def load(name: str) -> np.ndarray:
        return np.load(path / f"{name}.npy")

    layers = []
    for li in range(config.num_layers):
        lin = {p: TernaryLinear(load(f"{li}.{p}.codes"), load(f"{li}.{p}.gamma")[0]) for p in PROJECTIONS}
        norms = {n: np.asarray(load(f"{li}.{n}")) for n in _NORM_ID}
        layers.append(LayerWeights(**norms, **lin))
        if progress is not None:
            progress(li)
    lm_head = load("lm_head") if not config.tie_embeddings else None
    return ModelWeights(config=config, embed=load("embed"), layers=layers,
                        final_norm=np.asarray(load("final_norm")), lm_head=lm_head,
                        meta={"seed": seed, "source": "random", "cache": str(path)})


def random_weights(config: ModelConfig, *, seed: int = 0, progress=None, cache: bool | None = None,
                   workers: int | None = None) -> ModelWeights:
    """Deterministic random weights for every tensor of `config`.

    Parameters
    ----------
    progress : callable, optional; called as ``progress(layer_index)`` as each layer is ready
        (in order, whether generated or read from the disk cache).
    cache : bool, optional; keep the weights on disk under `weights_cache_dir()` with a key naming
        the preset, a hash of its shapes, the seed and `CACHE_FORMAT_VERSION`, and read them back on
        later calls. Default: only for models with at least `CACHE_MIN_PARAMS` ternary weights.
    workers : int, optional; threads generating layers in parallel (default: CPU count). The
        result does not depend on it: every tensor has its own seed.
    """
    if cache is None:
        cache = config.ternary_params() >= CACHE_MIN_PARAMS
    if cache:
        path = weights_cache_dir() / "weights" / _cache_key(config, seed)
        if (path / "complete").is_file():
            return _load_cache(config, path, seed, progress)
    weights = _generate(config, seed=seed, progress=progress, workers=workers or os.cpu_count() or 1)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        _save_cache(weights, path)
        weights.meta["cache"] = str(path)
    return weights


def _generate(config: ModelConfig, *, seed: int, progress, workers: int) -> ModelWeights:
    def top_tensors() -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        top = _rng(seed, 1_000_000)
        embed = top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32)
        embed *= np.float32(0.02 * np.sqrt(config.hidden_size) / 8.0)
        final_norm = (1.0 + 0.1 * top.standard_normal(config.hidden_size, dtype=np.float32)).astype(np.float32)
        lm_head = None
        if not config.tie_embeddings:
            lm_head = top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32)
            lm_head *= np.float32(0.02)
        return embed, final_norm, lm_head

    layers = []
    with ThreadPoolExecutor(max_workers=workers) as pool:  # numpy's generators release the GIL
        top_job = pool.submit(top_tensors)
        for layer, built in enumerate(pool.map(lambda i: random_layer(config, i, seed=seed),
                                               range(config.num_layers))):
            layers.append(built)
            if progress is not None:
                progress(layer)
        embed, final_norm, lm_head = top_job.result()
    return ModelWeights(config=config, embed=embed, layers=layers, final_norm=final_norm,
                        lm_head=lm_head, meta={"seed": seed, "source": "random"})
