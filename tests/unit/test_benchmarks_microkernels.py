"""benchmarks/probes/x86/microkernels.py: vector-ALU micro-op counts come from the machine file, the section
renders every row with its error, and a host no machine models is refused with one line."""

from __future__ import annotations

import sys

import pytest
from benchmark_scripts import benchmark_script

from isa_models.core.machine import load_machine


@pytest.fixture(scope="module")
def script():
    with benchmark_script("probes/x86/microkernels") as module:
        yield module


def test_vector_alu_uops_follow_the_machine(script):
    mix = next(m for m in script.mk.MIXES if m.name == "vpdpbusd + vpshufb")     # 12 chains
    assert script.vector_alu_uops(mix, load_machine("alderlake-p", isa="avx2")) == 24   # p01 and p15
    assert script.vector_alu_uops(mix, load_machine("zen4", isa="avx2")) == 24          # FP pipes
    loads = next(m for m in script.mk.MIXES if m.name == "vpaddb[m]")
    assert script.vector_alu_uops(loads, load_machine("alderlake-p", isa="avx2")) == 12  # the loads are not counted


def test_render_lists_rows_and_errors(script):
    machine = load_machine("alderlake-p", isa="avx2")
    rows = [{"name": "vpaddb", "group": "single", "chains": 12, "vector_alu_uops": 12, "measured": 4.0,
             "spread": 0.001, "model": 4.0, "asm_extras": 0, "error": 0.0},
            {"name": "vpshufb + vpand", "group": "pair", "chains": 12, "vector_alu_uops": 24, "measured": 10.0,
             "spread": 0.002, "model": 8.0, "asm_extras": 0, "error": -0.2}]
    result = {"machine": {"vendor": "GenuineIntel", "family": 6, "model": 167}, "model_machine": "alderlake-p",
              "date": "2026-12-01", "compiler": "clang", "rows": rows}
    text = script.render(result, machine, 0.1)
    assert "| vpshufb + vpand | pair | 24 | 10.00 | 8.00 | -20.0% | 2.40 |" in text
    assert "Mean absolute error **10.0%** over 2 microkernels; 1 within 10%" in text


def test_skips_a_host_no_machine_models(script, monkeypatch, capsys):
    from kernels.codegen import host

    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "Zen 5", "vendor": "AuthenticAMD",
                                                       "family": 26, "model": 2, "stepping": 0})
    assert script.main([]) == 0                      # `make benchmarks` goes on past it
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped" in err[0] and "is modelled by no avx2 machine" in err[0]


def test_host_check_refuses_an_explicit_other_machine_and_skips_an_implicit_one(script, monkeypatch, capsys):
    from kernels.codegen import host

    common = sys.modules["_common"]
    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "EPYC", "vendor": "AuthenticAMD",
                                                       "family": 25, "model": 17, "stepping": 1})
    machine, code = common.host_machine_or_refuse("x")
    assert machine.name == "zen4" and code == 0
    assert common.host_machine_or_refuse("x", "alderlake-p") == (None, 2)          # asked for: an error
    assert common.host_machine_or_refuse("x", needs="alderlake-p") == (None, 0)    # the script's own need
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "cannot check alderlake-p" in lines[0] and "skipped" in lines[1]
