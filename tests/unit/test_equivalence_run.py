"""`workbench.equivalence.run_equivalence`: every exact kernel of every ISA gives bitwise-identical
logits over 16 tokens of a small model (tiny with one layer and a 256-wide FFN); the lossy T-MAC kernels' divergence is measured and judged by the
tolerances; an I2_S int16 lane overflow that reaches the logits is found where the lane model
(the kernel's `bound_holds`) says it happens; bad options are one-line UserErrors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kernels import registry
from workbench.equivalence import EquivalenceResult, run_equivalence
from workbench.errors import UnknownNameError, UserError
from workbench.reference import PROJECTIONS, ModelConfig, Trace, forward, get_preset, random_weights

PROMPT = (1, 5, 7, 9)          # four rows at prefill: batched kernels run N = 4 where they take it

#: exact kernels whose 17-step run took over 5 s here (functional executor, 2 shared cores)
SLOW = {("addsub", "hvx"), ("i2s", "hvx"), ("prefill_vrmpy", "hvx"), ("tl2", "avx2"), ("tman", "hvx"),
        ("tq2", "hvx"), ("tl1", "neon")}


def _exact_kernels():
    for spec in registry.kernels():
        if spec.exactness == "exact":
            marks = [pytest.mark.slow] if (spec.name, spec.isa) in SLOW else []
            yield pytest.param(spec.isa, spec.name, marks=marks, id=f"{spec.name}-{spec.isa}")


#: tiny with one layer and its FFN narrowed to 256: every projection is 256 or 128 rows by 256
#: columns, the smallest shapes every exact kernel takes (TQ2_0's 256-weight blocks, HVX's 128-row
#: tiles), a third of tiny's work for the slow functional runs of the LUT kernels (the two-layer
#: tiny runs in the T-MAC and batched tests below)
SMALL = dataclasses.replace(get_preset("tiny"), name="tiny-1layer-ffn256", num_layers=1, intermediate_size=256)


@pytest.fixture(scope="module")
def small_weights():
    return random_weights(SMALL, seed=0)


@pytest.mark.parametrize("isa,kernel", list(_exact_kernels()))
def test_every_exact_kernel_gives_bitwise_identical_logits(isa, kernel, small_weights):
    r = run_equivalence(isa=isa, kernel=kernel, weights=small_weights, prompt_ids=PROMPT, tokens=16)
    s = r.summary()
    assert len(r.steps) == 17 and s["steps"] == 17
    assert s["identical"] is True and s["verdict"] == "VERIFIED"
    assert all(st.logits_equal and st.accumulators_equal for st in r.steps)
    assert s["max_abs_logit_diff"] == 0.0 and s["max_kl"] == 0.0 and s["top1_agreement"] == 1.0
    assert s["first_divergence"] is None and s["first_broken"] is None
    assert r.kernel_tokens == r.reference_tokens
    # every projection of every layer went through the kernel at every step
    assert set(r.errors) == {f"{li}.{p}" for li in range(SMALL.num_layers) for p in PROJECTIONS}
    assert all(st.acc_errors and not any(st.acc_errors.values()) for st in r.steps)


def test_a_batched_kernel_runs_the_prompt_as_one_call():
    spec = next(s for s in registry.kernels() if s.batched and s.supports(256, 256, **{s.tokens_param: 4})
                and s.supports(256, 256, **{s.tokens_param: 1}))
    r = run_equivalence(isa=spec.isa, kernel=spec.name, prompt_ids=PROMPT, tokens=2)
    assert r.identical
    # 14 projections x (one 4-row prefill call + one call per decode step)
    assert r.kernel_calls == 14 * 3


@pytest.mark.slow                   # 6-8 s each here
@pytest.mark.parametrize("isa", sorted({s.isa for s in registry.kernels() if s.name == "tmac"}))
def test_tmac_divergence_is_measured_and_judged(isa):
    r = run_equivalence(isa=isa, kernel="tmac", model="tiny", tokens=16)
    s = r.summary()
    assert s["exactness"] == "lossy" and s["identical"] is False
    assert s["max_abs_logit_diff"] > 0 and s["max_kl"] > 0 and s["mean_kl"] > 0
    assert 0.0 <= s["top1_agreement"] <= 1.0
    assert s["first_broken"] is None                     # lossy: error statistics instead
    stats = r.projection_errors()
    assert set(stats) == {f"{li}.{p}" for li in range(2) for p in PROJECTIONS}
    assert all(0 < v["rel_rms"] < 0.05 and v["max_abs"] > 0 for v in stats.values())
    assert s["verdict"] == "LOSSY" and "no tolerance set" in s["reason"]
    # the same run judged against tolerances: met, and violated
    judged = dataclasses.replace(r, tolerance_kl=s["max_kl"] * 2, tolerance_top1=0.0)
    assert judged.verdict().status == "LOSSY" and "within tolerance" in judged.verdict().reason
    strict = dataclasses.replace(r, tolerance_kl=s["max_kl"] / 2)
    assert strict.verdict().status == "FAILED" and "--max-kl" in strict.verdict().reason
    if s["top1_agreement"] < 1.0:
        assert dataclasses.replace(r, tolerance_top1=1.0).verdict().status == "FAILED"


def _overflow_weights(hidden: int):
    """One layer whose BOS embedding quantizes to +127 everywhere (input norm 1) and whose v_proj
    row 0 is all +1: that row's int16 lanes sum 8 products 2 * 127 per block. Untied lm_head so the
    logits are not dominated by the BOS row."""
    config = ModelConfig("i2s-overflow", vocab_size=64, hidden_size=hidden, intermediate_size=128, num_layers=1,
                         num_heads=2, num_kv_heads=1, head_dim=64, max_position=64, bos_token_id=1,
                         eos_token_id=2, tie_embeddings=False)
    w = random_weights(config, seed=0)
    layer = w.layers[0]
    embed = np.array(w.embed)
    embed[1] = np.abs(embed[1]).mean()
    codes = np.array(layer.v.codes)
    codes[0] = 1
    layer = dataclasses.replace(layer, input_norm=np.ones_like(layer.input_norm),
                                v=dataclasses.replace(layer.v, codes=codes))
    return dataclasses.replace(w, embed=embed, layers=[layer])


def _first_outside_bound(spec, weights, prompt):
    """The (layer, proj) the kernel's lane model (`bound_holds`) says breaks first at prefill."""
    trace = Trace()
    forward(weights, prompt, trace=trace, last_only=True)
    for li in range(weights.config.num_layers):
        for p in PROJECTIONS:
            q = trace[(li, p)].q
            codes = weights.layers[li].projection(p).codes
            if not all(np.all(spec.bound_holds(codes, row, **spec.resolve())) for row in q):
                return li, p
    return None


@pytest.mark.parametrize("isa,kernel,hidden", [("avx2", "i2s", 2176), ("neon", "i2s_mlal", 1152)])
def test_an_i2s_overflow_that_reaches_the_logits_is_found(isa, kernel, hidden):
    spec = registry.get(kernel, isa)
    weights = _overflow_weights(hidden)
    assert _first_outside_bound(spec, weights, [1]) == (0, "v")
    r = run_equivalence(isa=isa, kernel=kernel, weights=weights, tokens=2)
    s = r.summary()
    assert s["verdict"] == "FAILED" and not s["identical"]
    assert s["first_broken"] == {"step": 0, "layer": 0, "proj": "v", "rows": 1, "outside_bound": 1}
    assert r.first_break.within_bound == 0 and "int16 wrap" in r.first_break.detail
    assert "layer 0 v first broke the contract at step 0" in s["reason"]
    assert not r.steps[0].logits_equal and s["max_abs_logit_diff"] > 0.1 and s["max_kl"] > 0
    # the exact reference computed 127 * K for that row; the kernel's wrapped sum differs
    assert r.errors["0.v"].max_abs > 0 and r.errors["0.q"].max_abs == 0
    # a bounded kernel outside its bound passes only under tolerances the user sets and it meets
    loose = dataclasses.replace(r, tolerance_kl=10 * s["max_kl"])
    assert loose.verdict().status == "LOSSY"


def test_an_exact_kernel_on_the_overflow_model_stays_identical():
    exact = next(s for s in registry.kernels() if s.exactness == "exact" and not s.batched
                 and s.supports(128, 2176) and s.supports(2176, 128) and s.supports(64, 2176)
                 and s.machine_param is None)
    r = run_equivalence(isa=exact.isa, kernel=exact.name, weights=_overflow_weights(2176), tokens=2)
    assert r.identical and r.verdict().status == "VERIFIED"


def test_prompt_defaults_to_bos_and_steps_count_prefill():
    r = run_equivalence(isa="avx2", kernel="vnni2", tokens=0)
    assert r.prompt_ids == [1] and len(r.steps) == 1 and r.steps[0].position == 0
    assert isinstance(r, EquivalenceResult)


@pytest.mark.parametrize("kwargs,match", [
    (dict(isa="nosuch", kernel="vnni2"), "unknown ISA"),
    (dict(isa="avx2", kernel="nosuch"), "unknown kernel"),
    (dict(isa="avx2", kernel="vnni2", model="nosuch"), "nosuch"),
    (dict(isa="avx2", kernel="vnni2", machine="nosuch"), "nosuch"),
    (dict(isa="avx2", kernel="vnni2", prompt_ids=[1, 512]), "token id 512 is outside the vocabulary"),
    (dict(isa="avx2", kernel="vnni2", prompt_ids=[]), "non-empty"),
    (dict(isa="avx2", kernel="vnni2", tokens=-1), "--tokens"),
    (dict(isa="avx2", kernel="vnni2", tokens=300), "exceed the context"),
    (dict(isa="avx2", kernel="vnni2", min_top1=1.5), "--min-top1"),
    (dict(isa="avx2", kernel="vnni2", max_kl=-1.0), "--max-kl"),
    (dict(isa="avx2", kernel="vnni2", max_kl=float("nan")), "--max-kl"),
    (dict(isa="avx2", kernel="vnni2", mode="nosuch"), "unknown run mode"),
    (dict(isa="avx2", kernel="vnni2", params={"nosuch": 1}), "unknown parameter"),
    (dict(isa="npu", kernel="npu_gemm", mode="native"), "--native: no codegen target emits ISA 'npu'"),
])
def test_bad_input_is_one_user_error(kwargs, match):
    with pytest.raises(UserError, match=match) as info:
        run_equivalence(**{"tokens": 1, **kwargs})
    assert "\n" not in str(info.value)
    if kwargs.get("isa") == "nosuch":
        assert isinstance(info.value, UnknownNameError)
