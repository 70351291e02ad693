"""workbench.reference.config: presets by name and the field checks of ModelConfig.

Every check raises a `workbench.errors.UserError` naming the model and the field, because a
config comes from the user (a config.json, a GGUF's metadata); an unknown preset or projection
is an `UnknownNameError` listing the valid names.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.errors import UnknownNameError, UserError
from workbench.reference import PRESETS, PROJECTIONS, ModelConfig, get_preset

TINY = get_preset("tiny")


def test_presets_are_valid_and_named():
    for name, config in PRESETS.items():
        assert config.name == name and config.source
        assert all(m > 0 and k > 0 for m, k in config.projection_shapes().values())


def test_unknown_preset_and_projection_list_the_valid_names():
    with pytest.raises(UnknownNameError, match="unknown model preset 'nope'; valid: tiny, bitnet-b1.58"):
        get_preset("nope")
    with pytest.raises(UnknownNameError, match="unknown model preset"):
        get_preset(["tiny"])                       # unhashable: still a user error, not a TypeError
    with pytest.raises(UnknownNameError, match=f"unknown projection 'qkv'; valid: {', '.join(PROJECTIONS)}"):
        TINY.projection_shape("qkv")


@pytest.mark.parametrize("field, value, message", [
    ("vocab_size", "512", "vocab_size must be a positive integer, got '512'"),
    ("hidden_size", 0, "hidden_size must be a positive integer, got 0"),
    ("num_layers", True, "num_layers must be a positive integer, got True"),
    ("head_dim", 64.0, "head_dim must be a positive integer, got 64.0"),
    ("bos_token_id", -1, "bos_token_id must be a non-negative integer, got -1"),
    ("eos_token_id", "2", "eos_token_id must be a non-negative integer, got '2'"),
    ("rope_theta", "1e4", "rope_theta must be a finite number > 0, got '1e4'"),
    ("rope_theta", float("inf"), "rope_theta must be a finite number > 0, got inf"),
    ("rms_norm_eps", float("nan"), "rms_norm_eps must be a finite number > 0, got nan"),
    ("rms_norm_eps", 0.0, "rms_norm_eps must be a finite number > 0, got 0.0"),
    ("tie_embeddings", "no", "tie_embeddings must be true or false, got 'no'"),
    ("num_kv_heads", 3, "num_heads 4 is not a multiple of num_kv_heads 3"),
    ("head_dim", 63, "head_dim 63 must be even for RoPE"),
    ("name", "", "model name must be a non-empty string"),
])
def test_bad_fields_are_user_errors_naming_the_field(field, value, message):
    with pytest.raises(UserError, match=message):
        dataclasses.replace(TINY, **{field: value})


def test_numeric_fields_are_normalized():
    c = dataclasses.replace(TINY, rope_theta=10000, vocab_size=np.int64(512), rms_norm_eps=np.float32(1e-5))
    assert type(c.rope_theta) is float and c.rope_theta == 10000.0
    assert type(c.vocab_size) is int and type(c.rms_norm_eps) is float
    assert c == dataclasses.replace(TINY, rope_theta=10000.0, rms_norm_eps=float(np.float32(1e-5)))
    with pytest.raises(UserError, match="rope_theta must be a finite number > 0"):
        ModelConfig(**{**TINY.to_dict(), "rope_theta": 10**400})
