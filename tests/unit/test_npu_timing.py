"""NPU cycle model: the issue rules on hand-computed sequences, durations, reports."""

from __future__ import annotations

import dataclasses
import json

import pytest

from isa_models.npu import NpuBuilder, load_npu_machine, lower, matvec_program, time_lowered
from isa_models.npu.timing import duration

TINY = load_npu_machine("tiny")          # latency 3, bus 4 B: weight/act word 2 beats, write-back 4 beats


def _timed(build):
    nb = NpuBuilder(TINY, "t")
    d = nb.dram("d", 1024)
    y = nb.dram("y", 64, role="output")
    build(nb, d, y)
    return time_lowered(lower(nb.build()))


def _issues(t):
    return [(s.issue, s.end, s.cause) for s in t.schedule]


def test_durations():
    t = _timed(lambda nb, d, y: (nb.load_weights(0, d[0], 2), nb.load_acts(0, d[0], 3),
                                 nb.mac(0, 0, 0, 2, clear=True), nb.write_back(0, y[0]), nb.sync()))
    assert [s.end - s.issue for s in t.schedule] == [1 + 3 + 4, 1 + 3 + 6, 2 + 3, 4 + 1, 1]
    edge = load_npu_machine("edge16")
    cmd = lower(matvec_program(edge, 16, 16 * 256)).commands[1]
    assert cmd.op == "dmaw" and duration(cmd, edge) == 1 + 100 + 256 * 64 // 16


def test_raw_chain_dma_mac_writeback():
    t = _timed(lambda nb, d, y: (nb.load_weights(0, d[0], 2), nb.mac(0, 0, 0, 2, clear=True),
                                 nb.write_back(0, y[0])))
    assert _issues(t) == [(0, 8, ""), (8, 13, "raw:w0"), (13, 18, "raw:acc0")]
    assert t.total_cycles == 18
    assert t.stalls == {"raw:w0": 7, "raw:acc0": 4}


def test_double_buffer_overlaps_dma_with_mac():
    t = _timed(lambda nb, d, y: (nb.load_weights(0, d[0], 2), nb.load_weights(16, d[16], 2),
                                 nb.mac(0, 0, 0, 2, clear=True), nb.mac(1, 16, 0, 2, clear=True)))
    # second DMA waits for the DMA unit; the MAC on bank 0 runs under it; the MAC on bank 1 waits RAW
    assert _issues(t) == [(0, 8, ""), (8, 16, "busy:dma"), (9, 14, ""), (16, 21, "raw:w1")]
    assert t.unit_busy == {"dma": 16, "mac": 10, "wb": 0}


def test_war_dma_waits_for_mac_reading_its_bank():
    t = _timed(lambda nb, d, y: (nb.load_weights(0, d[0], 4), nb.mac(0, 0, 0, 4, clear=True),
                                 nb.load_weights(0, d[0], 1), nb.load_weights(16, d[0], 1)))
    mac_end = t.schedule[1].end
    assert t.schedule[2].issue == mac_end and t.schedule[2].cause == "war:w0"
    assert t.schedule[3].issue == t.schedule[2].end


def test_mac_waits_for_writeback_of_its_bank_and_sync_drains():
    t = _timed(lambda nb, d, y: (nb.mac(0, 0, 0, 1, clear=True), nb.write_back(0, y[0]),
                                 nb.mac(0, 0, 0, 1, clear=True), nb.mac(1, 0, 0, 1, clear=True), nb.sync(),
                                 nb.load_acts(0, d[0], 1)))
    s = t.schedule
    assert (s[1].issue, s[1].cause) == (4, "raw:acc0")
    assert (s[2].issue, s[2].cause) == (9, "war:acc0")            # WB of acc0 busy until 9
    assert s[3].issue == s[2].end
    assert (s[4].issue, s[4].cause) == (s[3].end, "sync") and s[5].issue == s[4].issue + 1
    assert t.total_cycles == s[5].end


def test_reports_and_utilization():
    edge = load_npu_machine("edge16")
    t = time_lowered(lower(matvec_program(edge, 2560, 2560)))
    assert t.macs == 2560 * 2560 and t.ideal_cycles == 2560 * 2560 / 256
    assert t.binding_unit == "dma"                              # GEMV decode is DMA bound
    assert t.dram["read"] == 2560 * 2560 // 4 + 2560 and t.dram["write"] == 2560 * 4
    assert t.sram["wsram_reads"] == t.mac_active_cycles == (2560 // 16) * (2560 // 16)
    assert 0 < t.utilization < 1
    # the DMA-bound floor: all weight bytes at 16 B/cycle
    assert t.total_cycles >= t.dram["read"] / edge.dma_bytes_per_cycle
    d = json.loads(t.to_json(with_schedule=True))
    assert d["total_cycles"] == t.total_cycles and len(d["schedule"]) == len(t.schedule)
    assert "binding" in t.render_text(timeline=3)


def test_prefetch_hides_mac_time():
    p = TINY
    m, k = 3 * p.rows, p.a_banks * p.a_bank_words * p.cols
    t0 = time_lowered(lower(matvec_program(p, m, k, prefetch=0)))
    t1 = time_lowered(lower(matvec_program(p, m, k, prefetch=1)))
    assert t1.total_cycles < t0.total_cycles
    assert t1.unit_busy == t0.unit_busy


# ---- the mac_array engine of the core time_program, with the core views

def _timed_program(name="tiny", m=12, k=64):
    from isa_models.core.machine import load_machine

    machine = load_machine(name, isa="npu")
    return matvec_program(load_npu_machine(name), m, k), machine


def test_time_program_equals_the_command_model_and_fills_the_common_fields():
    from isa_models.core.timing import TimingResult, time_program

    program, machine = _timed_program("edge16", 256, 2560)
    t = time_lowered(lower(program))
    r = time_program(program, machine)
    assert isinstance(r, TimingResult)
    assert r.cycles == t.total_cycles and r.seconds == pytest.approx(t.time_us * 1e-6)
    assert r.instructions == len(t.schedule) and r.memory_level == "DRAM"
    assert r.bytes_moved == t.dram["read"] + t.dram["write"]
    assert r.binding.startswith("dma (DMA unit") and "busy" in r.binding
    x = r.extra
    assert x["utilization"] == t.utilization and x["stall_cycles"] == t.stalls and x["ideal_cycles"] == t.ideal_cycles
    assert x["dram"] == t.dram and x["sram"] == t.sram and x["unit_busy_cycles"] == t.unit_busy
    top = r.loops[0]
    assert top.loop == "<top>" and top.cycles == t.total_cycles and top.port_cycles == t.unit_busy
    assert {b.name for b in top.bounds} == {"dma", "mac", "wb", "ideal", "memory"}
    js = json.loads(json.dumps(r.to_json()))
    assert js["engine"] == "mac_array" and js["bytes_moved"] == r.bytes_moved and js["extra"]["macs"] == 256 * 2560


def test_kernel_plan_reaches_extra():
    from isa_models.core.machine import load_machine
    from isa_models.core.timing import time_program
    from kernels.registry import get

    spec = get("npu_gemm", "npu")
    program = spec.build(64, 128, machine="tiny")
    r = time_program(program, load_machine("tiny", isa="npu"))
    assert r.extra["plan"] == program.meta["plan"] and r.cycles > 0


def test_events_render_through_every_core_view():
    from isa_models.core.timing import Dispatched, Issued, Listener, Stall, time_program
    from isa_models.core.views import BottleneckView, PortPressureView, SummaryView, TimelineView

    class Record(Listener):
        def __init__(self):
            self.events = []

        def on_event(self, event):
            self.events.append(event)

    program, machine = _timed_program()
    rec = Record()
    views = [SummaryView(), PortPressureView(), TimelineView(), BottleneckView()]
    r = time_program(program, machine, listeners=[rec, *views])
    t = time_lowered(lower(program))
    cycles = [e.cycle for e in rec.events]
    assert cycles == sorted(cycles)                                     # in time order
    issued = [e for e in rec.events if isinstance(e, Issued)]
    assert [(e.instr, e.cycle, e.port, e.occupancy) for e in issued] == \
        [(s.index, s.issue, s.command.unit, s.end - s.issue) for s in t.schedule]
    stalls = [e for e in rec.events if isinstance(e, Stall)]
    assert sum(e.cycles for e in stalls) == sum(t.stalls.values())
    assert {e.reason for e in stalls} == set(t.stalls)
    assert sum(isinstance(e, Dispatched) for e in rec.events) == len(t.schedule) == r.events["Dispatched"]

    summary = views[0].render_text()
    assert f"Program {program.name} on tiny" in summary and f"Total cycles:   {t.total_cycles}" in summary
    assert "* dma" in summary and "Binding bound:  dma" in summary
    pressure = views[1].to_json()["loops"]["<top>"]["per_iteration"]
    assert pressure == {u: float(t.unit_busy[u]) for u in ("dma", "mac", "wb")}
    timeline = views[2].render_text().splitlines()
    assert timeline[0].startswith("Timeline of loop <top>")
    first = timeline[2]                                                 # dmaa: issues at once, 1+3+16 cycles
    assert first.startswith("[0,0]   D" + "e" * 19 + "R") and first.endswith("dmaa n=8 asram[0] <- dram[0xc0]")
    assert timeline[3].startswith("[0,1]    D" + "=" * 18 + "e" * 20 + "R ")         # waits for the DMA unit
    assert views[3].analyse()[0]["top_bound"] == "dma"


def test_timeline_counts_rows_past_its_window():
    from isa_models.core.timing import time_program
    from isa_models.core.views import TimelineView

    program, machine = _timed_program("edge16", 64, 2560)
    view = TimelineView(max_cycles=120)
    time_program(program, machine, listeners=[view])
    lines = view.render_text().splitlines()
    assert len(lines) < 20 and lines[-1].endswith("start after cycle 119: not shown)")


def test_program_built_for_another_machine_is_refused():
    from isa_models.core.machine import MachineError, load_machine
    from isa_models.core.timing import time_program

    program = matvec_program(load_npu_machine("tiny"), 4, 8)
    with pytest.raises(MachineError, match=r"program npu_matvec was built for NPU machine tiny, not for machine "
                                           r"edge16; build it for edge16"):
        time_program(program, load_machine("edge16", isa="npu"))
    variant = dataclasses.replace(load_npu_machine("tiny"), weight_encoding="base3")
    with pytest.raises(MachineError, match="built for NPU machine tiny with other parameters"):
        time_program(matvec_program(variant, 4, 8), load_machine("tiny", isa="npu"))
    with pytest.raises(MachineError, match="machine zen4 is for ISA avx2"):
        time_program(program, load_machine("zen4", isa="avx2"))


def test_mac_array_engine_is_registered_by_the_npu_package():
    from isa_models.core.timing import engine_names, get_engine, register_engine
    from isa_models.npu.timing import time_npu_program

    assert {"ooo", "inorder", "mac_array"} <= set(engine_names())
    assert get_engine("mac_array") is time_npu_program
    register_engine("mac_array", time_npu_program)                     # same function again: fine
    with pytest.raises(ValueError, match="registered twice"):
        register_engine("mac_array", lambda *a, **k: None)
