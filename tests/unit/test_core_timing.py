"""Timing engines (isa_models/core/timing): OOO and in-order on known cases, bounds, memory model."""

import dataclasses

import pytest

from isa_models.core.machine import MachineError, machine_from_dict
from isa_models.core.builder import ProgramBuilder
from isa_models.core.timing import Dispatched, Listener, Retired, time_program
from isa_models.core.timing.run import FLATTEN_WINDOWS
from isa_models.core.toy import TOY, toy_machine


def machine(**over):
    return machine_from_dict(toy_machine(**over), path="toy.toml")


def loop_prog(body, *, trip=64, setup=None, size=1 << 12):
    """Program with invariant registers a, c and accumulators set up, then a loop running body(b, regs, i)."""
    b = ProgramBuilder(TOY, "t")
    x = b.buffer("x", size)
    regs = {"x": x, "a": b.vload(x[0]), "c": b.vload(x[16])}
    if setup:
        setup(b, regs)
    with b.loop("k", trip) as i:
        body(b, regs, i)
    return b.build()


def cpi(prog, m):
    return time_program(prog, m).loop("k").body_cycles_per_iteration


@pytest.mark.parametrize("chain,lat", [(1, 3), (2, 6), (3, 9)])
def test_dependent_chain_of_latency_L_gives_L_per_iteration(chain, lat):
    def setup(b, r):
        r["acc"] = b.vzero()

    def body(b, r, i):
        for _ in range(chain):
            b.vmul(r["acc"], r["c"], out=r["acc"])
    p = loop_prog(body, setup=setup)
    res = time_program(p, machine()).loop("k")
    assert res.body_cycles_per_iteration == lat
    assert res.binding.startswith("recurrence")


@pytest.mark.parametrize("n", [2, 4, 6, 7])
def test_independent_ops_on_two_ports_give_n_over_2(n):
    def body(b, r, i):
        for _ in range(n):
            b.vadd(r["a"], r["c"])
    assert cpi(loop_prog(body), machine(ooo={"dispatch_width": 8})) == n / 2


def test_dispatch_width_bound():
    def body(b, r, i):
        b.vadd(r["a"], r["c"]); b.vadd(r["a"], r["c"]); b.vmul(r["a"], r["c"]); b.vload(r["x"][i * 16])
    p = loop_prog(body)
    assert cpi(p, machine(ooo={"dispatch_width": 4})) == 1.0
    res = time_program(p, machine(ooo={"dispatch_width": 2})).loop("k")
    assert res.body_cycles_per_iteration == 2.0
    assert res.binding.startswith("dispatch")


def _quad(cap):
    src = {"source": "test"}
    ports = {**src, "names": ["F0", "F1", "F2", "F3", "L0", "S0"],
             "groups": {"F": ["F0", "F1", "F2", "F3"], "F01": ["F0", "F1"], "F23": ["F2", "F3"]},
             "load": ["L0"], "store": ["S0"]}
    classes = {"toy.add": {**src, "latency": 1, "uops": 1, "ports": ["F01"]},
               "toy.shuf": {**src, "latency": 1, "uops": 1, "ports": ["F23"]},
               "toy.mul": {**src, "latency": 1, "uops": 1, "ports": ["F"]},
               "toy.mac": {**src, "latency": 1, "uops": 1, "ports": ["F"]}}
    data = toy_machine(ooo={"dispatch_width": 8}, ports=ports, classes=classes)
    if cap:
        data["issue_caps"] = {"mixed": {**src, "group": "F", "per_cycle": 3, "mixed_only": True}}
    return machine_from_dict(data, path="toy.toml")


def test_mixed_class_issue_cap():
    def mixed(b, r, i):
        for _ in range(2):
            b.vadd(r["a"], r["c"]); b.vshuf(r["a"], r["c"])

    def single(b, r, i):
        for _ in range(4):
            b.vmul(r["a"], r["c"])
    assert cpi(loop_prog(mixed), _quad(False)) == 1.0          # disjoint port pairs: 4 uops/cycle
    res = time_program(loop_prog(mixed), _quad(True)).loop("k")
    assert res.body_cycles_per_iteration == pytest.approx(4 / 3)
    assert res.binding.startswith("issue_cap")
    assert cpi(loop_prog(single), _quad(True)) == 1.0          # one class: the cap does not apply


def test_loop_carried_accumulators_and_operand_latency():
    def setup(b, r):
        r["accs"] = [b.vzero() for _ in range(2)]

    def body(b, r, i):
        for acc in r["accs"]:
            b.vmac(acc, r["a"], r["c"], out=acc)
    p = loop_prog(body, setup=setup)
    full = machine(classes={"toy.mac": {"source": "t", "latency": 4, "uops": 1, "ports": ["M0"]}})
    res = time_program(p, full).loop("k")
    assert res.body_cycles_per_iteration == 4.0                 # 2 chains of latency 4 on one port
    rec = next(bd for bd in res.bounds if bd.name == "recurrence")
    assert rec.cycles == 4.0 and "chain through" in rec.detail
    # accumulator read late (per-operand latency 1): the chain costs 1 cycle, the port binds
    assert cpi(p, machine()) == 2.0


def test_folded_load_latency_adds_before_the_operation():
    def setup(b, r):
        r["acc"] = b.vzero()

    def body(b, r, i):
        b.vadd_m(r["acc"], r["x"][i * 16], out=r["acc"])
    # the load is off the accumulator chain: 1 cycle per iteration (L0 and the add chain)
    assert cpi(loop_prog(body, setup=setup), machine()) == 1.0
    # ... and so is it for the recurrence bound: only the register-to-register chain (add, 1) counts
    res = time_program(loop_prog(body, setup=setup), machine()).loop("k")
    rec = next(bd for bd in res.bounds if bd.name == "recurrence")
    assert rec.cycles == 1.0 and "chain through" in rec.detail

    def body2(b, r, i):
        t = b.vadd_m(r["acc"], r["x"][i * 16])
        b.vstore(r["x"][i * 16], t)
    res = time_program(loop_prog(body2, setup=setup), machine()).loop("k")
    assert res.uops_per_iteration == 3                          # load + add + store


def _inorder_machine(**keys):
    """The toy machine with its engine section renamed [inorder] (same keys) and `keys` set."""
    data = toy_machine()
    data["inorder"] = {**data.pop("ooo"), **keys}
    m = machine_from_dict(data, path="toy.toml")
    assert m.engine == "inorder"
    return m


def test_inorder_engine_stalls_on_operands_and_dual_issues():
    inorder = _inorder_machine(dispatch_width=2)

    def dep(b, r, i):
        t = b.vload(r["x"][i * 16])
        b.vadd(t, t)
    assert cpi(loop_prog(dep), inorder) == 4.0                  # waits for the 4-cycle load each time
    assert cpi(loop_prog(dep), machine()) == 1.0                # out of order overlaps iterations

    def indep(b, r, i):
        for _ in range(4):
            b.vadd(r["a"], r["c"])
    assert cpi(loop_prog(indep), inorder) == 2.0
    res = time_program(loop_prog(dep), inorder).loop("k")
    assert res.stalls.get("operands", 0) > 0


def test_memory_bound_loop_and_cold_run():
    def body(b, r, i):
        b.vload(r["x"][i * 16])
    p = loop_prog(body, trip=1024, size=16384)
    res = time_program(p, machine())
    k = res.loop("k")
    assert k.memory_level == "L2" and k.footprint_bytes == 16384
    assert k.compute_cycles == 1024 and k.memory_cycles == 16384 / 8
    assert k.cycles == 2048 and k.binding == "memory (L2)"
    cold = time_program(p, machine(), cold=True)
    assert cold.memory_level == "DRAM" and cold.cycles == 16384 / 2.0   # 2 GB/s at 1 GHz


def _nest(inner_trip):
    b = ProgramBuilder(TOY, "nest")
    x = b.buffer("x", 64)
    c = b.vload(x[0])
    with b.loop("o", 4, parallel=True) as o:
        acc = b.vload(x[16])
        with b.loop("k", inner_trip):
            b.vmul(acc, c, out=acc)
        b.vstore(x[32], acc)
    return b.build()


def test_long_inner_loops_compose_by_trip_counts():
    trip = FLATTEN_WINDOWS * machine().rob_size + 1         # one micro-op per iteration: too long
    res = time_program(_nest(trip), machine())
    inner = res.loop("k")
    assert inner.cycles == trip * 3 and inner.flattened_into == ""
    outer = res.loop("o")
    assert outer.flattened == () and outer.n_instructions == 2
    assert outer.compute_cycles == 4 * (outer.body_cycles_per_iteration + trip * 3)
    assert any(bd.name == "composed" for bd in outer.bounds)
    assert res.cycles >= outer.cycles
    assert [lr.loop for lr in res.loops] == ["<top>", "o", "k"]


def test_short_inner_loops_are_flattened_into_the_parent():
    # k: a chain of 8 dependent 3-cycle multiplies per o iteration. Composed, o would cost
    # 8 x 3 = 24 cycles per iteration; flattened, the reload of acc starts a fresh chain each
    # o iteration, so consecutive chains overlap and the one multiply port binds: 8 cycles.
    res = time_program(_nest(8), machine())
    inner, outer = res.loop("k"), res.loop("o")
    assert inner.cycles == 8 * 3 and inner.flattened_into == "o"   # standalone figures kept
    assert outer.flattened == ("k",) and outer.n_instructions == 2 + 8
    assert outer.body_cycles_per_iteration == 8.0
    assert outer.compute_cycles == 4 * 8.0
    ports = next(bd for bd in outer.bounds if bd.name == "ports")
    assert ports.cycles == 8.0 and ports.detail == "M0"
    assert not any(bd.name == "composed" for bd in outer.bounds)
    assert outer.binding.startswith("ports")


def test_missing_class_and_wrong_isa():
    p = loop_prog(lambda b, r, i: b.vshuf(r["a"], r["c"]))
    data = toy_machine()
    del data["classes"]["toy.shuf"]
    with pytest.raises(MachineError, match="machine toy: class toy.shuf has no timing"):
        time_program(p, machine_from_dict(data, path="toy.toml"))
    data = toy_machine(machine={"isa": "avx2"})
    with pytest.raises(MachineError, match="is for ISA avx2"):
        time_program(p, machine_from_dict(data, path="toy.toml"))


def test_events_reach_listeners():
    class Count(Listener):
        def __init__(self):
            self.n = {}

        def on_event(self, e):
            self.n[type(e)] = self.n.get(type(e), 0) + 1

    def body(b, r, i):
        b.vadd(r["a"], r["c"]); b.vmul(r["a"], r["c"])
    lst = Count()
    res = time_program(loop_prog(body), machine(), listeners=[lst])
    k = res.loop("k")
    top_instrs = 2
    assert lst.n[Dispatched] == lst.n[Retired] == 2 * k.simulated_iterations + top_instrs
    assert res.events["Retired"] == lst.n[Retired]


def _two_pairs(binding, cap=None):
    """Ports F0..F3; class add on F0/F1, shuf on F1/F2 (sharing F1), mul on any F port."""
    src = {"source": "test"}
    ports = {**src, "names": ["F0", "F1", "F2", "F3", "L0", "S0"],
             "groups": {"F": ["F0", "F1", "F2", "F3"], "F01": ["F0", "F1"], "F12": ["F1", "F2"]},
             "load": ["L0"], "store": ["S0"]}
    classes = {"toy.add": {**src, "latency": 1, "uops": 1, "ports": ["F01"]},
               "toy.shuf": {**src, "latency": 1, "uops": 1, "ports": ["F12"]},
               "toy.mul": {**src, "latency": 1, "uops": 1, "ports": ["F"]},
               "toy.mac": {**src, "latency": 1, "uops": 1, "ports": ["F"]}}
    data = toy_machine(ooo={"dispatch_width": 6, "port_binding": binding}, ports=ports, classes=classes)
    if cap:
        data["issue_caps"] = {"mixed": {**src, "group": "F", "per_cycle": cap, "mixed_only": True}}
    return machine_from_dict(data, path="toy.toml")


def _grouped(b, r, i):
    """Six shuffles then six adds: each dispatch group holds one class."""
    for _ in range(6):
        b.vshuf(r["a"], r["c"])
    for _ in range(6):
        b.vadd(r["a"], r["c"])


def test_issue_time_binding_reaches_the_eligible_port_bound():
    # 12 uops on F0..F2 (3 ports): 4 cycles when each uop picks its port at issue
    assert cpi(loop_prog(_grouped), _two_pairs("issue")) == 4.0


def test_dispatch_time_binding_piles_a_group_onto_one_port():
    # a dispatch group of 6 shuffles sees F1 and F2 equally loaded and binds them all to one;
    # the shared port F1 then holds work F0 or F2 could have done: slower than issue-time choice
    disp = cpi(loop_prog(_grouped), _two_pairs("dispatch"))
    assert disp > 4.0
    assert disp <= 6.0                                         # never worse than one port per class
    with pytest.raises(MachineError, match="port_binding"):
        _two_pairs("random")


def test_fractional_issue_cap_is_a_sustained_rate():
    def mixed(b, r, i):
        for _ in range(7):
            b.vmul(r["a"], r["c"]); b.vadd(r["a"], r["c"])
    # 14 uops: 3.5/cycle alternates 3 and 4 issues, so 4 cycles per iteration, against 14/4
    # without the cap and 14/3 with an integer cap of 3
    assert cpi(loop_prog(mixed), _two_pairs("issue", cap=3.5)) == pytest.approx(4.0)
    assert cpi(loop_prog(mixed), _two_pairs("issue")) == pytest.approx(3.5)
    assert cpi(loop_prog(mixed), _two_pairs("issue", cap=3)) == pytest.approx(14 / 3)


def _store_then_load(same_buffer):
    b = ProgramBuilder(TOY, "fwd")
    x, y = b.buffer("x", 256), b.buffer("y", 256)
    a, c = b.vload(y[0]), b.vload(y[16])
    acc = b.vmul(a, c)
    b.vstore(x[32], acc)
    t = b.vload((x if same_buffer else y)[32])
    b.vadd(t, t)
    return b.build()


def test_a_load_after_a_store_to_its_buffer_waits_for_the_forwarded_data():
    from isa_models.core.timing.descriptors import describe, memory_token

    m = machine()
    same, other = _store_then_load(True), _store_then_load(False)
    instrs = [n for n in same.body if hasattr(n, "op")]
    descs = describe(same, instrs, m)
    assert memory_token("x", 3) in descs[3].writes                  # the store writes x's token
    assert (memory_token("x", 3), 0) in descs[4].reads               # the pure load reads it
    assert not any(r.cls == "mem" for r, _ in describe(other, instrs, m)[0].reads)
    load, add = (m.timing(same.isa[instrs[k].op].sched_class) for k in (4, 5))
    # the independent load overlaps the multiply and the program ends with the store; the
    # forwarded load starts when the store has its data, and its add follows
    gap = time_program(same, m).cycles - time_program(other, m).cycles
    assert gap == load.latency + add.latency


# ---- store-to-load forwarding: byte ranges, latency, failure (machine keys in [ooo])

def _fwd_machine(latency=None, fail=None):
    core = dict(toy_machine()["ooo"])
    if latency is not None:
        core["store_forward_latency"] = latency
    if fail is not None:
        core["store_forward_fail_penalty"] = fail
    return machine(ooo=core)


def _store_then(load_op, at, *, second_store=None):
    """A slow multiply stored at x[32] (and optionally a second store), then `load_op` at x[at] + an add."""
    b = ProgramBuilder(TOY, "fwd")
    x, y = b.buffer("x", 256), b.buffer("y", 256)
    a, c = b.vload(y[0]), b.vload(y[16])
    acc = b.vmul(b.vmul(a, c), c)
    b.vstore(x[32], acc)
    if second_store is not None:
        b.vstore(x[second_store], c)
    t = getattr(b, load_op)(x[at])
    (b.vaddh if load_op == "vload_h" else b.vadd)(t, t)
    return b.build()


def test_forwarding_source_decides_by_bytes():
    from isa_models.core.program import Affine
    from isa_models.core.timing.descriptors import forwarding_source

    stores = [("x", Affine(0), 16, "s0"), ("x", Affine(16), 16, "s1"), ("y", Affine(0), 32, "s2")]
    assert forwarding_source(stores, "x", Affine(16), 16)[0][3] == "s1"          # same bytes
    assert forwarding_source(stores, "x", Affine(20), 8) == (stores[1], True)    # inside, narrower
    assert forwarding_source(stores, "x", Affine(4), 16) == (stores[1], False)   # spans both stores
    assert forwarding_source(stores, "x", Affine(24), 16) == (stores[1], False)  # runs past the store
    assert forwarding_source(stores, "y", Affine(8), 32) == (stores[2], False)   # partial overlap
    assert forwarding_source(stores, "x", Affine(32), 16) is None                # disjoint
    assert forwarding_source(stores, "z", Affine(0), 16) is None                 # other buffer
    k = Affine(0, (("k", 16),))
    assert forwarding_source(stores, "x", k, 16) == (stores[1], True)            # undecidable: depends


def test_forward_latency_key_sets_when_the_forwarded_value_arrives():
    prog = _store_then("vload", 32)
    base = time_program(prog, _fwd_machine()).cycles
    # default: an L1 hit (load 4) after the 1-cycle store; the key replaces both
    assert time_program(prog, _fwd_machine(latency=5)).cycles == base
    assert time_program(prog, _fwd_machine(latency=11)).cycles == base + 6
    # a narrower load inside the stored bytes forwards too (8 bytes at +8 of the 16 stored)
    narrow = _store_then("vload_h", 40)
    assert time_program(narrow, _fwd_machine(latency=11, fail=30)).cycles == \
        time_program(narrow, _fwd_machine(latency=11)).cycles


@pytest.mark.parametrize("at,second", [(36, None), (40, 48)])   # partial overlap; spans two stores
def test_failed_forward_waits_for_the_store_to_retire_plus_the_penalty(at, second):
    prog = _store_then("vload", at, second_store=second)
    ok = time_program(prog, _fwd_machine(latency=5)).cycles          # no penalty key: forwards
    slow = time_program(prog, _fwd_machine(latency=5, fail=20)).cycles
    slower = time_program(prog, _fwd_machine(latency=5, fail=27)).cycles
    assert slower - slow == 7 and slow > ok
    # the penalty counts from retirement: at least store data + 1-cycle store + penalty + load 4
    assert slow >= time_program(_store_then("vload", 32), _fwd_machine(latency=5)).cycles - 5 + 1 + 20


def test_a_value_carried_through_memory_costs_the_forward_latency_per_iteration():
    def body(b, r, i):
        t = b.vload(r["x"][64])
        b.vstore(r["x"][64], b.vadd(t, r["c"]))
    p = loop_prog(body)
    assert cpi(p, _fwd_machine(latency=6)) == pytest.approx(6 + 1)      # forward + the add
    assert cpi(p, _fwd_machine(latency=9)) == pytest.approx(9 + 1)

    def moving(b, r, i):                      # each iteration stores and loads its own slot
        t = b.vload(r["x"][i * 16])
        b.vstore(r["x"][i * 16], b.vadd(t, r["c"]))
    assert cpi(loop_prog(moving), _fwd_machine(latency=9)) < 3


def test_flattened_copies_forward_from_their_own_row():
    from isa_models.core.timing.descriptors import describe, memory_token
    from isa_models.core.timing.run import _at_index

    b = ProgramBuilder(TOY, "rows")
    x, y = b.buffer("x", 256), b.buffer("y", 256)
    c = b.vload(y[0])
    with b.loop("t", 2) as t:
        with b.loop("r", 4) as r:
            b.vstore(x[t * 64 + r * 16], b.vmul(c, c))
        b.vadd(b.vload(x[t * 64]), b.vload(x[t * 64 + 48]))
    prog = b.build()
    outer = prog.body[-1]
    inner = [n for n in outer.body[0].body]
    body = [ins for v in range(4) for ins in _at_index(inner, "r", v)] + list(outer.body[1:])
    descs = describe(prog, body, _fwd_machine(latency=7), index="t")
    stores = [d.index for d in descs if d.sched_class == "toy.store"]
    loads = [d for d in descs if d.sched_class == "toy.load"]
    assert [r for r, _ in loads[0].reads] == [memory_token("x", stores[0])]     # row 0's store
    assert [r for r, _ in loads[1].reads] == [memory_token("x", stores[3])]     # row 3's store
    with pytest.raises(MachineError, match="store_forward_latency"):
        _fwd_machine(latency=-1)


def _core_machine(**keys):
    """The toy machine with [ooo] `keys` added (None values left out)."""
    core = {**toy_machine()["ooo"], **{k: v for k, v in keys.items() if v is not None}}
    return machine_from_dict(toy_machine(ooo=core), path="toy.toml")


def _rename_machine(rename=None):
    return _core_machine(rename_registers=rename)


def _fresh_chain_per_iteration():
    """Per iteration: a load and a 4-long vadd chain from it (5 registers written, 8 cycles of
    latency), stored; iterations are independent, so only the window limits their overlap."""
    b = ProgramBuilder(TOY, "ren")
    x = b.buffer("x", 1 << 12)
    o = b.buffer("o", 1 << 12, role="output")
    c = b.vload(x[16])
    with b.loop("k", 64) as i:
        v = b.vload(x[i * 16])
        for _ in range(4):
            v = b.vadd(v, c)
        b.vstore(o[i * 16], v)
    return b.build()


def test_rename_registers_limit_the_window_to_the_written_registers_in_flight():
    p = _fresh_chain_per_iteration()
    free = cpi(p, _rename_machine())
    assert free == 2.0                                          # two ALU ports, the ROB holds ~10 iterations
    assert cpi(p, _rename_machine({"v": 1000})) == free         # a generous file changes nothing
    tight = time_program(p, _rename_machine({"v": 5})).loop("k")
    # 5 registers: one iteration's writers in flight at a time, so its 8-cycle chain is exposed
    assert tight.body_cycles_per_iteration >= 4.0
    assert tight.stalls.get("registers_full", 0) > 0
    assert cpi(p, _rename_machine({"v": 10})) > free


def test_rename_registers_of_a_class_the_isa_lacks_or_not_positive_are_rejected():
    with pytest.raises(MachineError, match="rename_registers names register class 'ymm'"):
        time_program(_fresh_chain_per_iteration(), _rename_machine({"ymm": 160}))
    with pytest.raises(MachineError, match="rename_registers"):
        _rename_machine({"v": 0})


def _vector_scheduler_machine(size=None):
    return _core_machine(vector_scheduler_size=size)


def test_vector_scheduler_limits_waiting_compute_micro_ops():
    p = _fresh_chain_per_iteration()
    free = cpi(p, _vector_scheduler_machine())
    assert free == 2.0
    assert cpi(p, _vector_scheduler_machine(1000)) == free
    tight = time_program(p, _vector_scheduler_machine(5)).loop("k")
    # 5 entries hold one iteration's 4 adds and store: the next chain waits for them to issue
    assert tight.body_cycles_per_iteration >= 3.0
    assert tight.stalls.get("vector_scheduler_full", 0) > 0
    with pytest.raises(MachineError, match="vector_scheduler_size"):
        _vector_scheduler_machine(0)


def test_vector_scheduler_does_not_count_loads():
    b = ProgramBuilder(TOY, "loads")
    x = b.buffer("x", 1 << 12)
    with b.loop("k", 64) as i:
        for j in range(4):
            b.vload(x[i * 64 + j * 16])
    p = b.build()
    result = time_program(p, _vector_scheduler_machine(1)).loop("k")
    assert result.body_cycles_per_iteration == cpi(p, _vector_scheduler_machine())
    assert "vector_scheduler_full" not in result.stalls


# ---- the one entry: engine registry, extensions check, common result fields

def test_time_program_dispatches_on_the_engine_kind():
    from isa_models.core.timing import engine_names, get_engine, time_cpu_program

    assert get_engine("ooo") is time_cpu_program and get_engine("inorder") is time_cpu_program
    with pytest.raises(MachineError, match=r"no timing engine for engine kind 'systolic'; registered: .*inorder, .*ooo"):
        get_engine("systolic")
    assert "ooo" in engine_names()


def test_cpu_result_reports_bytes_moved_and_engine():
    p = loop_prog(lambda b, r, i: b.vload(r["x"][i * 16]))
    res = time_program(p, machine())
    assert res.bytes_moved == res.loops[0].footprint_bytes > 0
    js = res.to_json()
    assert js["engine"] == "ooo" and js["bytes_moved"] == res.bytes_moved and js["extra"] == {}


def test_a_form_needing_an_extension_the_machine_lacks_is_refused():
    from isa_models.core.isa import ISA
    from isa_models.core.machine import MissingExtensionError

    isa = ISA("toy", register_files={"v": (8, 16)}, narrow_write="zero_extend")
    isa.define(dataclasses.replace(TOY["vadd"], attrs={"requires": ("toy_fast",)}))
    for name in ("vload", "vstore", "vzero"):
        isa.define(TOY[name])
    b = ProgramBuilder(isa, "needs_ext")
    x = b.buffer("x", 64, role="input")
    v = b.vload(x[0])
    b.vadd(v, v)
    p = b.build()
    with pytest.raises(MissingExtensionError, match=r"^machine toy lacks toy_fast, needed by vadd in program needs_ext$"):
        time_program(p, machine())
    assert time_program(p, machine(machine={"extensions": ["toy_fast"]})).cycles > 0
