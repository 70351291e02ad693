"""Presets of the published figures: bitnet.cpp's dummy models (125M..100B, the sizes of its
paper's charts) and the real checkpoints behind T-MAC's and bitnet.cpp's numbers.

The shapes below are microsoft/BitNet utils/generate-dummy-bitnet-model.py's `model_config`
(hidden, ffn, layers, heads); the parameter count of each preset (ternary projections plus the
embedding, plus the lm_head when untied) must land within 5% of the size in its name, which
catches a mistyped shape.
"""

from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.reference import PRESETS, get_preset

DUMMY = {"125M": (768, 3072, 11, 12), "350M": (1024, 3072, 24, 16), "1B": (2048, 3584, 24, 32),
         "1.5B": (1536, 9216, 28, 32), "2.7B": (3072, 7680, 24, 32), "3.8B": (3840, 8192, 24, 32),
         "7B": (4096, 12032, 32, 32), "13B": (5120, 13824, 40, 40), "30B": (6656, 16384, 60, 52),
         "70B": (8192, 24576, 80, 64), "100B": (8192, 45568, 72, 64)}
CHARTS = ("125M", "700M", "3.8B", "7B", "13B", "70B", "100B")    # research/kernels.md §1.7


def _params(c) -> int:
    dense = c.vocab_size * c.hidden_size * (1 if c.tie_embeddings else 2)
    return c.ternary_params() + dense


def _nominal(size: str) -> float:
    return float(size[:-1]) * (1e9 if size.endswith("B") else 1e6)


@pytest.mark.parametrize("size", list(DUMMY))
def test_dummy_presets_have_the_scripts_shapes(size):
    c = get_preset(f"bitnet-{size}")
    h, f, n, a = DUMMY[size]
    assert (c.hidden_size, c.intermediate_size, c.num_layers, c.num_heads) == (h, f, n, a)
    assert c.num_kv_heads == a and c.head_dim * a == h                # MHA, head = hidden / heads
    assert abs(_params(c) / _nominal(size) - 1) < 0.05, _params(c)
    assert "generate-dummy-bitnet-model.py" in c.source


def test_every_chart_size_has_a_preset():
    for size in CHARTS:
        c = get_preset(f"bitnet-{size}")
        assert abs(_params(c) / _nominal(size) - 1) < 0.05, (size, _params(c))


def test_700m_is_bitnet_b1_58_large():
    a, b = get_preset("bitnet-700M"), get_preset("bitnet-b1.58-large")
    assert a.to_dict() | {"name": "", "source": ""} == b.to_dict() | {"name": "", "source": ""}


def test_t_mac_bitnet_3b_is_tied_with_its_source():
    c = get_preset("bitnet-b1.58-3B")
    assert c.tie_embeddings and "tied" in c.source
    assert (c.hidden_size, c.intermediate_size, c.num_layers, c.vocab_size) == (3200, 8640, 26, 32002)


def test_workbench_models_lists_them(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    names = {line.split()[0] for line in out.splitlines()[1:]}
    assert names == set(PRESETS)
    assert {f"bitnet-{s}" for s in (*DUMMY, "700M")} <= names
