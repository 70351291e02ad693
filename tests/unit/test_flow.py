"""workbench.flow: the functional check against the reference, per-shape timing, the whole-token
projection and the resolved configuration, on the tiny preset with registered AVX2 kernels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kernels.registry import get, kernels
from workbench import flow
from workbench.reference import PROJECTIONS, get_preset, random_linear, ternary_matvec


def test_first_mismatch_names_row_and_values():
    expected = np.array([5, 6, 7, 8], np.int32)
    assert flow.first_mismatch(expected, expected.copy()) == (None, 0)
    got = expected.copy()
    got[2] = -31302
    got[3] = 0
    assert flow.first_mismatch(expected, got) == ("row 2: expected 7, got -31302", 2)


def test_check_projection_statuses():
    e = np.arange(10, dtype=np.int32)
    assert flow.check_projection(0, "q", e, e, exactness="exact").status == "VERIFIED"
    bad = e.copy()
    bad[9] += 1
    c = flow.check_projection(0, "q", e, bad, exactness="exact")
    assert c.status == "FAILED" and c.mismatch == "row 9: expected 9, got 10" and not c.ok
    lossy = flow.check_projection(0, "q", e, e + 0.5, exactness="lossy")
    assert lossy.status == "LOSSY" and lossy.error["max_abs"] == 0.5


def _first_exact():
    return next(s for s in kernels("avx2") if s.exactness == "exact")


def test_runner_catches_a_wrong_accumulator():
    spec = _first_exact()
    config = get_preset("tiny")
    codes = random_linear(config, 0, "q", seed=3).codes
    q = np.random.default_rng(1).integers(-128, 128, codes.shape[1], dtype=np.int8)
    good = flow.KernelRunner(spec).check(0, "q", codes, q)
    assert good.status == "VERIFIED"

    def off_by_one(buffers, _result=spec.result):
        acc = np.array(_result(buffers))
        acc[17] += 1
        return acc
    broken = dataclasses.replace(spec, result=off_by_one)
    c = flow.KernelRunner(broken).check(0, "q", codes, q)
    want = int(ternary_matvec(q[None], codes)[0, 17])
    assert c.status == "FAILED" and c.mismatches == 1
    assert c.mismatch.startswith(f"row 17: expected {want}, got {want + 1}")


@pytest.mark.slow
def test_layer_run_verifies_every_projection_and_records_config():
    spec = _first_exact()
    run = flow.simulate(kernel=spec.name, isa="avx2", machine="zen4", model="tiny", layer=1,
                        views=("summary", "bottleneck"), workers=1)
    assert [p.check.proj for p in run.projections] == list(PROJECTIONS)
    assert all(p.check.status == "VERIFIED" for p in run.projections) and run.verified
    assert len(run.shapes) == len({get_preset("tiny").projection_shape(p) for p in PROJECTIONS})
    for p in run.projections:
        t = p.timing
        assert t.cycles > 0 and t.bytes_moved > 0 and t.binding
        assert t.gops == pytest.approx(2 * t.M * t.K / t.seconds / 1e9)
        assert t.seconds == pytest.approx(t.cycles / 3.67e9)
        assert set(t.views) == {"summary", "bottleneck"}
    cfg = run.to_json()["config"]
    assert cfg["machine"]["name"] == "zen4" and cfg["machine"]["classes"]
    assert cfg["kernel"]["name"] == spec.name and cfg["kernel"]["format"] == spec.weight_format
    assert cfg["model"]["name"] == "tiny" and cfg["layers"] == [1]
    assert run.token is None


def test_whole_token_projection_sums_projections():
    spec = get("i2s", "avx2")
    config = get_preset("tiny")
    run = flow.simulate(kernel="i2s", isa="avx2", machine="zen4", model="tiny", views=(), workers=2)
    assert len(run.projections) == config.num_layers * len(PROJECTIONS)
    assert sorted({p.check.layer for p in run.projections}) == list(range(config.num_layers))
    tok = run.token
    assert tok.kernel_cycles == pytest.approx(sum(p.timing.cycles for p in run.projections))
    from workbench.formats import get_format
    fmt = get_format(spec.weight_format)
    want = config.num_layers * sum(fmt.nbytes(*config.projection_shape(p),
                                              **fmt.default_layout(*config.projection_shape(p)))
                                   for p in PROJECTIONS)
    assert tok.weight_bytes == want
    assert tok.cores == 2
    for n in (1, 2):
        assert tok.tokens_per_s(n) == pytest.approx(min(n / tok.kernel_seconds,
                                                        min(n * 31.5, 33.9) * 1e9 / want))


def test_token_projection_formula():
    tok = flow.TokenProjection(kernel_cycles=3e6, kernel_seconds=1e-3, weight_bytes=10**8,
                               dram_gbps_core=20.0, dram_gbps_chip=30.0, cores=4)
    assert tok.compute_tokens_per_s(1) == pytest.approx(1000.0)
    assert tok.roofline_tokens_per_s(1) == pytest.approx(200.0)
    assert tok.roofline_tokens_per_s(4) == pytest.approx(300.0)      # capped by the chip
    assert tok.tokens_per_s(1) == pytest.approx(200.0) and tok.bound(1) == "DRAM"
    slow = dataclasses.replace(tok, kernel_seconds=1e-1)
    assert slow.tokens_per_s(2) == pytest.approx(20.0) and slow.bound(2) == "compute"


def test_activation_sources():
    from workbench.reference import random_weights
    w = random_weights(get_preset("tiny"), seed=0)
    g1 = flow.activation_rows(w, source="gaussian", token_id=None, seed=5)
    g2 = flow.activation_rows(w, source="gaussian", token_id=None, seed=5)
    assert np.array_equal(g1(1, "down"), g2(1, "down")) and g1(1, "down").shape == (512,)
    assert not np.array_equal(g1(0, "q"), g1(1, "q"))
    tr = flow.activation_rows(w, source="trace", token_id=7, seed=0)
    assert tr(0, "q").dtype == np.int8 and tr(0, "q").shape == (256,)
    with pytest.raises(ValueError, match="unknown activation source 'nope'"):
        flow.activation_rows(w, source="nope", token_id=None, seed=0)


@pytest.mark.parametrize("kw, match", [
    (dict(kernel="nope"), "unknown kernel 'nope'"),
    (dict(machine="pentium"), "unknown machine 'pentium'"),
    (dict(model="gpt5"), "unknown model preset 'gpt5'"),
    (dict(layer=9), "--layer 9: model 'tiny' has layers 0..1"),
    (dict(views=("summary", "flames")), "unknown view 'flames'"),
])
def test_bad_input_names_the_culprit(kw, match):
    args = dict(kernel="i2s", isa="avx2", machine="zen4", model="tiny", layer=0)
    args.update(kw)
    with pytest.raises((ValueError, LookupError), match=match):
        flow.simulate(**args)


def test_lossy_kernel_reports_measured_error():
    lossy = [s for s in kernels("avx2") if s.exactness == "lossy"]
    if not lossy:
        pytest.skip("no lossy AVX2 kernel registered")
    run = flow.simulate(kernel=lossy[0].name, isa="avx2", machine="zen4", model="tiny", layer=0,
                        views=(), workers=1)
    assert all(p.check.status == "LOSSY" for p in run.projections) and run.verified
    for p in run.projections:
        assert 0 < p.check.error["rel_rms"] < 0.05 and p.check.error["max_abs"] >= 1
