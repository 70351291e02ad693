"""workbench.flow.crosscheck: the registry (names, which apply to an ISA), the native and emulator
cross-checks on this x86 host (outputs equal to the functional run), refusals before any work, and
a cross-check that finds a difference failing the run."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from isa_models.registry import get_isa
from kernels.codegen import host
from kernels.verify import compare_buffers
from workbench.errors import UnknownNameError, UserError
from workbench.flow import plan, simulate
from workbench.flow.crosscheck import (CrossCheck, CrossCheckRecord, CrossCheckResult, crosscheck_names,
                                       get_crosscheck, register_crosscheck, select_crosschecks,
                                       unregister_crosscheck)
from workbench.report import render_text

TINY = dict(isa="avx2", kernel="i2s", model="tiny", layer=0, workers=1)


def _x86_avx2() -> None:
    if platform.machine() not in ("x86_64", "AMD64") or host.missing_cpu_flags(["avx2"]):
        pytest.skip("the x86 codegen target runs natively on an x86-64 AVX2 host only")


def _as_zen4_host(monkeypatch) -> None:
    """Host detection sees an AMD Zen 4, so the machine modelling 'this CPU' is zen4 on any x86 host."""
    _x86_avx2()
    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "EPYC 9R14", "vendor": "AuthenticAMD",
                                                       "family": 25, "model": 17, "stepping": 1})


def test_registry_names_and_applicability():
    assert crosscheck_names() == ["emulator", "native", "rtl"]
    with pytest.raises(UnknownNameError, match="unknown cross-check 'qemu'; valid: emulator, native, rtl"):
        get_crosscheck("qemu")
    avx2, npu = get_isa("avx2"), get_isa("npu")
    assert [c.name for c in select_crosschecks(["native", "emulator", "native"], avx2)] == ["native", "emulator"]
    assert [c.name for c in select_crosschecks(["rtl"], npu)] == ["rtl"]
    with pytest.raises(UserError, match="--crosscheck native: does not apply to ISA npu; the cross-checks of "
                                        "npu: rtl"):
        select_crosschecks(["native"], npu)


def test_native_equals_the_functional_run_beside_the_model(monkeypatch):
    _as_zen4_host(monkeypatch)
    run = simulate(machine="host", crosschecks=("native",), **TINY)
    result = run.crosschecks["native"]
    assert run.verified and result.ok and len(result.records) == len(run.shapes)
    for r, shape in zip(result.records, run.shapes.values()):
        assert (r.M, r.K) == (shape.M, shape.K) and r.projections == shape.projections
        assert r.check.status == "VERIFIED" and r.check.unit == "bytes" and r.check.compared > 0
        assert r.model_cycles == shape.cycles and r.measured_cycles > 0
    text = render_text(run)
    assert "Cross-check native: EPYC 9R14 (AuthenticAMD, family 25, model 17): emitted C" in text
    assert "cross-check native agrees" in text.splitlines()[-3]


def test_native_refusals_come_before_any_work(monkeypatch):
    _as_zen4_host(monkeypatch)
    with pytest.raises(UserError, match="cross-check native: this host, EPYC 9R14 .* is modelled by machine "
                                        "zen4 .*, not alderlake-p: its cycles cannot check that model"):
        plan(machine="alderlake-p", crosschecks=("native",), **TINY)
    with pytest.raises(UserError, match="cannot check a --cold prediction"):
        plan(machine="host", crosschecks=("native",), cold=True, **TINY)


def test_emulator_runs_the_standalone_executable_natively_here():
    _x86_avx2()
    run = simulate(machine="zen4", crosschecks=("emulator",), **TINY)
    result = run.crosschecks["emulator"]
    assert result.ok and result.info["prefix"] == [] and len(result.records) == len(run.shapes)
    assert all(r.check.status == "VERIFIED" and r.measured_cycles is None for r in result.records)
    assert "run natively (this host runs the target; no emulator prefix)" in result.setup
    assert "measured" not in result.render()


class _Corrupting(CrossCheck):
    """A cross-check whose 'other run' differs in one output byte."""

    name = "corrupt"

    def applies_to(self, plugin) -> bool:
        return True

    def run(self, ctx, *, on_done=lambda: None) -> CrossCheckResult:
        records = []
        for case in ctx.cases:
            got = {k: np.array(v, copy=True) for k, v in case.functional.items()}
            got[case.output_names[0]].reshape(-1).view(np.uint8)[3] ^= 1
            records.append(CrossCheckRecord(case.M, case.K, case.projections, compare_buffers(case.functional, got),
                                            case.model_cycles))
        return CrossCheckResult(self.name, "a test", records)


def test_a_crosscheck_that_differs_fails_the_run():
    check = register_crosscheck(_Corrupting())
    try:
        run = simulate(machine="zen4", crosschecks=("corrupt",), **TINY)
    finally:
        unregister_crosscheck(check.name)
    assert all(p.check.status == "VERIFIED" for p in run.projections)
    assert not run.verified and run.crosscheck_failures == ["corrupt"]
    r = run.crosschecks["corrupt"].records[0]
    assert r.check.status == "FAILED" and r.check.mismatches == 1 and "byte 3" in r.check.first_mismatch
    text = render_text(run)
    assert "FAILED: cross-check corrupt differs from the functional run" in text
    assert run.to_json()["crosschecks"]["corrupt"]["ok"] is False
