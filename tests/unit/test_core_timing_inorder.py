"""In-order engine issue rules (isa_models/core/timing/inorder.py), as machine data on the toy ISA.

Each rule is a key of the machine file, never a special case of an ISA: ``begin_group`` /
``end_group`` on a class (LLVM's BeginGroup / EndGroup), a class with two micro-ops on a pair of
pipes (both taken in one cycle), and ``writeback_in_order`` with ``retire_ooo`` exemptions. The
NEON machines' use of them (A55 Q forms, A520 multi-cycle ops) is tested in test_machines_neon.py.
"""

import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.machine import MachineError, machine_from_dict
from isa_models.core.timing import time_program
from isa_models.core.toy import TOY, toy_machine

SRC = {"source": "test"}


def inorder(classes=None, **section):
    data = toy_machine(classes=classes or {})
    data["inorder"] = {**data.pop("ooo"), "dispatch_width": 2, **section}
    return machine_from_dict(data, path="toy.toml")


def cpi(body, m, *, setup=None, trip=64):
    b = ProgramBuilder(TOY, "t")
    x = b.buffer("x", 1 << 12)
    r = {"x": x, "a": b.vload(x[0]), "c": b.vload(x[16])}
    if setup:
        setup(b, r)
    with b.loop("k", trip) as i:
        body(b, r, i)
    res = time_program(b.build(), m).loop("k")
    return res.body_cycles_per_iteration, res.stalls


def adds(b, r, i):
    for _ in range(4):
        b.vadd(r["a"], r["c"])


def add_mul_pairs(b, r, i):
    for _ in range(2):
        b.vadd(r["a"], r["c"]); b.vmul(r["a"], r["c"])


def test_plain_dual_issue_is_unchanged():
    assert cpi(adds, inorder())[0] == 2.0                        # 4 adds, 2 ALU pipes, 2 per cycle


def test_begin_group_issues_first_of_its_cycle_only():
    grouped = {"toy.add": {**SRC, "latency": 1, "uops": 1, "ports": ["ALU"], "begin_group": True}}
    c, stalls = cpi(adds, inorder(grouped))
    assert c == 4.0 and stalls.get("issue_group", 0) > 0        # never the second of a pair
    assert cpi(add_mul_pairs, inorder(grouped))[0] == 2.0       # ... but a mul may follow it


def test_end_group_closes_the_cycle():
    closing = {"toy.add": {**SRC, "latency": 1, "uops": 1, "ports": ["ALU"], "end_group": True}}
    assert cpi(adds, inorder(closing))[0] == 4.0                # nothing issues after an add in its cycle
    # add | mul add | mul add | ...: an add may still be the second of a pair (2 cycles per 2 pairs)
    assert cpi(add_mul_pairs, inorder(closing))[0] == 2.0


def test_two_uops_on_a_pipe_pair_take_both_halves_at_once():
    wide = {"toy.add": {**SRC, "latency": 1, "uops": 2, "ports": ["ALU", "ALU"]}}
    assert cpi(adds, inorder(wide))[0] == 4.0                   # one 'Q form' per cycle
    assert cpi(add_mul_pairs, inorder(wide))[0] == 2.0          # it pairs with another pipe's op


def test_writeback_in_order_delays_a_short_op_behind_a_long_one():
    def load_then_add(b, r, i):
        b.vload(r["x"][i * 16])                                  # latency 4, result unused
        b.vadd(r["a"], r["c"])                                   # independent, latency 1

    free, _ = cpi(load_then_add, inorder())
    ordered, stalls = cpi(load_then_add, inorder(writeback_in_order=True))
    assert free == 1.0                                            # the pair issues every cycle
    assert ordered > free and stalls.get("writeback_order", 0) > 0
    exempt = {"toy.add": {**SRC, "latency": 1, "uops": 1, "ports": ["ALU"], "retire_ooo": True}}
    assert cpi(load_then_add, inorder(exempt, writeback_in_order=True))[0] == free


def test_inorder_rules_are_refused_on_an_out_of_order_machine():
    with pytest.raises(MachineError, match=r"\[classes.toy.add\] key 'begin_group' is an in-order issue rule"):
        machine_from_dict(toy_machine(classes={"toy.add": {**SRC, "latency": 1, "uops": 1, "ports": ["ALU"],
                                                           "begin_group": True}}), path="toy.toml")
    with pytest.raises(MachineError, match=r"\[ooo\] key 'writeback_in_order' is a rule of in-order cores"):
        machine_from_dict(toy_machine(ooo={"writeback_in_order": True}), path="toy.toml")
    with pytest.raises(MachineError, match=r"key 'end_group' has the wrong type"):
        inorder({"toy.add": {**SRC, "latency": 1, "uops": 1, "ports": ["ALU"], "end_group": 1}})


def test_list_schedule_reorders_the_body_by_dependences_first():
    def load_use_pairs(b, r, i):
        for k in range(4):                                   # load, then at once its 3-cycle user
            b.vmul(b.vload(r["x"][i * 64 + k * 16]), r["c"])
    as_written, stalls = cpi(load_use_pairs, inorder())
    scheduled, _ = cpi(load_use_pairs, inorder(list_schedule=True))
    assert stalls.get("operands", 0) > 0
    assert scheduled < as_written                            # loads hoisted ahead of their users
    with pytest.raises(MachineError, match=r"\[ooo\] key 'list_schedule' is for in-order cores"):
        machine_from_dict(toy_machine(ooo={"list_schedule": True}), path="toy.toml")
