"""The VLIW engine (isa_models/core/timing/vliw.py) on hand-written HVX Programs.

Each test builds a small Program with the HVX forms and times it on a Snapdragon machine file (or
a variant of one built in memory): the early-source stall, a LUT loop bound by XLANE+SHIFT,
contexts splitting a parallel loop, DMA-bound weight streaming, and the engine's bookkeeping
(events, extra, placements).
"""

from __future__ import annotations

import copy
import tomllib

import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.machine import MachineError, load_machine, machine_from_dict
from isa_models.core.machine.loader import MACHINES_DIR
from isa_models.core.program import Imm, ProgramError
from isa_models.core.timing import Stall, time_program
from isa_models.core.timing.events import Listener
from isa_models.core.timing.vliw import operand_distance
from isa_models.hvx import ISA

GEN3 = "snapdragon-8-gen-3"


def machine(**vliw):
    """The 8 Gen 3 machine with `vliw` keys of its [vliw] section replaced (in memory)."""
    data = tomllib.loads((MACHINES_DIR / "hvx" / f"{GEN3}.toml").read_text())
    data = copy.deepcopy(data)
    data["vliw"].update(vliw)
    return machine_from_dict(data, path=f"{GEN3}.toml")


def chain_program(*, feed_multiply: bool, trip: int = 64):
    """Per iteration: a load, a vadd of the loaded vector, a vrmpy accumulating. The vrmpy's
    multiplicand is the vadd's result (an early read of the previous packet), or two loop
    invariants while a second vadd accumulates the first one's result (a late read)."""
    b = ProgramBuilder(ISA, "chain")
    x = b.buffer("x", 128 * trip)
    y = b.buffer("y", 256, role="output")
    r0 = b.emit("tfrsi", Imm(0))
    acc = b.emit("vsplat_w", r0)
    w = b.emit("vsplat_w", r0)
    s_acc = b.emit("vsplat_w", r0)
    with b.loop("k", trip) as k:
        v = b.emit("vmem_load", x[k * 128])
        s = b.emit("vadd_b", v, v)
        if feed_multiply:
            b.emit("vrmpy_ubb_vv_acc", acc, s, w, out=acc)
        else:
            b.emit("vrmpy_ubb_vv_acc", acc, w, s_acc, out=acc)
            b.emit("vadd_b", s, s_acc, out=s_acc)
    b.emit("vmem_store", y[0], acc)
    b.emit("vmem_store", y[128], s_acc)
    return b.build()


class Stalls(Listener):
    def __init__(self):
        self.events = []

    def on_event(self, event):
        if isinstance(event, Stall):
            self.events.append(event)


def test_operand_distance_rule():
    # isa.md §3.4: a late (VA) read of the previous packet's result does not stall, an early
    # (multiply/shift/permute) read stalls one packet, scalar results are ready next packet
    assert operand_distance(9, 7) == 1
    assert operand_distance(9, 5) == 2
    assert operand_distance(3, 2) == 1
    assert operand_distance(9, 9) == 1


def test_early_source_stalls_one_packet():
    m = load_machine(f"hvx/{GEN3}")
    seen = Stalls()
    fed = time_program(chain_program(feed_multiply=True), m, listeners=[seen])
    free = time_program(chain_program(feed_multiply=False), m)
    k_fed, k_free = fed.loop("k"), free.loop("k")
    assert fed.extra["loops"]["k"]["packets_per_iteration"] == 3
    assert k_fed.body_cycles_per_iteration == pytest.approx(4.0)        # 3 packets + 1 stall
    assert free.extra["loops"]["k"]["packets_per_iteration"] == 3
    assert k_free.body_cycles_per_iteration == pytest.approx(3.0)      # late reads: no stall
    assert "vrmpy_ubb_vv_acc waits for vadd_b (early read)" in k_fed.binding
    reasons = {e.reason for e in seen.events if e.loop == "k"}
    assert any("reads" in r and "stage 5" in r and "stage 9" in r for r in reasons)
    assert all(e.cycles == 1 for e in seen.events if e.loop == "k")


def lut_program(trip: int = 32):
    """A software-pipelined LUT loop in four stated packets: each packet looks one vlut16 up
    (XLANE+SHIFT) and accumulates the previous iteration's lookup (VA); the first also loads a
    streamed vector that the second accumulates. XLANE+SHIFT carry 8 unit-cycles per iteration
    (4 cycles), the four VA-capable units 14 (3.5)."""
    b = ProgramBuilder(ISA, "lut")
    idx = b.buffer("idx", 128, role="const")
    tab = b.buffer("tab", 128, role="const")
    xs = b.buffer("xs", 128 * trip)
    y = b.buffer("y", 128 * 5, role="output")
    sels = [b.emit("tfrsi", Imm(j)) for j in range(4)]
    v = b.emit("vmem_load", idx[0])
    table = b.emit("vmem_load", tab[0])
    accs = [b.emit("vsplat_w", sels[0]) for _ in range(5)]
    looked = [b.emit("vlut16_nm", v, table, sels[j]) for j in range(4)]      # (lo, hi) pairs
    with b.loop("k", trip) as k:
        for j in range(4):
            with b.packet():
                b.emit("vadd_h", accs[j], looked[j][0], out=accs[j])
                b.emit("vlut16_nm", v, table, sels[j], out=looked[j])
                if j == 0:
                    x = b.emit("vmem_load", xs[k * 128])
                if j == 1:
                    b.emit("vadd_h", accs[4], x, out=accs[4])
    for j, a in enumerate(accs):
        b.emit("vmem_store", y[128 * j], a)
    return b.build()


def test_lut_loop_is_xlane_shift_bound():
    r = time_program(lut_program(), load_machine(f"hvx/{GEN3}"))
    k = r.loop("k")
    res = next(bd for bd in k.bounds if bd.name == "resource")
    assert set(res.detail.split("+")) == {"XLANE", "SHIFT"}
    assert res.cycles == pytest.approx(4.0)
    assert k.body_cycles_per_iteration == pytest.approx(4.0)
    assert k.binding.startswith("resource (") and "XLANE" in k.binding and "SHIFT" in k.binding
    util = r.extra["loops"]["k"]["unit_utilization"]
    assert util["XLANE"] == pytest.approx(util["SHIFT"])
    assert util["XLANE"] == pytest.approx(1.0) and util["MPY0"] + util["MPY1"] == pytest.approx(1.5)


def parallel_program(rows: int = 16, k_trip: int = 20):
    b = ProgramBuilder(ISA, "par")
    x = b.buffer("x", 128 * k_trip)
    w = b.buffer("w", 128 * k_trip * rows)
    y = b.buffer("y", 128 * rows, role="output")
    r0 = b.emit("tfrsi", Imm(0))
    with b.loop("m", rows, parallel=True) as m:
        acc = b.emit("vsplat_w", r0)
        with b.loop("k", k_trip) as k:
            a = b.emit("vmem_load", x[k * 128])
            wv = b.emit("vmem_load", w[m * (128 * k_trip) + k * 128])
            b.emit("vrmpy_ubb_vv_acc", acc, a, wv, out=acc)
        b.emit("vmem_store", y[m * 128], acc)
    return b.build()


def test_contexts_scale_a_parallel_loop():
    p = parallel_program()
    one = time_program(p, machine(contexts=1))
    four = time_program(p, machine(contexts=4))
    assert one.extra["contexts_used"] == 1 and four.extra["contexts_used"] == 4
    assert four.compute_cycles == pytest.approx(one.compute_cycles / 4, rel=0.02)
    assert any(bd.name == "contexts" and "4 of 4" in bd.detail for bd in four.loop("m").bounds)
    # a parallel trip below the context count binds on the contexts
    few = time_program(parallel_program(rows=2), machine(contexts=4))
    assert "contexts (2 of 4 used: parallel trip 2)" in few.binding


def test_no_parallel_loop_names_the_context_count():
    r = time_program(chain_program(feed_multiply=False), load_machine(f"hvx/{GEN3}"))
    assert r.binding.startswith("contexts (1 of 4 used: no parallel loop)")


def test_dma_bound_when_weights_stream_from_ddr():
    p = parallel_program(rows=64, k_trip=20)
    m = load_machine(f"hvx/{GEN3}")
    warm = time_program(p, m)
    assert warm.extra["placement"]["w"] == "vtcm" and warm.memory_level == "VTCM"
    p.meta["placement"] = {"w": "dma"}
    streamed = time_program(p, m)
    w_bytes = 64 * 20 * 128
    ddr = min(m.dma_bytes_per_cycle, m.dram_bytes_per_cycle)
    assert streamed.binding == "memory (DDR via dma)"
    assert streamed.memory_cycles == pytest.approx(w_bytes / ddr + m.dma_latency_cycles)
    assert streamed.cycles > warm.cycles
    # l2fetch streams at the DDR share without the DMA's first-tile latency
    p.meta["placement"] = {"w": "l2fetch"}
    fetched = time_program(p, m)
    assert fetched.memory_cycles == pytest.approx(w_bytes / m.dram_bytes_per_cycle)


def test_bad_placement_is_refused():
    p = parallel_program()
    p.meta["placement"] = {"w": "sram"}
    with pytest.raises(ProgramError, match="buffer w has placement 'sram'"):
        time_program(p, load_machine(f"hvx/{GEN3}"))
    p.meta["placement"] = {"nope": "vtcm"}
    with pytest.raises(ProgramError, match="unknown buffer 'nope'"):
        time_program(p, load_machine(f"hvx/{GEN3}"))


def test_missing_class_is_a_machine_error():
    data = tomllib.loads((MACHINES_DIR / "hvx" / f"{GEN3}.toml").read_text())
    del data["classes"]["hvx.V6_vrmpybusv_acc"]
    m = machine_from_dict(data, path=f"{GEN3}.toml")
    with pytest.raises(MachineError, match="class hvx.V6_vrmpybusv_acc has no timing"):
        time_program(parallel_program(), m)


def test_extra_lists_packets_and_utilisation():
    r = time_program(parallel_program(), load_machine(f"hvx/{GEN3}"))
    k = r.extra["loops"]["k"]
    assert r.extra["hot_loop"] == "k"
    assert k["packets_per_iteration"] == len(k["packets"]) >= 2
    assert all(0.0 <= v <= 1.0 for v in k["unit_utilization"].values())
    assert r.extra["simulated_packets"] > 0
    assert r.to_json()["extra"]["loops"]["k"]["packets"][0]["cycle"] == 0


def test_flattened_child_copies_are_numbered_apart():
    class Issues(Listener):
        def __init__(self):
            self.seen, self.n = set(), {}

        def on_loop_begin(self, info):
            self.n[info.loop] = len(info.instructions)

        def on_event(self, event):
            from isa_models.core.timing import Issued
            if isinstance(event, Issued) and event.loop == "m" and event.iteration == 0:
                self.seen.add(event.instr)

    seen = Issues()
    r = time_program(parallel_program(k_trip=20), load_machine(f"hvx/{GEN3}"), listeners=[seen])
    assert r.loop("k").flattened_into == "m"
    assert seen.n["m"] == 2 + 3 * 20 and seen.seen == set(range(seen.n["m"]))


def nested_packets_program(m_trip: int = 3, k_trip: int = 4):
    """A parallel loop m over a short loop k of two stated two-instruction packets (k is unrolled
    into m: m's simulated body holds k_trip copies of both packets)."""
    b = ProgramBuilder(ISA, "nest")
    x = b.buffer("x", 128 * k_trip * m_trip)
    y = b.buffer("y", 128 * m_trip, role="output")
    r0 = b.emit("tfrsi", Imm(0))
    with b.loop("m", m_trip, parallel=True) as m:
        acc = b.emit("vsplat_w", r0)
        acc2 = b.emit("vsplat_w", r0)
        with b.loop("k", k_trip) as k:
            with b.packet():
                a = b.emit("vmem_load", x[m * (128 * k_trip) + k * 128])
                b.emit("vadd_w", acc2, acc2, out=acc2)
            with b.packet():
                b.emit("vadd_w", acc, a, out=acc)
                b.emit("vadd_h", acc2, a, out=acc2)
        b.emit("vmem_store", y[m * 128], acc)
    return b.build()


def test_flattened_multi_instruction_packets_keep_their_own_indices():
    class Issues(Listener):
        def __init__(self):
            self.texts, self.issued = {}, {}

        def on_loop_begin(self, info):
            self.texts[info.loop] = info.instructions

        def on_event(self, event):
            from isa_models.core.timing import Issued
            if isinstance(event, Issued) and event.loop == "m" and event.iteration == 0:
                self.issued.setdefault(event.instr, event.cycle)

    seen = Issues()
    r = time_program(nested_packets_program(k_trip=4), load_machine(f"hvx/{GEN3}"), listeners=[seen])
    assert r.loop("k").flattened_into == "m"
    n = 2 + 4 * 4 + 1
    assert len(seen.texts["m"]) == n and sorted(seen.issued) == list(range(n))
    # one cycle per packet: the two instructions of each copy share a cycle, copies follow in order
    by_cycle: dict[int, list[int]] = {}
    for i, c in seen.issued.items():
        by_cycle.setdefault(c, []).append(i)
    assert [len(v) for _, v in sorted(by_cycle.items())] == [2] + [2] * 8 + [1]
    listing = r.extra["loops"]["m"]["packets"]
    assert [len(p["instructions"]) for p in listing] == [2] + [2] * 8 + [1]
    body = [p["instructions"] for p in listing[1:-1]]
    assert body == [[seen.texts["m"][i] for i in sorted(v)] for _, v in sorted(by_cycle.items())[1:-1]]
    assert all("vmem_load" in b[0] for b in body[0::2]) and all("vadd_h" in b[1] for b in body[1::2])


def same_name_program():
    """Two top-level loops both named k, and a loop m with its own inner k: three loops named k."""
    b = ProgramBuilder(ISA, "same")
    x = b.buffer("x", 128 * 40)
    y = b.buffer("y", 128 * 3, role="output")
    r0 = b.emit("tfrsi", Imm(0))
    acc = b.emit("vsplat_w", r0)
    with b.loop("k", 40) as k:
        b.emit("vadd_w", acc, b.emit("vmem_load", x[k * 128]), out=acc)
    b.emit("vmem_store", y[0], acc)
    with b.loop("k", 30) as k:
        b.emit("vadd_h", acc, b.emit("vmem_load", x[k * 128]), out=acc)
    b.emit("vmem_store", y[128], acc)
    with b.loop("m", 2) as m:
        with b.loop("k", 20) as k:
            b.emit("vadd_b", acc, b.emit("vmem_load", x[m * 2560 + k * 128]), out=acc)
    b.emit("vmem_store", y[256], acc)
    return b.build()


def test_loops_sharing_an_index_name_are_keyed_apart():
    from isa_models.core.views import PacketListingView
    view = PacketListingView()
    r = time_program(same_name_program(), load_machine(f"hvx/{GEN3}"), listeners=[view])
    names = [lr.loop for lr in r.loops]
    assert names == ["<top>", "k", "k#2", "m", "m/k"]
    assert set(r.extra["loops"]) == set(names)
    assert [r.extra["loops"][n]["packets_per_iteration"] for n in ("k", "k#2", "m/k")] == [2, 2, 2]
    ops = {n: " ".join(i for p in r.extra["loops"][n]["packets"] for i in p["instructions"])
           for n in ("k", "k#2", "m/k")}
    assert "vadd_w" in ops["k"] and "vadd_h" in ops["k#2"] and "vadd_b" in ops["m/k"]
    assert [r.loop(n).trip for n in ("k", "k#2", "m/k")] == [40, 30, 20]
    assert set(view.loop_names()) >= {"k", "k#2", "m/k"}
    # the footprint still follows each loop's own index: 40, 30 and 2 x 20 vectors of x
    assert [r.loop(n).footprint_bytes >= 128 * t for n, t in (("k", 40), ("k#2", 30))] == [True, True]
