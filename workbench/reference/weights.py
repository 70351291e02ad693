"""Model weights: the containers every loader, writer and forward pass shares, and the
deterministic random weights of a preset.

Ground-truth layer. A `TernaryLinear` holds int8 codes in {-1, 0, +1} of shape (out, in) (rows are
output channels, the reduction runs along a row) and one fp32 scale gamma = mean|W| per tensor
(research/reference.md §6.1). Random weights are Gaussian, then absmean-quantized; every tensor is
drawn from its own `SeedSequence((seed, layer, tensor))`, so one layer can be built alone (the
kernels' whole-token runs need one projection at a time) and is identical to the same layer of a
full build. `random_weights` loads every layer or only the ones asked for; large presets are kept
in an on-disk cache (one atomically written folder per layer) that is memory-mapped on read.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from workbench.errors import UnknownNameError, UserError
from workbench.quant import quantize_weights
from workbench.reference.config import PROJECTIONS, ModelConfig

__all__ = ["TernaryLinear", "LayerWeights", "ModelWeights", "LayerList", "random_linear", "random_layer",
           "random_weights", "weights_cache_dir", "weights_cache_path", "CACHE_FORMAT_VERSION",
           "CACHE_MIN_PARAMS"]

# Bump when the generator or the on-disk layout changes: old cache entries are then ignored.
# 2: one folder per layer and one for the embedding (v1: one folder for the whole model).
CACHE_FORMAT_VERSION = 2
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
            raise UnknownNameError(f"unknown projection {name!r}; valid: {', '.join(PROJECTIONS)}")
        return getattr(self, name)

    def projections(self) -> Iterator[tuple[str, TernaryLinear]]:
        for name in PROJECTIONS:
            yield name, getattr(self, name)


@dataclass
class ModelWeights:
    """All weights of a model. `lm_head` is None when the embedding is tied; `layers` is a list,
    or a `LayerList` when only some layers were loaded (indexing by layer number works on both)."""

    config: ModelConfig
    embed: np.ndarray
    layers: Sequence[LayerWeights]
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
        raise UserError(f"model {config.name!r} has layers 0..{config.num_layers - 1}, not {layer}")
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


class LayerList(Sequence):
    """The decoder layers of a `ModelWeights` loaded in part: ``layers[li]`` is layer `li`.

    The layers asked for are held from the start; any other layer is read from the disk cache
    (or generated) on first access and then kept, so code that indexes or iterates every layer
    still works, it only pays for what it touches. Slicing returns a list of those layers.
    """

    def __init__(self, count: int, held: dict[int, LayerWeights], load: Callable[[int], LayerWeights]):
        self._count = count
        self._held = dict(held)
        self._load = load

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        i = operator.index(index)
        if i < 0:
            i += self._count
        if not 0 <= i < self._count:
            raise IndexError(f"layer {index} out of range 0..{self._count - 1}")
        if i not in self._held:
            self._held[i] = self._load(i)
        return self._held[i]

    @property
    def held(self) -> list[int]:
        """The layer numbers loaded so far, sorted."""
        return sorted(self._held)


def weights_cache_dir() -> Path:
    """Root of the on-disk weight cache: $TERNARY_WORKBENCH_CACHE or ~/.cache/ternary-workbench
    (the weights live under its ``weights/`` folder)."""
    env = os.environ.get("TERNARY_WORKBENCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "ternary-workbench"


def _cache_key(config: ModelConfig, seed: int) -> str:
    shape = {k: v for k, v in config.to_dict().items() if k != "source"}
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:12]
    return f"{config.name}-{digest}-seed{seed}-v{CACHE_FORMAT_VERSION}"


def weights_cache_path(config: ModelConfig, *, seed: int = 0) -> Path:
    """The cache folder of `config`'s random weights for `seed`: one sub-folder per unit, ``top``
    (embedding, final norm, untied lm_head) and ``layer<NNN>`` (norms, codes and gammas), each
    written to a temporary name and renamed into place whole."""
    return weights_cache_dir() / "weights" / _cache_key(config, seed)


# The arrays of one layer unit and of the top unit; the large ones are memory-mapped on read.
_LAYER_ARRAYS = (*_NORM_ID, *(f"{p}.{part}" for p in PROJECTIONS for part in ("codes", "gamma")))
_MAPPED = ("embed", "lm_head", *(f"{p}.codes" for p in PROJECTIONS))


def _layer_unit(li: int) -> str:
    return f"layer{li:03d}"


def _write_unit(path: Path, unit: str, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` as ``path/unit/<name>.npy`` atomically: a temporary folder renamed into
    place; when another process got there first, its copy is kept."""
    final = path / unit
    if final.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / f".{unit}.tmp{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr)
        tmp.rename(final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_unit(path: Path, unit: str, names) -> dict[str, np.ndarray] | None:
    """The arrays of a cached unit, the large ones memory-mapped read-only (pages shared with
    every process mapping the same file, forked workers included); None if not cached."""
    folder = path / unit
    if not folder.is_dir():
        return None
    out = {}
    for name in names:
        file = folder / f"{name}.npy"
        if not file.is_file():
            return None
        out[name] = np.asarray(np.load(file, mmap_mode="r" if name in _MAPPED else None))
    return out


def _layer_arrays(lw: LayerWeights) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {name: getattr(lw, name) for name in _NORM_ID}
    for proj, lin in lw.projections():
        arrays[f"{proj}.codes"] = lin.codes
        arrays[f"{proj}.gamma"] = np.asarray([lin.gamma], dtype=np.float32)
    return arrays


def _layer_from(arrays: dict[str, np.ndarray]) -> LayerWeights:
    lin = {p: TernaryLinear(arrays[f"{p}.codes"], arrays[f"{p}.gamma"][0]) for p in PROJECTIONS}
    return LayerWeights(**{n: arrays[n] for n in _NORM_ID}, **lin)


def _top_names(config: ModelConfig) -> tuple[str, ...]:
    return ("embed", "final_norm") + (() if config.tie_embeddings else ("lm_head",))


def _random_top(config: ModelConfig, seed: int) -> dict[str, np.ndarray]:
    top = _rng(seed, 1_000_000)
    embed = top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32)
    embed *= np.float32(0.02 * np.sqrt(config.hidden_size) / 8.0)
    out = {"embed": embed,
           "final_norm": (1.0 + 0.1 * top.standard_normal(config.hidden_size, dtype=np.float32)).astype(np.float32)}
    if not config.tie_embeddings:
        lm_head = top.standard_normal((config.vocab_size, config.hidden_size), dtype=np.float32)
        lm_head *= np.float32(0.02)
        out["lm_head"] = lm_head
    return out


class _Source:
    """Where one model's units come from: the disk cache when present, else the generator (whose
    result is written to the cache, when there is one, and mapped back from it)."""

    def __init__(self, config: ModelConfig, seed: int, path: Path | None):
        self.config, self.seed, self.path = config, seed, path

    def _unit(self, unit: str, names, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        if self.path is not None:
            found = _read_unit(self.path, unit, names)
            if found is not None:
                return found
        arrays = build()
        if self.path is None:
            return arrays
        _write_unit(self.path, unit, arrays)
        return _read_unit(self.path, unit, names) or arrays

    def layer(self, li: int) -> LayerWeights:
        return _layer_from(self._unit(_layer_unit(li), _LAYER_ARRAYS,
                                      lambda: _layer_arrays(random_layer(self.config, li, seed=self.seed))))

    def top(self) -> dict[str, np.ndarray]:
        return self._unit("top", _top_names(self.config), lambda: _random_top(self.config, self.seed))


def _check_layers(config: ModelConfig, layers) -> list[int]:
    out = []
    for li in layers:
        if isinstance(li, bool) or not isinstance(li, (int, np.integer)):
            raise UserError(f"layers: expected layer numbers, got {li!r}")
        if not 0 <= li < config.num_layers:
            raise UserError(f"model {config.name!r} has layers 0..{config.num_layers - 1}, not {li}")
        if int(li) not in out:
            out.append(int(li))
    return out


def random_weights(config: ModelConfig, *, seed: int = 0, layers=None, progress=None,
                   cache: bool | None = None, workers: int | None = None) -> ModelWeights:
    """Deterministic random weights of `config`: every layer, or only the layers asked for.

    Parameters
    ----------
    layers : iterable of int, optional
        The layer numbers to load now. None (default): every layer, ``weights.layers`` a list.
        Otherwise ``weights.layers`` is a `LayerList`: these layers are held, any other one is
        read or generated when first indexed; ``weights.layers[li]`` works for every li. Layer li
        built alone equals layer li of a full build, byte for byte.
    progress : callable, optional; called as ``progress(layer_index)`` as each requested layer
        is ready (in order, whether generated or read from the disk cache).
    cache : bool, optional; keep the weights on disk under `weights_cache_path(config, seed=seed)`
        (in `weights_cache_dir()`, keyed by the preset, a hash of its shapes, the seed and
        `CACHE_FORMAT_VERSION`), one unit per layer plus the embedding unit, each written
        atomically; later calls read what is there and generate only what is missing. Cached
        arrays are memory-mapped read-only, so forked workers share their pages without copies.
        Default: only for models with at least `CACHE_MIN_PARAMS` ternary weights.
    workers : int, optional; threads generating layers in parallel (default: CPU count). The
        result does not depend on it: every tensor has its own seed.

    Raises
    ------
    UserError : a layer number outside the model.
    """
    if cache is None:
        cache = config.ternary_params() >= CACHE_MIN_PARAMS
    path = weights_cache_path(config, seed=seed) if cache else None
    source = _Source(config, seed, path)
    wanted = list(range(config.num_layers)) if layers is None else _check_layers(config, layers)
    held: dict[int, LayerWeights] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        top_job = pool.submit(source.top)                  # numpy's generators release the GIL
        for li, built in zip(wanted, pool.map(source.layer, wanted)):
            held[li] = built
            if progress is not None:
                progress(li)
        top = top_job.result()
    meta = {"seed": seed, "source": "random"}
    if path is not None:
        meta["cache"] = str(path)
    layer_seq = [held[li] for li in range(config.num_layers)] if layers is None else \
        LayerList(config.num_layers, held, source.layer)
    return ModelWeights(config=config, embed=top["embed"], layers=layer_seq, final_norm=top["final_norm"],
                        lm_head=top.get("lm_head"), meta=meta)
