"""Report views (isa_models/core/views): each renders text and JSON from a real timing run."""

import json

import pytest

from isa_models.core.machine import machine_from_dict
from isa_models.core.builder import ProgramBuilder
from isa_models.core.timing import time_program
from isa_models.core.toy import TOY, toy_machine
from isa_models.core.views import BottleneckView, PortPressureView, SummaryView, TimelineView


@pytest.fixture(scope="module")
def views():
    b = ProgramBuilder(TOY, "dot")
    x = b.buffer("x", 2048)
    y = b.buffer("y", 16, role="output")
    acc = b.vzero()
    with b.loop("k", 64) as k:
        b.vmac(acc, b.vload(x[k * 32]), b.vload(x[k * 32 + 16]), out=acc)
    b.vstore(y[0], acc)
    vs = [SummaryView(), PortPressureView(), TimelineView(iterations=2), BottleneckView()]
    time_program(b.build(), machine_from_dict(toy_machine(), path="toy.toml"), listeners=vs)
    return vs


def test_summary(views):
    text = views[0].render_text()
    assert "Total cycles:" in text and "ports (L0)" in text
    assert " * ports" in text                       # the binding bound of loop k is marked
    js = views[0].to_json()
    assert js["loops"][1]["cycles_per_iteration"] == 2.0


def test_port_pressure(views):
    js = views[1].to_json()["loops"]["k"]
    assert js["per_iteration"]["L0"] == 2.0 and js["per_iteration"]["M0"] == 1.0
    assert "Resource pressure per iteration, loop k" in views[1].render_text()


def test_timeline(views):
    text = views[2].render_text()
    rows = [ln for ln in text.splitlines() if ln.startswith("[") and not ln.startswith("[it")]
    assert len(rows) == 6                            # 2 iterations x 3 instructions
    assert rows[0].split()[1].startswith("D") and "R" in rows[0]
    assert "=" in rows[2]                            # vmac waits for its loads
    assert views[2].to_json()["loop"] == "k"


def test_bottleneck(views):
    text = views[3].render_text()
    assert "loop k: ports (L0)" in text
    json.dumps([v.to_json() for v in views])         # everything is JSON-serialisable


def test_view_without_run_is_an_error():
    with pytest.raises(ValueError, match="no timing run"):
        SummaryView().render_text()


def test_timeline_counts_rows_that_start_past_its_window():
    b = ProgramBuilder(TOY, "chain")
    x = b.buffer("x", 16)
    v = b.vload(x[0])
    for _ in range(12):
        v = b.vmul(v, v)                             # in order, a 3-cycle chain: the 12th issues near cycle 37
    b.vstore(x[0], v)
    data = toy_machine()
    data["inorder"] = data.pop("ooo")
    view = TimelineView(max_cycles=20)
    time_program(b.build(), machine_from_dict(data, path="toy.toml"), listeners=[view])
    lines = view.render_text().splitlines()
    drawn = [ln for ln in lines if ln.startswith("[") and not ln.startswith("[it")]
    assert drawn and all(ln[8:28].strip() for ln in drawn)      # every drawn row has a mark in the window
    late = len(view.rows) - len(drawn)
    assert late > 0 and lines[-1] == f"({late} more instruction instances start after cycle 19: not shown)"
    assert len(view.to_json()["rows"]) == len(view.rows)         # the JSON keeps every row
