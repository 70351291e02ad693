"""NPU cycle model: the issue rules on hand-computed sequences, durations, reports."""

from __future__ import annotations

import json

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
