"""`workbench.equivalence.result`: the verdict per exactness and tolerance, the summary's keys, and
the report and plot of a result (`report.render`, `plot.plot_equivalence`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.equivalence import EquivalenceResult
from workbench.equivalence.hook import ContractBreak
from workbench.equivalence.metrics import compare_logits
from workbench.equivalence.plot import plot_equivalence
from workbench.equivalence.report import FULL_TABLE, render
from workbench.errors import UserError

REF = np.linspace(-1, 1, 16, dtype=np.float32)


def _result(exactness, *, differ_from=None, steps=5, flip_at=None, broke=None, **kw):
    out = EquivalenceResult(isa="x", kernel="k", machine="m", model="tiny", exactness=exactness,
                            mode="functional", convention="hf", params={}, bound="b" if exactness == "bounded" else "",
                            prompt_ids=[1], first_break=broke, **kw)
    for s in range(steps):
        ker = REF.copy()
        errs = {"0.q": 0}
        if differ_from is not None and s >= differ_from:
            ker = ker + np.float32(0.01) * np.arange(16, dtype=np.float32)
            errs = {"0.q": 2}
        if flip_at is not None and s == flip_at:
            ker[0] = 5.0
        out.steps.append(compare_logits(s, s, 1, REF, ker, errs))
    return out


def test_identical_is_verified_whatever_the_exactness():
    for exactness in ("exact", "bounded", "lossy"):
        v = _result(exactness).verdict()
        assert v.status == "VERIFIED" and v.exit_code == 0


def test_exact_kernel_that_differs_fails_even_within_tolerance():
    broke = ContractBreak(2, 1, "down", 3, 0, 0, "row 4: expected 1, got 2")
    r = _result("exact", differ_from=2, broke=broke, tolerance_kl=1.0)
    v = r.verdict()
    assert v.status == "FAILED" and v.exit_code == 1
    assert "layer 1 down first broke the contract at step 2 (3 accumulator(s) differ)" in v.reason


def test_bounded_kernel_needs_tolerances_and_never_excuses_a_row_within_its_bound():
    outside = ContractBreak(1, 0, "v", 1, 1, 0, "row 0 ...")
    r = _result("bounded", differ_from=1, broke=outside)
    assert r.verdict().status == "FAILED" and "give --max-kl / --min-top1" in r.verdict().reason
    ok = dataclasses.replace(r, tolerance_kl=1.0, tolerance_top1=0.5)
    assert ok.verdict().status == "LOSSY" and "within tolerance" in ok.verdict().reason
    within = dataclasses.replace(ok, first_break=ContractBreak(1, 0, "v", 2, 1, 1, "row 3 ..."))
    assert within.verdict().status == "FAILED" and "a kernel bug" in within.verdict().reason


def test_lossy_kernel_judged_by_each_tolerance():
    r = _result("lossy", differ_from=0, flip_at=3)
    s = r.summary()
    assert s["verdict"] == "LOSSY" and "no tolerance set" in s["reason"]
    assert s["first_divergence"] == 3 and s["top1_agreement"] == pytest.approx(0.8)
    assert dataclasses.replace(r, tolerance_top1=0.8).verdict().status == "LOSSY"
    assert dataclasses.replace(r, tolerance_top1=0.81).verdict().status == "FAILED"
    assert dataclasses.replace(r, tolerance_kl=s["max_kl"]).verdict().status == "LOSSY"
    assert dataclasses.replace(r, tolerance_kl=s["max_kl"] * 0.99).verdict().status == "FAILED"


def test_summary_has_the_keys_sweeps_read():
    s = _result("lossy", differ_from=0).summary()
    for key in ("identical", "max_abs_logit_diff", "mean_kl", "max_kl", "top1_agreement", "first_divergence",
                "steps", "exactness", "first_broken", "verdict"):
        assert key in s
    assert s["steps"] == 5 and s["identical"] is False and s["max_abs_logit_diff"] > 0


def test_report_lists_steps_or_elides_long_runs():
    short = render(_result("lossy", differ_from=0, flip_at=2))
    assert short.splitlines()[-1].startswith("verdict: LOSSY")
    assert sum(1 for line in short.splitlines() if line.strip().startswith(("0 ", "1 ", "2 ", "3 ", "4 "))) >= 5
    long = render(_result("lossy", differ_from=0, flip_at=30, steps=FULL_TABLE + 40))
    assert "... steps 5-27:" in long and "first divergence step 30" in long
    assert len(long.splitlines()) < FULL_TABLE + 30


def test_plot_writes_a_figure_and_refuses_other_suffixes(tmp_path):
    for r in (_result("exact"), _result("lossy", differ_from=1, flip_at=3)):
        path = plot_equivalence(r, tmp_path / f"{r.exactness}.png")
        assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(UserError, match="must end in"):
        plot_equivalence(_result("exact"), tmp_path / "x.txt")
