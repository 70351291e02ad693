"""The verdict rules (`workbench.claims.verdict`) on constructed figures.

The figures here are built by hand (a fake projection) so each rule is hit on purpose: a claim
above the DRAM roofline is "impossible because ...", one a denser packing or a shorter context
reaches is "possible only if ...", one the figure reaches is "consistent", and a footprint beyond
the device's RAM is a condition. The real projection is exercised in test_claims_evaluate.py.
"""

from __future__ import annotations

import math

import pytest

from workbench.claims.schema import Claim
from workbench.claims.verdict import Figures, OpTime, Part, judge, scenario


def claim(quantity, low, high, *, baseline=None):
    return Claim(id="t", text="t", source="s", origin="o", soc="phone", model="m", quantity=quantity,
                 low=low, high=high, baseline=baseline)


def phone(*, ternary_gb=25.0, compute_s=0.001, sustained=50.0, peak=64.0, capacity=12.0, kv_gb=0.0,
          joules=None, dram_j_per_gb=0.05, static_w=2.0, head_gb=0.0):
    """A token that streams `ternary_gb` of 2-bit weights (tl2 would be 1.667 bits) and `kv_gb` of
    KV cache at `sustained` GB/s; times and joules follow the roofline."""
    dram_s = ternary_gb / sustained
    t_op = OpTime(count=1, seconds=max(compute_s, dram_s), compute_s=compute_s, cache_s=0.0, dram_s=dram_s)
    kv_s = kv_gb / sustained
    kv_op = OpTime(count=1, seconds=kv_s, compute_s=0.0, cache_s=0.0, dram_s=kv_s)
    head_s = head_gb / sustained
    head_op = OpTime(count=1, seconds=head_s, compute_s=0.0, cache_s=0.0, dram_s=head_s)
    seconds = t_op.seconds + kv_s + head_s
    dram_gb = ternary_gb + kv_gb + head_gb
    dram_j, static_j = dram_gb * dram_j_per_gb, static_w * seconds
    j = dram_j + static_j if joules is None else joules
    parts = [Part("ternary weights", "i2s", 2.0, "tl2", 5 / 3, ternary_gb * 1e9, ternary_gb * 1e9, (t_op,))]
    if head_gb:
        parts.append(Part("lm_head", "f16", 16.0, "q4_0", 4.5, head_gb * 1e9, head_gb * 1e9, (head_op,)))
    return Figures(soc="phone", model="m", seconds=seconds, bound="DRAM bandwidth", joules=j, joules_low=0.8 * j,
                   joules_high=1.25 * j, dram_joules=dram_j, static_joules=static_j,
                   memory_bytes=(ternary_gb + kv_gb + head_gb) * 1e9, dram_bytes=dram_gb * 1e9,
                   kv_dram_bytes=kv_gb * 1e9, kv_memory_bytes=kv_gb * 1e9, context=4096, sustained_gbps=sustained,
                   peak_gbps=peak, dram_type="LPDDR5X", capacity_gb=capacity, device="a phone", parts=tuple(parts),
                   kv_ops=(kv_op,), engine="cpu", threads=8)


def test_op_time_saving_follows_the_largest_remaining_bound():
    dram_bound = OpTime(count=2, seconds=1.0, compute_s=0.3, cache_s=0.0, dram_s=1.0)
    assert dram_bound.saving(0.5) == pytest.approx(2 * 0.5)          # DRAM still binds at 0.5
    assert dram_bound.saving(0.1) == pytest.approx(2 * 0.7)          # compute binds at 0.3
    compute_bound = OpTime(count=1, seconds=1.0, compute_s=1.0, cache_s=0.0, dram_s=0.4)
    assert compute_bound.saving(0.5) == 0.0


def test_a_claim_above_the_dram_roofline_is_impossible():
    fig = phone(ternary_gb=25.0, sustained=50.0)                      # 2 tok/s; tl2 at best 2.4 tok/s
    v = judge(claim("decode_tokens_per_s", 5.0, 7.0), fig)
    assert v.kind == "impossible"
    assert v.text.startswith("impossible because a token reads at least 20.8 GB from DRAM")
    assert "GB/s sustained" in v.text and "peak" in v.text and "claimed 5-7 tok/s" in v.text
    assert v.limit == pytest.approx(50.0 / (25.0 * 5 / 6))
    assert v.figure == pytest.approx(2.0)
    # the footprint (25 GB, 20.8 GB at best) beyond the 12 GB phone is said too
    assert "device with >= 21 GB of RAM" in v.text


def test_a_figure_that_reaches_the_claim_is_consistent():
    fig = phone(ternary_gb=2.0, compute_s=0.01, sustained=50.0)       # 25 tok/s
    v = judge(claim("decode_tokens_per_s", 5.0, 7.0), fig)
    assert v.kind == "consistent"
    assert "projects 25 tok/s" in v.text and "above the claimed range" in v.text


def test_a_denser_packing_that_reaches_the_claim_is_the_condition():
    fig = phone(ternary_gb=10.0, sustained=45.0)                      # 4.5 tok/s; tl2: 5.4 tok/s
    v = judge(claim("decode_tokens_per_s", 5.0, 7.0), fig)
    assert v.kind == "possible only if"
    assert v.conditions == ("the ternary weights in tl2 (1.67 bits/weight, not i2s's 2)",)
    assert "then 5.4 tok/s" in v.text


def test_the_fewest_levers_are_named():
    # the f16 lm_head is the big one: q4_0 alone reaches the claim, tl2 is not needed
    fig = phone(ternary_gb=1.0, head_gb=8.0, sustained=50.0)          # 5.6 tok/s
    v = judge(claim("decode_tokens_per_s", 10.0, 10.0), fig)
    assert v.kind == "possible only if"
    assert len(v.conditions) == 1 and v.conditions[0].startswith("the lm_head in q4_0")


def test_a_shorter_context_is_found_when_the_kv_cache_binds():
    fig = phone(ternary_gb=2.0, kv_gb=8.0, sustained=50.0)            # 5 tok/s at 4096 positions
    need = 10.0
    v = judge(claim("decode_tokens_per_s", need, need), fig)
    assert v.kind == "possible only if"
    ctx = [c for c in v.conditions if c.startswith("at a context <=")]
    assert len(ctx) == 1
    n = int(ctx[0].split("<= ")[1].split(" ")[0])
    assert scenario(fig, context=n).tokens_per_s >= need or \
        scenario(fig, denser=("ternary weights",), context=n).tokens_per_s >= need
    # one position more does not reach it (the longest context is reported)
    denser = ("ternary weights",) if "tl2" in v.text else ()
    assert scenario(fig, denser=denser, context=n + 1).tokens_per_s < need


def test_a_footprint_beyond_the_devices_ram_is_a_condition():
    fig = phone(ternary_gb=2.0, kv_gb=0.0, sustained=50.0, capacity=1.0)
    v = judge(claim("decode_tokens_per_s", 5.0, 7.0), fig)
    assert v.kind == "possible only if"
    assert v.conditions[0].startswith("on a device with >= 2 GB of RAM")


def test_a_compute_bound_token_names_the_speedup_needed():
    fig = phone(ternary_gb=2.0, compute_s=1.0, sustained=50.0)        # 1 tok/s, roofline 30 tok/s
    v = judge(claim("decode_tokens_per_s", 5.0, 7.0), fig)
    assert v.kind == "possible only if"
    assert v.conditions[0].startswith("the token ran 5x faster than the workbench models it")
    assert "(now: DRAM bandwidth)" in v.conditions[0]


def test_energy_below_the_dram_floor_is_impossible():
    fig = phone(ternary_gb=1.2, sustained=50.0, dram_j_per_gb=0.05)
    floor = 1.0 * 0.05 * 0.8                                          # tl2 bytes, low end
    v = judge(claim("joules_per_token", 0.028, 0.028), fig)
    assert v.kind == "impossible"
    assert v.limit == pytest.approx(floor)
    assert "costs at least" in v.text and "LPDDR5X" in v.text


def test_energy_within_the_models_range_is_consistent():
    fig = phone(ternary_gb=0.2, sustained=50.0, dram_j_per_gb=0.05, static_w=0.5)
    v = judge(claim("joules_per_token", fig.joules * 0.9, fig.joules * 0.9), fig)  # above the low end
    assert v.kind == "consistent"
    assert v.low == pytest.approx(fig.joules_low) and v.high == pytest.approx(fig.joules)


def test_memory_footprint_claims():
    fig = phone(ternary_gb=25.0, capacity=64.0)
    assert judge(claim("memory_gb", 18.0, 22.0), fig).kind == "possible only if"     # tl2: 20.8 GB
    v = judge(claim("memory_gb", 10.0, 12.0), fig)
    assert v.kind == "impossible" and "the weights alone take at least 20.8 GB" in v.text
    assert judge(claim("memory_gb", 20.0, 30.0), fig).kind == "consistent"


def test_reductions_against_a_baseline():
    fig = phone(ternary_gb=2.0, capacity=64.0)
    base = phone(ternary_gb=16.0, capacity=64.0)                       # an FP16-sized baseline
    v = judge(claim("memory_reduction_pct", 70.0, 100.0, baseline={"weight_format": "f16"}), fig, base)
    assert v.kind == "consistent" and v.figure == pytest.approx(87.5)
    v = judge(claim("memory_reduction_pct", 95.0, 100.0, baseline={"weight_format": "f16"}), fig, base)
    assert v.kind == "impossible" and v.limit == pytest.approx(100 * (1 - 2 * 5 / 6 / 16))
    e = judge(claim("energy_reduction_pct", 55.0, 70.0, baseline={"weight_format": "f16"}), fig, base)
    assert e.figure == pytest.approx(100 * (1 - fig.joules / base.joules))
    assert e.kind == "consistent"
    with pytest.raises(ValueError, match="baseline"):
        judge(claim("energy_reduction_pct", 55.0, 70.0, baseline={"weight_format": "f16"}), fig)


def test_the_rules_read_only_the_numbers():
    # the same claim on two figures that differ only in bandwidth flips from impossible to consistent
    slow, fast = phone(ternary_gb=10.0, sustained=20.0), phone(ternary_gb=10.0, sustained=200.0)
    c = claim("decode_tokens_per_s", 5.0, 7.0)
    assert judge(c, slow).kind == "impossible"
    assert judge(c, fast).kind == "consistent"
    assert math.isclose(judge(c, fast).figure, 20.0)


def test_an_energy_shortfall_names_the_largest_part_of_the_breakdown():
    import dataclasses

    fig = phone(ternary_gb=0.2, sustained=50.0, dram_j_per_gb=0.05, static_w=20.0)   # static dominates
    fig = dataclasses.replace(fig, energy_parts=(("dram", fig.dram_joules), ("static", fig.static_joules)))
    v = judge(claim("joules_per_token", 0.02, 0.02), fig)
    assert v.kind == "possible only if"
    assert "less energy than the workbench models it (now: static 89% of the J/token)" in v.conditions[0]


def test_a_reduction_compares_both_sides_at_the_same_end_of_the_energy_model():
    fig, base = phone(ternary_gb=2.0, capacity=64.0), phone(ternary_gb=16.0, capacity=64.0)
    v = judge(claim("energy_reduction_pct", 99.0, 99.0, baseline={"weight_format": "f16"}), fig, base)
    # low/low and high/high give the same ratio as central/central here: no spread is invented
    assert v.low == pytest.approx(v.high) == pytest.approx(v.figure)
