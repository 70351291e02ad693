"""The view registry (isa_models/core/views/__init__.py): which views render which engine's runs.

The packet views (unit pressure, packet listing) declare the packet-issuing engine; the four
others render every engine. Each view `views_for` gives an engine renders a run of a small
hand-built HVX Program on the 8 Gen 3 machine as text and as JSON.
"""

from __future__ import annotations

import json

from isa_models.core.builder import ProgramBuilder
from isa_models.core.machine import load_machine
from isa_models.core.program import Imm
from isa_models.core.timing import time_program
from isa_models.core.timing.engines import get_engine
from isa_models.core.views import VIEWS, applies, views_for
from isa_models.hvx import ISA

CPU_VIEWS = ("summary", "pressure", "timeline", "bottleneck")


def test_packet_views_render_only_packet_engines():
    assert tuple(VIEWS) == (*CPU_VIEWS, "units", "packets")
    for engine in ("ooo", "inorder", "mac_array"):
        get_engine(engine)                                  # a registered engine kind
        assert views_for(engine) == CPU_VIEWS
    assert views_for("vliw") == tuple(VIEWS)
    assert applies("packets", "vliw") and not applies("packets", "ooo") and applies("summary", "vliw")


def test_every_view_of_the_vliw_engine_renders_a_hvx_run():
    b = ProgramBuilder(ISA, "dot")
    x = b.buffer("x", 128 * 8)
    w = b.buffer("w", 128 * 8)
    y = b.buffer("y", 128, role="output")
    acc = b.emit("vsplat_w", b.emit("tfrsi", Imm(0)))
    with b.loop("k", 8) as k:
        b.emit("vrmpy_ubb_vv_acc", acc, b.emit("vmem_load", x[k * 128]), b.emit("vmem_load", w[k * 128]), out=acc)
    b.emit("vmem_store", y[0], acc)
    machine = load_machine("hvx/snapdragon-8-gen-3")
    views = {name: VIEWS[name]() for name in views_for(machine.engine)}
    time_program(b.build(), machine, listeners=list(views.values()))
    for name, view in views.items():
        assert view.render_text().strip(), name
        assert json.loads(json.dumps(view.to_json()))["view"], name
    assert "Packets of loop k" in views["packets"].render_text()
    assert views["units"].rows()[0]["loop"] == "k"
