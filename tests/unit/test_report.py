"""workbench.report: the default report (defaults, one configuration line, the table, what VERIFIED
rests on, the bound in words, the legend pointer), views only when asked, engine figures, JSON."""

from __future__ import annotations

import json

import pytest

from workbench.flow import simulate
from workbench.report import describe_binding, render_text, table_binding, write_outputs


@pytest.fixture(scope="module")
def npu_run():
    return simulate(isa="npu", model="tiny", layer=0, workers=1)


@pytest.mark.parametrize("binding, words", [
    ("inner loop t: inner loop r: ports (p0+p1+p5)", "execution ports p0+p1+p5 saturated in loop r"),
    ("inner loop r: memory (L3)", "bandwidth from L3 in loop r"),
    ("recurrence (chain through %v3)", "a loop-carried dependency chain (chain through %v3)"),
    ("inner loop b: latency/scheduling", "latency and scheduling (simulated > every analytic bound by 10%) in loop b"),
    ("dma (DMA unit: 17 transfers)", "dma (DMA unit: 17 transfers)"),
])
def test_binding_in_words(binding, words):
    assert describe_binding(binding) == words


def test_table_binding_drops_a_long_detail():
    assert table_binding("inner loop r: ports (p0+p1+p5)") == "loop r: ports (p0+p1+p5)"
    assert table_binding("inner loop b: issue_cap (fp_mixed: 506 uops on FP (12 classes), 3.5/cycle)") == \
        "loop b: issue_cap"


def test_default_report_lines(npu_run):
    lines = render_text(npu_run).splitlines()
    assert lines[0].startswith("default --machine edge16: ") and lines[1].startswith("default --kernel npu_gemm: ")
    assert lines[2].startswith("Kernel npu_gemm (npu, format npu_tile, exact) on edge16 @ 0.5 GHz (mac_array "
                               "engine); model tiny (weights seed 0), layer 0; activations: trace")
    assert lines[4].split()[:5] == ["layer", "proj", "M", "K", "check"]
    assert sum(" VERIFIED " in line for line in lines) == 7
    assert lines[-3].startswith("ALL VERIFIED: 7 projections, every int32 accumulator compared with "
                                "workbench.reference.ternary_matvec inside the reference forward pass")
    assert lines[-2] == "Bound by: dma (q, o, k, v, gate, up, down)"
    assert lines[-1] == "Legend: docs/reports.md; per-shape views: --views"
    assert not any(line.startswith("--- ") for line in lines)


def test_engine_figures_rendered_generically(npu_run):
    text = render_text(npu_run)
    block = text[text.index("Engine figures per shape (mac_array engine"):]
    assert "  256x256 q,o: total_cycles " in block and "utilization " in block
    assert "    stall_cycles: " in block and "    dram: read " in block and "    sram: " in block


def test_views_only_when_asked_and_virtual_registers_stay_virtual():
    run = simulate(isa="avx2", machine="zen4", kernel="i2s", model="tiny", layer=0, workers=1,
                   views=("summary", "pressure", "timeline", "bottleneck"))
    text = render_text(run)
    for name in ("summary", "pressure", "timeline", "bottleneck"):
        assert f"--- {name} view, shape M=256 K=256 (q, o) ---" in text
    assert "%v" in text and "%ymm" not in text
    assert text.splitlines()[-1] == "Legend: docs/reports.md"


def test_json_keeps_the_resolved_configuration(npu_run, tmp_path):
    written = write_outputs(npu_run, json_path=tmp_path / "r.json", out_dir=tmp_path / "o", text="report")
    assert [p.name for p in written] == ["r.json", "simulate.json", "config.json", "report.txt"]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["verified"] is True and data["defaults"] == list(npu_run.defaults)
    cfg = data["config"]
    assert cfg["isa"]["name"] == "npu" and cfg["machine"]["name"] == "edge16"
    assert cfg["kernel"]["build_params"] == {"machine": "edge16"} and cfg["layers"] == [0]
    assert [p["proj"] for p in data["projections"]] == ["q", "k", "v", "o", "gate", "up", "down"]
    assert all(p["check"]["status"] == "VERIFIED" and p["cycles"] > 0 for p in data["projections"])
    assert all(s["extra"]["stall_cycles"] and s["bytes_moved"] > 0 for s in data["shapes"])
    assert json.loads((tmp_path / "o" / "config.json").read_text()) == cfg
