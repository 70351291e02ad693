"""The unit pressure view (isa_models/core/views/units.py) over the VLIW engine and a CPU engine."""

from __future__ import annotations

import json

import pytest

from isa_models.core.machine import load_machine
from isa_models.core.timing import time_program
from isa_models.core.views.units import UnitPressureView
from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Imm
from isa_models.hvx import ISA


def lut_program(trip: int = 16):
    """Four stated packets per iteration, one vlut16 (XLANE+SHIFT) and one vadd each."""
    b = ProgramBuilder(ISA, "lut")
    src = b.buffer("src", 256, role="const")
    y = b.buffer("y", 128 * 4, role="output")
    sels = [b.emit("tfrsi", Imm(j)) for j in range(4)]
    v, table = b.emit("vmem_load", src[0]), b.emit("vmem_load", src[128])
    accs = [b.emit("vsplat_w", sels[0]) for _ in range(4)]
    looked = [b.emit("vlut16_nm", v, table, sels[j]) for j in range(4)]
    with b.loop("k", trip):
        for j in range(4):
            with b.packet():
                b.emit("vadd_h", accs[j], looked[j][0], out=accs[j])
                b.emit("vlut16_nm", v, table, sels[j], out=looked[j])
    for j, a in enumerate(accs):
        b.emit("vmem_store", y[128 * j], a)
    return b.build()


def test_lut_loop_rows_name_the_busiest_unit():
    view = UnitPressureView()
    time_program(lut_program(), load_machine("hvx/snapdragon-8-gen-3"), listeners=[view])
    rows = view.rows()
    assert rows[0]["loop"] == "k"                         # innermost first
    k = rows[0]
    assert k["packets_per_iteration"] == 4 and k["cycles_per_iteration"] == pytest.approx(4.0)
    assert k["utilization"][k["busiest"]] == pytest.approx(1.0) == k["utilization"]["XLANE"]
    text = view.render_text()
    assert "loop k: 4 packets, 4.00 cycles per iteration, 1 context(s); busiest" in text
    assert json.loads(json.dumps(view.to_json()))["loops"][0]["loop"] == "k"


def test_engines_without_units_say_so():
    from isa_models.core.timing.run import TimingResult
    view = UnitPressureView()
    m = load_machine("avx2/zen4")
    view.on_program_end(TimingResult("p", m, 1.0, 1.0, 0.0, "L1", "x", [], 1))
    assert view.rows() == []
    assert "engine ooo reports no per-unit utilisation" in view.render_text()
    with pytest.raises(ValueError):
        UnitPressureView().rows()
