"""workbench.flow.activations: the layers a run loads, activation rows from the reference forward
pass (a one-layer trace runs only the layers up to it) or seeded Gaussian rows."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.errors import UnknownNameError
from workbench.flow import Activations, activation_rows, load_weights
from workbench.flow.activations import needed_layers
from workbench.reference import Trace, forward, get_preset, random_weights, ternary_matvec


def test_needed_layers():
    assert needed_layers([3], source="gaussian") == [3]
    assert needed_layers([3], source="trace") == [0, 1, 2, 3]
    assert needed_layers([0, 1], source="trace") == [0, 1]
    with pytest.raises(UnknownNameError, match="unknown activation source 'nope'; valid: trace, gaussian"):
        needed_layers([0], source="nope")


def test_load_weights_holds_only_the_layers_asked_for():
    config = get_preset("tiny")
    one = load_weights(config, seed=0, layers=[1])
    assert one.layers.held == [1]
    full = random_weights(config, seed=0)
    assert np.array_equal(one.layers[1].q.codes, full.layers[1].q.codes)
    assert isinstance(load_weights(config, seed=0, layers=[0, 1]).layers, list)


def test_trace_of_one_layer_equals_the_full_forward_pass():
    config = get_preset("tiny")
    full = random_weights(config, seed=0)
    trace = Trace()
    forward(full, [7], trace=trace, last_only=True)
    part = load_weights(config, seed=0, layers=[0])
    acts = Activations(part, source="trace", token_id=7, seed=0, layers=[0])
    assert part.layers.held == [0]                      # layer 1 never read
    for proj in ("q", "gate", "down"):
        assert np.array_equal(acts.row(0, proj), trace[(0, proj)].q[0])
        assert np.array_equal(acts.expected(0, proj), trace[(0, proj)].acc[0])


def test_activation_sources():
    w = random_weights(get_preset("tiny"), seed=0)
    g1 = activation_rows(w, source="gaussian", token_id=None, seed=5)
    g2 = activation_rows(w, source="gaussian", token_id=None, seed=5)
    assert np.array_equal(g1(1, "down"), g2(1, "down")) and g1(1, "down").shape == (512,)
    assert not np.array_equal(g1(0, "q"), g1(1, "q"))
    acts = Activations(w, source="gaussian", token_id=None, seed=5)
    q = acts.row(1, "down")
    assert np.array_equal(acts.expected(1, "down"), ternary_matvec(q[None], w.layers[1].down.codes)[0])
    tr = activation_rows(w, source="trace", token_id=7, seed=0)
    assert tr(0, "q").dtype == np.int8 and tr(0, "q").shape == (256,)
    with pytest.raises(UnknownNameError, match="unknown activation source 'nope'"):
        activation_rows(w, source="nope", token_id=None, seed=0)


def test_batch_is_the_row_then_seeded_rows_with_their_reference():
    weights = random_weights(get_preset("tiny"), seed=0)
    for source in ("trace", "gaussian"):
        acts = Activations(weights, source=source, token_id=None, seed=5)
        batch = acts.batch(1, "gate", 4)
        K = weights.config.projection_shape("gate")[1]
        assert batch.shape == (4, K) and batch.dtype == np.int8
        assert np.array_equal(batch[0], acts.row(1, "gate"))
        assert len({row.tobytes() for row in batch}) == 4                  # distinct further rows
        assert np.array_equal(batch, acts.batch(1, "gate", 4))             # seeded
        codes = weights.layers[1].projection("gate").codes
        assert np.array_equal(acts.expected_batch(1, "gate", 4), ternary_matvec(batch, codes))
    with pytest.raises(ValueError, match="tokens=0 must be at least 1"):
        acts.batch(0, "q", 0)
