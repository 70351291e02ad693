"""The NEON machines (isa_models/machines/neon/*.toml): load, time every class, cite sources, pair as documented.

Machine data tests for issue 11 (and issue 9's Kirin 9000 Cortex-A77): the Arm cores load through
the one schema, each times every scheduling class of `isa_models.neon.ISA`, every value has a
source (LLVM 19 tables quoted per class, assumptions marked), the llvm-mca CPU of each is the documented stand-in (never
``cortex-a76``), and the in-order pairing rules of the Cortex-A55 and A520 behave as
isa_models/machines/README.md ("In-order issue rules") says, on small hand-written NEON Programs.
"""

from __future__ import annotations

import tomllib

import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.machine import load_machine, machine_from_dict, machine_names
from isa_models.core.timing import time_program
from isa_models.neon import ISA

MACHINES = {"cortex-a55": "cortex-a55", "cortex-a520": "cortex-a510", "cortex-a76": "neoverse-n1", "cortex-a77": "neoverse-n1",
            "cortex-a720": "neoverse-n2", "cortex-x4": "neoverse-v2", "oryon": "oryon-1"}
IN_ORDER = ("cortex-a55", "cortex-a520")


@pytest.fixture(scope="module", params=sorted(MACHINES))
def machine(request):
    return load_machine(request.param, isa="neon")


def test_the_seven_machines_are_listed():
    assert set(MACHINES) <= set(machine_names(isa="neon"))


def test_machine_loads_with_its_engine_and_llvm_mca_cpu(machine):
    assert machine.isa == "neon"
    assert machine.engine == ("inorder" if machine.name in IN_ORDER else "ooo")
    assert machine.mca_cpu == MACHINES[machine.name]
    assert machine.mca_cpu != "cortex-a76"            # LLVM <= 19 maps it to the Cortex-A57 model
    assert "research/isa.md §2.1" in machine.source_of("machine.mca_cpu")
    assert machine.clock_ghz > 1.0 and machine.cores >= 1
    assert [lv.name for lv in machine.memory][:2] == ["L1", "L2"]
    assert 0 < machine.dram_gbps_core <= machine.dram_gbps_chip


def test_every_scheduling_class_is_timed(machine):
    missing = sorted(ISA.sched_classes() - set(machine.classes))
    assert not missing, f"{machine.name} lacks timings for {missing}"
    for cls in ISA.sched_classes():
        t = machine.timing(cls)
        assert t.latency >= 0 and t.uops >= 1 and all(t.ports)


def test_every_value_has_a_source(machine):
    for cls in ISA.sched_classes():
        src = machine.source_of(f"classes.{cls}")
        assert src.startswith(f"[mca19 {machine.mca_cpu}] `"), (cls, src)   # quotes the instruction timed
    for key in ("machine.clock_ghz", "machine.cores", "machine.extensions", "memory.dram_gbps_core",
                "memory.dram_gbps_chip", f"{machine.engine}.dispatch_width", f"{machine.engine}.rob_size",
                "ports.names"):
        assert len(machine.source_of(key)) > 20, key
    for i, _ in enumerate(machine.memory):
        assert machine.source_of(f"memory.levels[{i}]")
    # a per-core DRAM figure no public measurement backs is an assumption, and says so
    assert "assumption" in machine.source_of("memory.dram_gbps_core")


def test_extensions_follow_the_cores():
    dot_only = {"cortex-a55", "cortex-a76", "cortex-a77"}   # Armv8.2 with dotprod, no i8mm
    for name in MACHINES:
        ext = set(load_machine(name, isa="neon").extensions)
        assert {"asimd", "asimddp"} <= ext
        assert ("i8mm" in ext) == (name not in dot_only), name


def test_a_form_needing_i8mm_is_refused_on_the_a76():
    b = ProgramBuilder(ISA, "mmla")
    x = b.buffer("x", 64)
    acc = b.movi_zero_16b()
    b.st1_16b(x[48], b.smmla_4s(acc, b.ld1_16b(x[0]), b.ld1_16b(x[16]), out=acc))
    program = b.build()
    assert load_machine("cortex-a76", isa="neon").missing_extensions(program)
    assert not load_machine("cortex-x4", isa="neon").missing_extensions(program)


# ---- in-order pairing rules on hand-written NEON programs -------------------------------------------

def variant(name: str, *, classes=None, **section):
    """Machine `name` with `section` keys of its engine section and `classes` entries replaced;
    list scheduling off unless asked, so a test's Program issues in the order it is written."""
    path = load_machine(name, isa="neon").path
    data = tomllib.loads(path.read_text())
    data["inorder"].update({"list_schedule": False, **section})
    for cls, keys in (classes or {}).items():
        data["classes"][cls] = {**data["classes"][cls], **keys}
    return machine_from_dict(data, path=path)


def cpi(m, body, *, trip=64, accumulators=0):
    """Cycles per iteration of loop k running body(b, a, c, x, i) on machine m (with `accumulators`
    zeroed registers carried through the loop, body(b, a, c, x, i, accs))."""
    b = ProgramBuilder(ISA, "pairing")
    x = b.buffer("x", 1 << 14)
    a, c = b.ld1_16b(x[0]), b.ld1_16b(x[16])
    accs = [b.movi_zero_16b() for _ in range(accumulators)]
    with b.loop("k", trip) as i:
        body(b, a, c, x, i, *([accs] if accumulators else []))
    res = time_program(b.build(), m).loop("k")
    return res.body_cycles_per_iteration, res.stalls


def q_adds(b, a, c, x, i):
    for _ in range(4):
        b.add_16b(a, c)


def d_adds(b, a, c, x, i):
    for _ in range(4):
        b.add_8b(a, c)


def test_a55_q_form_takes_both_64_bit_halves():
    a55 = load_machine("cortex-a55", isa="neon")
    t = a55.timing("neon.add")
    assert t.uops == 2 and set(t.ports[0]) == set(t.ports[1]) == {"FPALU0", "FPALU1"} and t.begin_group
    assert a55.timing("neon.add.d").uops == 1 and not a55.timing("neon.add.d").begin_group
    assert cpi(a55, q_adds)[0] == 4.0                    # one 128-bit op per cycle
    assert cpi(a55, d_adds)[0] == 2.0                    # two 64-bit ops dual-issue


def test_a55_q_form_pairs_with_a_store_not_with_another_vector_op():
    a55 = variant("cortex-a55", writeback_in_order=False)

    def q_and_store(b, a, c, x, i):
        for k in range(2):
            b.add_16b(a, c); b.st1_16b(x[64 + i * 32 + k * 16], a)
    assert cpi(a55, q_and_store)[0] == 2.0               # Q add + store issue together: 2 pairs

    def q_and_d(b, a, c, x, i):
        for _ in range(2):
            b.add_16b(a, c); b.add_8b(a, c)
    assert cpi(a55, q_and_d)[0] == 4.0                   # the D op finds no free half beside a Q op


def test_a55_begin_group_keeps_a_q_form_out_of_the_second_slot():
    def scalar_scalar_q(b, a, c, x, i):
        for _ in range(4):
            b.mov_x(1); b.mov_x(2); b.add_16b(a, c)
    grouped = variant("cortex-a55", writeback_in_order=False)
    free = variant("cortex-a55", writeback_in_order=False, classes={"neon.add": {"begin_group": False}})
    c_grouped, stalls = cpi(grouped, scalar_scalar_q)
    c_free, _ = cpi(free, scalar_scalar_q)
    # m m | Q m | m . | Q m | ...: every Q waits for a fresh cycle, 2 cycles per (m m Q) against 1.5
    assert (c_grouped, c_free) == (8.0, 6.0)
    assert stalls.get("issue_group", 0) > 0


def test_a55_results_are_written_back_in_order():
    def load_then_d_add(b, a, c, x, i):
        b.ld1_8b(x[64 + i * 8])                           # latency 4, result unused
        b.add_8b(a, c)                                    # independent, latency 2
    c_ordered, stalls = cpi(variant("cortex-a55"), load_then_d_add)
    c_free, _ = cpi(variant("cortex-a55", writeback_in_order=False), load_then_d_add)
    assert c_ordered > c_free and stalls.get("writeback_order", 0) > 0


def test_a520_multicycle_pairwise_accumulate_holds_one_pipe_and_leads_its_group():
    a520 = load_machine("cortex-a520", isa="neon")
    t = a520.timing("neon.sadalp")
    assert t.uops == 1 and t.occupancy == (2,) and t.begin_group and len(t.ports[0]) == 2

    def sadalps(b, a, c, x, i, accs):
        for acc in accs:
            b.sadalp_8h(acc, a, out=acc)

    def adds_beside(b, a, c, x, i, accs):
        for acc in accs:
            b.sadalp_8h(acc, a, out=acc); b.add_16b(a, c); b.add_16b(a, c)
    m = variant("cortex-a520", writeback_in_order=False)
    # 8 independent accumulators (latency 7 < 8): two VALUs each held 2 cycles, one sadalp per cycle
    assert cpi(m, sadalps, accumulators=8)[0] == 8.0
    # the other VALU stays free while one holds a sadalp: s+a | a | s+a | a ...: 2 cycles per triple
    assert cpi(m, adds_beside, accumulators=8)[0] == 16.0


def test_in_order_cores_run_a_list_schedule_of_the_program():
    """Written order: each sdot right after the load and shift feeding it; an in-order core waits
    on every one. The machines list-schedule the body first, as the compiler does for them."""
    def naive(b, a, c, x, i, accs):
        for k, acc in enumerate(accs):
            w = b.ld1_16b(x[256 + i * 64 + k * 16])
            b.sdot_4s(acc, b.ushr_16b(w, 4), a, out=acc)
    for name in IN_ORDER:
        scheduled = load_machine(name, isa="neon")
        assert scheduled.list_schedule and "list-schedule" in scheduled.source_of("inorder.list_schedule")
        as_written, _ = cpi(variant(name), naive, accumulators=4)
        reordered, _ = cpi(scheduled, naive, accumulators=4)
        assert reordered < as_written, name
    assert not load_machine("cortex-x4", isa="neon").list_schedule
