"""`workbench simulate --isa npu [--rtl]` and `workbench rtl build|sim`: CLI behaviour and the RTL
co-simulation cross-check (sims/cosim.py behind workbench.flow.crosscheck.rtl)."""

from __future__ import annotations

import json

import pytest

from sims.runner import simulator_available
from workbench.cli import main

pytestmark = pytest.mark.rtl


def test_simulate_npu_model_verifies_and_reports(tmp_path, capsys):
    out = tmp_path / "npu.json"
    rc = main(["simulate", "--isa", "npu", "--machine", "edge16", "--model", "tiny", "--layer", "1",
               "--no-progress", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "ALL VERIFIED: 7 projections, every int32 accumulator compared with" in text
    assert "Engine figures per shape (mac_array engine" in text and "stall_cycles: " in text
    data = json.loads(out.read_text())
    assert data["verified"] and len(data["projections"]) == 7
    for shape in data["shapes"]:
        extra = shape["extra"]
        assert shape["cycles"] == extra["total_cycles"] and 0 < extra["utilization"] <= 1
        assert extra["dram"]["read"] > 0


@pytest.mark.slow
@pytest.mark.skipif(simulator_available("icarus") is not None, reason="iverilog not installed")
def test_simulate_rtl_cosim_every_shape_identical(tmp_path, capsys):
    """`simulate --rtl` on one layer of tiny: each of its 4 unique shapes' full command streams on
    the RTL (~17 s here)."""
    out = tmp_path / "cosim.json"
    rc = main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--layer", "0",
               "--no-progress", "--rtl", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    data = json.loads(out.read_text())
    records = data["crosschecks"]["rtl"]["records"]
    assert [(r["M"], r["K"]) for r in records] == [(s["M"], s["K"]) for s in data["shapes"]]
    assert [r["projections"] for r in records] == [["q", "o"], ["k", "v"], ["gate", "up"], ["down"]]
    for r, shape in zip(records, data["shapes"]):
        assert r["equal"] and r["issue_cycles_identical"] and r["completed"] and r["ok"]
        assert r["model_cycles"] == r["measured_cycles"] == shape["cycles"] == r["cycle_model_cycles"]
        assert r["commands"] > 100
    assert "Cross-check rtl: icarus (cocotb) on the RTL of tiny" in text
    assert "co-simulation: integers and cycle counts identical" in text
    assert "cross-check rtl agrees" in text


def test_bad_machine_and_missing_simulator_are_one_line_exit_2(monkeypatch, capsys):
    assert main(["simulate", "--isa", "npu", "--machine", "nope", "--model", "tiny", "--layer", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown machine 'nope' for ISA npu" in err[0]
    import sims.runner

    monkeypatch.setattr(sims.runner.shutil, "which", lambda name: None)
    assert main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--layer", "0",
                 "--rtl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cross-check rtl: iverilog not on PATH" in err[0]
    assert main(["rtl", "sim", "--config", "tiny", "--simulator", "xsim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "xsim" in err[0]
    assert main(["rtl", "build", "--config", "nope"]) == 2


def test_rtl_build_writes_verilog(tmp_path, capsys):
    assert main(["rtl", "build", "--config", "tiny", "--encoding", "base3", "--out", str(tmp_path)]) == 0
    v = (tmp_path / "npu_top.v").read_text()
    assert "module npu_top" in v
    assert main(["rtl", "build", "--config", "tiny", "--encoding", "3bit", "--out", str(tmp_path)]) == 2
