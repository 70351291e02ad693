"""workbench.reference.model: forward/generate on the tiny preset: structure (against an independent
float64 numpy model), prefill = incremental decode bitwise, trace, accumulator substitution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.errors import UnknownNameError, UserError
from workbench.quant import quantize_activations
from workbench.reference import (PROJECTIONS, KVCache, Trace, forward, generate, get_preset,
                                 random_weights, ternary_matvec)

PROMPT = [1, 7, 42, 300, 511, 3]


@pytest.fixture(scope="module")
def tiny():
    return random_weights(get_preset("tiny"), seed=0)


def numpy_model(weights, ids):
    """Straightforward float64 BitNet b1.58 (HF block order), quantizing with workbench.quant."""
    c = weights.config
    hd, nh, nkv = c.head_dim, c.num_heads, c.num_kv_heads
    t_len = len(ids)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + c.rms_norm_eps) * w

    def bitlinear(x, lin):
        q, s = quantize_activations(x.astype(np.float32))
        return (q.astype(np.float64) @ lin.codes.T.astype(np.float64)) * float(lin.gamma) / s[:, None]

    inv = 1.0 / c.rope_theta ** (np.arange(0, hd, 2) / hd)
    ang = np.arange(t_len)[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def rope(x, heads):
        x = x.reshape(t_len, heads, hd)
        x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
        c_, s_ = cos[:, None, :], sin[:, None, :]
        return np.concatenate([x1 * c_ - x2 * s_, x2 * c_ + x1 * s_], -1)

    x = weights.embed[ids].astype(np.float64)
    for lw in weights.layers:
        a = rms(x, lw.input_norm)
        q, k, v = rope(bitlinear(a, lw.q), nh), rope(bitlinear(a, lw.k), nkv), bitlinear(a, lw.v)
        v = v.reshape(t_len, nkv, hd)
        o = np.empty((t_len, nh, hd))
        for h in range(nh):
            g = h // (nh // nkv)
            sc = q[:, h] @ k[:, g].T / np.sqrt(hd)
            sc[np.triu_indices(t_len, 1)] = -np.inf
            p = np.exp(sc - sc.max(-1, keepdims=True))
            o[:, h] = (p / p.sum(-1, keepdims=True)) @ v[:, g]
        x = x + bitlinear(rms(o.reshape(t_len, -1), lw.attn_sub_norm), lw.o)
        b = rms(x, lw.post_attn_norm)
        m = np.maximum(bitlinear(b, lw.gate), 0) ** 2 * bitlinear(b, lw.up)
        x = x + bitlinear(rms(m, lw.ffn_sub_norm), lw.down)
    return rms(x, weights.final_norm) @ weights.output_embedding.T.astype(np.float64)


def test_forward_matches_an_independent_float64_model(tiny):
    logits = forward(tiny, PROMPT)
    assert logits.shape == (len(PROMPT), 512) and logits.dtype == np.float32
    ref = numpy_model(tiny, PROMPT)
    assert np.abs(logits - ref).max() < 1e-5 * np.abs(ref).max()
    assert np.array_equal(logits.argmax(-1), ref.argmax(-1))


def test_prefill_equals_incremental_decode_bitwise(tiny):
    whole = forward(tiny, PROMPT)
    cache = KVCache(tiny.config, capacity=1)  # forces the cache to grow twice
    parts = [forward(tiny, PROMPT[:2], cache=cache)] + [forward(tiny, [t], cache=cache) for t in PROMPT[2:]]
    assert cache.length == len(PROMPT)
    assert np.array_equal(np.vstack(parts).view(np.uint32), whole.view(np.uint32))
    last = forward(tiny, PROMPT, last_only=True)
    assert np.array_equal(last.view(np.uint32), whole[-1:].view(np.uint32))


def test_trace_records_every_projection(tiny):
    trace = Trace()
    forward(tiny, PROMPT, trace=trace)
    assert set(trace.records) == {(li, p) for li in range(2) for p in PROJECTIONS}
    for (li, p), rec in trace.records.items():
        lin = tiny.layers[li].projection(p)
        assert rec.q.dtype == np.int8 and rec.s.dtype == np.float32 and rec.acc.dtype == np.int32
        assert rec.acc.shape == (len(PROMPT), lin.shape[0])
        assert np.array_equal(rec.acc, ternary_matvec(rec.q, lin.codes))
    # q/k/v share one quantized input, as do gate/up
    assert trace[(1, "q")].q is trace[(1, "v")].q and trace[(1, "gate")].s is trace[(1, "up")].s


def test_substituted_reference_accumulators_give_bitwise_logits(tiny):
    base = forward(tiny, PROMPT)
    calls = []

    def own(layer, proj, q, linear):
        calls.append((layer, proj))
        return ternary_matvec(q, linear.codes)

    assert np.array_equal(forward(tiny, PROMPT, acc_hook=own).view(np.uint32), base.view(np.uint32))
    assert len(calls) == 2 * len(PROJECTIONS)
    declined = forward(tiny, PROMPT, acc_hook=lambda *a: None)
    assert np.array_equal(declined.view(np.uint32), base.view(np.uint32))


@pytest.mark.parametrize("where", [(0, "q"), (1, "down")])
def test_one_perturbed_accumulator_changes_the_logits(tiny, where):
    base = forward(tiny, PROMPT)

    def off_by_one(layer, proj, q, linear):
        acc = ternary_matvec(q, linear.codes)
        if (layer, proj) == where:
            acc[-1, 3] += 1
        return acc

    changed = forward(tiny, PROMPT, acc_hook=off_by_one)
    assert not np.array_equal(changed[-1], base[-1])
    if where == (1, "down"):  # the last token's row only: causal
        assert np.array_equal(changed[:-1], base[:-1])


def test_hook_returning_the_wrong_type_is_named(tiny):
    # a kernel bug, not bad input: a plain ValueError (the CLI keeps its traceback)
    with pytest.raises(ValueError, match=r"acc_hook layer 0 k: returned int64 .* expected int32") as e:
        forward(tiny, PROMPT, acc_hook=lambda l, p, q, lin: ternary_matvec(q, lin.codes).astype(np.int64)
                if p == "k" else None)
    assert not isinstance(e.value, UserError)


def test_conventions_differ_but_both_run(tiny):
    hf = forward(tiny, PROMPT, convention="hf")
    cpp = forward(tiny, PROMPT, convention="bitnet_cpp")
    assert not np.array_equal(hf, cpp)
    assert np.abs(hf - cpp).max() < 1e-3 * np.abs(hf).max()
    with pytest.raises(UnknownNameError, match="unknown scale convention 'tl2'; valid: hf, bitnet_cpp"):
        forward(tiny, PROMPT, convention="tl2")


def test_untied_lm_head_is_used():
    config = dataclasses.replace(get_preset("tiny"), tie_embeddings=False)
    w = random_weights(config, seed=0)
    assert w.lm_head is not None and w.lm_head.shape == w.embed.shape
    untied = forward(w, PROMPT)
    w.lm_head = w.embed.copy()
    assert np.array_equal(forward(w, PROMPT), forward(random_weights(get_preset("tiny"), seed=0), PROMPT))
    assert not np.array_equal(untied, forward(w, PROMPT))


def test_generate_greedy_and_eos(tiny):
    out = generate(tiny, PROMPT, max_new_tokens=10)
    assert len(out) == 10 and all(0 <= t < 512 for t in out)
    # greedy = argmax of a full forward over prompt + generated prefix
    logits = forward(tiny, PROMPT + out[:-1])
    assert logits[len(PROMPT) - 1:].argmax(-1).tolist() == out
    stop = out[4]
    cut = generate(tiny, PROMPT, max_new_tokens=10, eos_token_id=stop)
    assert cut == out[:out.index(stop) + 1]
    assert generate(tiny, PROMPT, max_new_tokens=0) == []


def test_bad_tokens_and_positions(tiny):
    # user errors (a bad prompt): UserError, one line and exit 2 at the CLI
    with pytest.raises(UserError, match="token id 512 is outside the vocabulary 0..511"):
        forward(tiny, [1, 512])
    with pytest.raises(UserError, match="non-empty 1-D"):
        forward(tiny, [])
    with pytest.raises(UserError, match="max_new_tokens must be a non-negative integer"):
        generate(tiny, [1], max_new_tokens=-1)
    cache = KVCache(tiny.config)
    cache.length = tiny.config.max_position - 1
    with pytest.raises(UserError, match="position 256 exceeds max_position 256"):
        forward(tiny, [1, 2], cache=cache)


def test_weight_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("TERNARY_WORKBENCH_CACHE", str(tmp_path))
    config = get_preset("tiny")
    built = random_weights(config, seed=3, cache=True, workers=1)
    loaded = random_weights(config, seed=3, cache=True)
    assert "cache" in loaded.meta and str(tmp_path) in loaded.meta["cache"]
    plain = random_weights(config, seed=3, cache=False, workers=2)
    for other in (loaded, plain):
        assert np.array_equal(other.embed, built.embed)
        for a, b in zip(built.layers, other.layers):
            for p in PROJECTIONS:
                assert np.array_equal(a.projection(p).codes, b.projection(p).codes)
                assert a.projection(p).gamma == b.projection(p).gamma
            assert np.array_equal(a.ffn_sub_norm, b.ffn_sub_norm)
    assert np.array_equal(forward(loaded, PROMPT), forward(plain, PROMPT))
    assert not np.array_equal(random_weights(config, seed=4).embed, plain.embed)
