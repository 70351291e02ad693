"""`workbench simulate --isa npu [--rtl]` and `workbench rtl build|sim`: CLI behaviour and co-simulation."""

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
    assert "VERIFIED: every accumulator equals" in text
    data = json.loads(out.read_text())
    assert data["verified"] and len(data["projections"]) == 7
    tot = data["totals"]
    assert tot["cycles"] == sum(p["cycles"] for p in data["projections"])
    assert 0 < tot["utilization"] <= 1
    assert tot["dram_bytes"]["read"] > 0


@pytest.mark.slow
@pytest.mark.skipif(simulator_available("icarus") is not None, reason="iverilog not installed")
def test_simulate_rtl_cosim_layer_identical(tmp_path, capsys, monkeypatch):
    """The whole `simulate --rtl` path on two projections of the layer, one per K (256 and 512):
    a full-layer run (the CLI default) co-simulates 7 streams, ~25 s here, for the same check."""
    import workbench.npu_flow

    monkeypatch.setattr(workbench.npu_flow, "RTL_PROJECTIONS", ("k", "down"))
    out = tmp_path / "cosim.json"
    rc = main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--layer", "0",
               "--no-progress", "--rtl", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    records = json.loads(out.read_text())["rtl"]
    assert [(r["proj"], r["K"]) for r in records] == [("k", 256), ("down", 512)]
    for r in records:
        assert r["integers_identical"] and r["model_cycles"] == r["rtl_cycles"] and r["issue_cycles_identical"]
        assert r["commands"] > 100 and r["completed"]
    assert "of layer 0 on tiny: projections k, down: each one's full command stream" in text
    assert "integers and cycle counts identical" in text


def test_cosimulate_layer_names_a_bad_projection():
    from workbench.npu_flow import cosimulate_layer, run_npu

    run = run_npu(machine="tiny", model="tiny", layer=0, progress=False)
    with pytest.raises(ValueError, match="'qq' is not a projection; valid: q, k"):
        cosimulate_layer(run, 0, projections=("k", "qq"))


def test_bad_machine_and_missing_simulator_are_one_line_exit_2(monkeypatch, capsys):
    assert main(["simulate", "--isa", "npu", "--machine", "nope", "--model", "tiny", "--layer", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown npu machine 'nope'" in err[0]
    import sims.runner

    monkeypatch.setattr(sims.runner.shutil, "which", lambda name: None)
    assert main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--layer", "0",
                 "--rtl"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "iverilog not on PATH" in err[0]
    assert main(["rtl", "sim", "--config", "tiny", "--simulator", "xsim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "xsim" in err[0]
    assert main(["rtl", "build", "--config", "nope"]) == 2


def test_rtl_build_writes_verilog(tmp_path, capsys):
    assert main(["rtl", "build", "--config", "tiny", "--encoding", "base3", "--out", str(tmp_path)]) == 0
    v = (tmp_path / "npu_top.v").read_text()
    assert "module npu_top" in v
    assert main(["rtl", "build", "--config", "tiny", "--encoding", "3bit", "--out", str(tmp_path)]) == 2
