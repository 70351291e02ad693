"""workbench.reference.weights loading: one layer built alone equals the same layer of a full build
byte for byte, per-layer loading reads only what it is asked (from the cache or the generator), the
disk cache is memory-mapped read-only and written atomically, one folder per unit."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from workbench.errors import UserError
from workbench.reference import PROJECTIONS, forward, get_preset, random_weights
from workbench.reference import weights as wmod
from workbench.reference.weights import LayerList, weights_cache_path

TINY = get_preset("tiny")


def _layer_bytes(lw) -> dict[str, bytes]:
    out = {n: np.asarray(getattr(lw, n)).tobytes() for n in ("input_norm", "attn_sub_norm", "post_attn_norm",
                                                               "ffn_sub_norm")}
    for p in PROJECTIONS:
        lin = lw.projection(p)
        out[p] = np.asarray(lin.codes).tobytes()
        out[p + ".gamma"] = np.float32(lin.gamma).tobytes()
    return out


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("TERNARY_WORKBENCH_CACHE", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("cache", [False, True])
def test_one_layer_alone_equals_that_layer_of_a_full_build(cache, cache_root):
    full = random_weights(TINY, seed=5, cache=False)
    alone = random_weights(TINY, seed=5, layers=[1], cache=cache)
    assert isinstance(alone.layers, LayerList) and alone.layers.held == [1]
    assert _layer_bytes(alone.layers[1]) == _layer_bytes(full.layers[1])
    assert alone.embed.tobytes() == full.embed.tobytes()
    assert alone.final_norm.tobytes() == full.final_norm.tobytes()
    assert alone.layers.held == [1]                     # indexing a held layer loads nothing else
    # any other layer is built on first access, equal too; slicing gives plain layers
    assert _layer_bytes(alone.layers[0]) == _layer_bytes(full.layers[0]) and alone.layers.held == [0, 1]
    assert len(alone.layers) == TINY.num_layers and len(alone.layers[:]) == TINY.num_layers
    assert _layer_bytes(alone.layers[-1]) == _layer_bytes(full.layers[-1])
    with pytest.raises(IndexError):
        alone.layers[TINY.num_layers]


def test_per_layer_load_generates_only_what_is_asked(cache_root, monkeypatch):
    built = []
    real = wmod.random_layer
    monkeypatch.setattr(wmod, "random_layer", lambda config, li, *, seed: built.append(li) or real(config, li, seed=seed))
    seen = []
    w = random_weights(TINY, seed=1, layers=[1], cache=True, progress=seen.append)
    assert built == [1] and seen == [1]
    path = weights_cache_path(TINY, seed=1)
    assert sorted(p.name for p in path.iterdir()) == ["layer001", "top"]   # no temporary folder left
    # a full load afterwards reads layer 1 from the cache and generates only layer 0
    full = random_weights(TINY, seed=1, cache=True, workers=1)
    assert built == [1, 0] and isinstance(full.layers, list)
    assert sorted(p.name for p in path.iterdir()) == ["layer000", "layer001", "top"]
    # now everything is cached: nothing is generated again
    again = random_weights(TINY, seed=1, cache=True)
    assert built == [1, 0]
    assert _layer_bytes(again.layers[1]) == _layer_bytes(w.layers[1])


def test_cache_is_memory_mapped_read_only(cache_root):
    random_weights(TINY, seed=2, cache=True)
    w = random_weights(TINY, seed=2, layers=[0], cache=True)
    codes = w.layers[0].q.codes
    assert isinstance(codes.base, np.memmap) and not codes.flags.writeable
    assert isinstance(w.embed.base, np.memmap) and not w.embed.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        codes[0, 0] = 1
    # a cached model runs through the reference forward pass like a generated one
    assert np.array_equal(forward(w, [1, 2]), forward(random_weights(TINY, seed=2, cache=False), [1, 2]))


def test_a_generated_and_cached_layer_is_mapped_back_from_disk(cache_root):
    w = random_weights(TINY, seed=6, layers=[0], cache=True)
    assert isinstance(w.layers[0].down.codes.base, np.memmap)


def test_a_crashed_writers_temporary_folder_is_not_a_unit(cache_root):
    path = weights_cache_path(TINY, seed=3)
    (path / ".layer000.tmp1-2").mkdir(parents=True)
    (path / ".layer000.tmp1-2" / "q.codes.npy").write_bytes(b"garbage")
    w = random_weights(TINY, seed=3, layers=[0], cache=True)
    assert _layer_bytes(w.layers[0]) == _layer_bytes(random_weights(TINY, seed=3, cache=False).layers[0])
    assert (path / "layer000" / "q.codes.npy").is_file()


def test_write_keeps_the_unit_another_process_renamed_first(tmp_path, monkeypatch):
    path = tmp_path / "model"
    real_save = np.save

    def save_while_another_process_finishes(file, arr):
        real_save(file, arr)
        theirs = path / "unit"
        if not theirs.exists():
            theirs.mkdir()
            real_save(theirs / "a.npy", np.arange(5))
    monkeypatch.setattr(wmod.np, "save", save_while_another_process_finishes)
    wmod._write_unit(path, "unit", {"a": np.arange(3)})
    assert np.array_equal(np.load(path / "unit" / "a.npy"), np.arange(5))
    assert sorted(os.listdir(path)) == ["unit"]                     # our temporary folder is gone


def test_a_failed_write_leaves_no_unit(cache_root, monkeypatch):
    def full_disk(file, arr, *a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(wmod.np, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        random_weights(TINY, seed=4, layers=[0], cache=True)
    path = weights_cache_path(TINY, seed=4)
    assert not (path / "layer000").exists() and not [p for p in os.listdir(path) if ".tmp" in p]


def test_bad_layer_numbers_are_user_errors():
    with pytest.raises(UserError, match=r"model 'tiny' has layers 0..1, not 2"):
        random_weights(TINY, layers=[2], cache=False)
    with pytest.raises(UserError, match="expected layer numbers"):
        random_weights(TINY, layers=["0"], cache=False)


def test_cache_folder_names_preset_shapes_seed_and_format(cache_root):
    path = weights_cache_path(TINY, seed=9)
    assert path.parent == cache_root / "weights"
    assert path.name.startswith("tiny-") and path.name.endswith(f"-seed9-v{wmod.CACHE_FORMAT_VERSION}")
    assert weights_cache_path(TINY, seed=8) != path
    assert weights_cache_path(dataclasses.replace(TINY, num_layers=3), seed=9) != path
