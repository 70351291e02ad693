"""Packets (isa_models/core/packets.py): the checker against the llvm-mc legality tables of
research/isa.md §3.2 (pairwise matrix for hexagonv68, its v73 differences, the packet table),
the greedy packetizer, forwarding, and the builder's stated packets.

The ISA here is a test ISA whose forms carry the scheduling classes of isa.md §3.2/§3.3 (one form
per row of the matrix); the machines are built in memory with `machine_from_dict`, one with the
v68 multiply rule (vector x vector vrmpy-acc takes both multipliers) and one with v69+'s.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.isa import ISA, mem, reg
from isa_models.core.machine import machine_from_dict
from isa_models.core.packets import (DEPENDENCY, FORWARD_ONLY, INVALID_PACKET, MODIFIED_TWICE, NO_PRODUCER,
                                     OUT_OF_SLOTS, SLOT_ERROR, LoopPackets, Packet, PacketError,
                                     assign_packet, check_packet, form_packets, packetize)
from isa_models.core.program import Affine, Instr, Mem, ProgramError, VReg

V, R, Q = reg("v", 128), reg("r", 4), reg("q", 128)

#: form -> (class, outs, ins, forwarding): the rows of isa.md §3.2's matrix and the loads/stores
FORMS = {
    "vmem_ld": ("ld", [V], [mem(128)], None),
    "vmem_st": ("st", [mem(128)], [V], None),
    "vlut16": ("xlshf", [V, V], [V, V, R], None),
    "vlut32": ("xlane", [V], [V, V, R], None),
    "vlut32_or": ("xlshf", [V], [V, V, V, R], None),
    "vrmpy_vv": ("mpy", [V], [V, V], None),
    "vrmpy_acc": ("mpy_acc", [V], [V, V, V], None),
    "vrmpy_vr": ("mpy", [V], [V, R], None),
    "vmpy_vv": ("mpy01", [V, V], [V, V], None),
    "vdmpy_vr": ("mpy", [V], [V, R], None),
    "vadd_b": ("va", [V], [V, V], None),
    "vsub_h_sat": ("va", [V], [V, V], None),
    "vand": ("va", [V], [V, V], None),
    "vasr_h": ("shift", [V], [V, R], None),
    "vsplat": ("mpy", [V], [R], None),
    "vshuff": ("xlshf", [V, V], [V, V, R], None),
    "vshuffe_b": ("va", [V], [V, V], None),
    "vdelta": ("xlane", [V], [V, V], None),
    "vdeal_b": ("xlane", [V], [V], None),
    "vpacke": ("xlane", [V], [V, V], None),
    "vunpack": ("xlshf", [V, V], [V], None),
    "vsxt": ("va_dv", [V, V], [V], None),
    # further forms for the packet table and forwarding
    "vmem_ld_tmp": ("ld_tmp", [V], [mem(128)], "tmp"),
    "vmem_ld_cur": ("ld", [V], [mem(128)], "cur"),
    "vmemu_ld": ("ldu", [V], [mem(128)], None),
    "vmem_st_new": ("st_new", [mem(128)], [V], "new"),
    "addi": ("alu", [R], [R], None),
}

#: isa.md §3.2, pairwise packet legality for hexagonv68 [llvm-mc] (rows and columns in FORMS order)
MATRIX_V68 = """
vmem_ld      X  ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vmem_st      ok X  ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vlut16       ok ok X  X  X  ok ok ok ok ok ok ok ok X  ok X  ok X  X  X  X  ok
vlut32       ok ok X  X  X  ok ok ok ok ok ok ok ok ok ok X  ok X  X  X  X  ok
vlut32_or    ok ok X  X  X  ok ok ok ok ok ok ok ok X  ok X  ok X  X  X  X  ok
vrmpy_vv     ok ok ok ok ok ok X  ok X  ok ok ok ok ok ok ok ok ok ok ok ok ok
vrmpy_acc    ok ok ok ok ok X  X  X  X  X  ok ok ok ok X  ok ok ok ok ok ok ok
vrmpy_vr     ok ok ok ok ok ok X  ok X  ok ok ok ok ok ok ok ok ok ok ok ok ok
vmpy_vv      ok ok ok ok ok X  X  X  X  X  ok ok ok ok X  ok ok ok ok ok ok ok
vdmpy_vr     ok ok ok ok ok ok X  ok X  ok ok ok ok ok ok ok ok ok ok ok ok ok
vadd_b       ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vsub_h_sat   ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vand         ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vasr_h       ok ok X  ok X  ok ok ok ok ok ok ok ok X  ok X  ok ok ok ok X  ok
vsplat       ok ok ok ok ok ok X  ok X  ok ok ok ok ok ok ok ok ok ok ok ok ok
vshuff       ok ok X  X  X  ok ok ok ok ok ok ok ok X  ok X  ok X  X  X  X  ok
vshuffe_b    ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
vdelta       ok ok X  X  X  ok ok ok ok ok ok ok ok ok ok X  ok X  X  X  X  ok
vdeal_b      ok ok X  X  X  ok ok ok ok ok ok ok ok ok ok X  ok X  X  X  X  ok
vpacke       ok ok X  X  X  ok ok ok ok ok ok ok ok ok ok X  ok X  X  X  X  ok
vunpack      ok ok X  X  X  ok ok ok ok ok ok ok ok X  ok X  ok X  X  X  X  ok
vsxt         ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok ok
"""
#: isa.md §3.2: under v73 these pairs become legal (vrmpy-acc is a single-multiply instruction from v69)
V73_LEGAL = {frozenset(p) for p in [("vrmpy_vv", "vrmpy_acc"), ("vrmpy_acc",), ("vrmpy_vr", "vrmpy_acc"),
                                    ("vdmpy_vr", "vrmpy_acc"), ("vsplat", "vrmpy_acc")]}


def _isa() -> ISA:
    isa = ISA("vliwtoy", register_files={"v": (32, 128), "r": (32, 4), "q": (4, 128)})
    for name, (cls, outs, ins, fwd) in FORMS.items():
        attrs = {"forwarding": fwd} if fwd else {}
        isa.instruction(name, outs=outs, ins=ins, sched_class=f"vliwtoy.{cls}", asm=name,
                        **attrs)(lambda *a: a[0])
    return isa


ISA_ = _isa()

_SLOTS_ANY, _SLOTS_23, _SLOTS_01 = [0, 1, 2, 3], [2, 3], [0, 1]


def machine_dict(version: int) -> dict:
    """A [vliw] machine with the classes of isa.md §3.2 (v68 or v69+ multiply rule)."""
    src = {"source": "test machine: isa.md §3.2 classes"}
    classes = {
        "ld": (_SLOTS_01, ["LD", "VA"]), "ld_tmp": (_SLOTS_01, ["LD"]), "ldu": ([[0, 1]], ["LD", "XLANE"]),
        "st": ([0], ["ST", "VA"]), "st_new": ([0], ["ST"]),
        "va": (_SLOTS_ANY, ["VA"]), "va_dv": (_SLOTS_ANY, ["VA_DV"]), "xlane": (_SLOTS_ANY, ["XLANE"]),
        "xlshf": (_SLOTS_ANY, ["XLSHF"]), "shift": (_SLOTS_ANY, ["SHIFT"]), "mpy": (_SLOTS_23, ["MPY"]),
        "mpy01": (_SLOTS_23, ["MPY01"]), "mpy_acc": (_SLOTS_23, ["MPY01" if version <= 68 else "MPY"]),
        "alu": (_SLOTS_ANY, []),
    }
    return {
        "machine": {**src, "name": f"toy-v{version}", "isa": "vliwtoy", "description": "packet test machine",
                    "clock_ghz": 1.0, "cores": 1, "extensions": []},
        "memory": {**src, "dram_gbps_core": 10.0, "dram_gbps_chip": 10.0, "levels": []},
        "vliw": {**src, "version": version, "slots": 4, "threads": 4, "contexts": 4,
                 "units": ["LD", "ST", "XLANE", "SHIFT", "MPY0", "MPY1"], "vtcm_bytes": 1 << 20,
                 "vtcm_loads_per_packet": 1, "vtcm_stores_per_packet": 1, "l2_latency_cycles": 10,
                 "dma_bytes_per_cycle": 16.0, "dma_latency_cycles": 100},
        "resource_groups": {**src, "VA": ["XLANE", "SHIFT", "MPY0", "MPY1"], "MPY": ["MPY0", "MPY1"],
                            "XLSHF": [["XLANE", "SHIFT"]], "MPY01": [["MPY0", "MPY1"]],
                            "VA_DV": [["XLANE", "SHIFT"], ["MPY0", "MPY1"]]},
        "classes": {f"vliwtoy.{name}": {**src, "slots": slots, "resources": res, "def_stage": 9,
                                        "use_stages": [5, 5, 5, 5]}
                    for name, (slots, res) in classes.items()},
    }


V68 = machine_from_dict(machine_dict(68), path="toy-v68.toml")
V73 = machine_from_dict(machine_dict(73), path="toy-v73.toml")

_next = iter(range(1000, 10 ** 9))


def fresh(cls: str = "v") -> VReg:
    return VReg(next(_next), cls)


def op(name: str, *, outs=None, ins=None, packet=None) -> Instr:
    """An instance of form `name` with fresh registers (no dependencies) unless given."""
    _, o, i, _ = FORMS[name]
    outs = outs or tuple(Mem("buf", Affine(0)) if s.is_mem else fresh(s.kind) for s in o)
    ins = ins or tuple(Mem("buf", Affine(0)) if s.is_mem else fresh(s.kind) for s in i)
    return Instr(name, tuple(outs), tuple(ins), packet=packet)


def _matrix() -> dict[frozenset, bool]:
    rows = [line.split() for line in MATRIX_V68.strip().splitlines()]
    names = [r[0] for r in rows]
    return {frozenset((names[a], names[b])): rows[a][1 + b] == "ok"
            for a in range(len(rows)) for b in range(len(rows))}


@pytest.mark.parametrize("version", [68, 73])
def test_pairwise_legality_matches_llvm_mc(version):
    """Every pair of the isa.md §3.2 matrix: legal exactly where llvm-mc assembles it."""
    machine = V68 if version == 68 else V73
    wrong = []
    for pair, legal in _matrix().items():
        names = sorted(pair) * (2 if len(pair) == 1 else 1)
        if version > 68 and pair in V73_LEGAL:
            legal = True
        err = check_packet([op(n) for n in names], machine, isa=ISA_)
        if (err is None) != legal:
            wrong.append(f"{names}: expected {'ok' if legal else 'X'}, got {err}")
    assert not wrong, "\n".join(wrong)


def test_matrix_reasons_are_llvm_mcs_words():
    assert check_packet([op("vmem_ld"), op("vmem_ld")], V73, isa=ISA_).reason == INVALID_PACKET
    assert check_packet([op("vmem_st"), op("vmem_st")], V73, isa=ISA_).reason == INVALID_PACKET
    assert check_packet([op("vlut16"), op("vlut16")], V73, isa=ISA_).reason == SLOT_ERROR
    assert check_packet([op("vasr_h"), op("vasr_h")], V73, isa=ISA_).reason == SLOT_ERROR
    err = check_packet([op("vrmpy_acc"), op("vrmpy_acc")], V68, isa=ISA_)
    assert err.reason == SLOT_ERROR and "slot error" in str(err)


#: isa.md §3.2 packet table: (forms, legal on v68, legal on v73)
PACKET_TABLE = [
    (("vadd_b",) * 4, True, True),
    (("vmem_ld", "vadd_b", "vadd_b", "vadd_b"), True, True),
    (("vmem_ld", "vlut16", "vrmpy_vv", "vadd_b"), False, False),
    (("vmem_ld_tmp", "vlut16", "vrmpy_vv", "vadd_b"), True, True),
    (("vmem_ld_tmp", "vlut16", "vrmpy_vv", "vrmpy_vv"), True, True),
    (("vmem_ld", "vlut16", "vrmpy_acc"), False, True),
    (("vmem_ld", "vrmpy_acc", "vadd_b", "vadd_b"), False, True),
    (("vlut16", "vlut16"), False, False),
    (("vlut32", "vlut32"), False, False),
    (("vlut32", "vasr_h", "vrmpy_vv", "vrmpy_vv"), True, True),
    (("vmemu_ld", "vlut32", "vadd_b"), False, False),
    (("vmem_ld_tmp", "vlut16", "vadd_b", "vadd_b"), True, True),
]


@pytest.mark.parametrize("forms,v68,v73", PACKET_TABLE, ids=["+".join(f) for f, *_ in PACKET_TABLE])
def test_packet_table(forms, v68, v73):
    for machine, legal in ((V68, v68), (V73, v73)):
        instrs = [op(n) for n in forms]
        if forms[0] == "vmem_ld_tmp":     # a .tmp value must be read in its packet: feed the LUT
            instrs[1] = Instr("vlut16", instrs[1].outs, (instrs[0].outs[0], *instrs[1].ins[1:]))
        err = check_packet(instrs, machine, isa=ISA_)
        assert (err is None) == legal, (machine.name, forms, err)


def test_out_of_slots_and_register_written_twice():
    err = check_packet([op("vadd_b") for _ in range(5)], V73, isa=ISA_)
    assert err.reason == OUT_OF_SLOTS and "out of slots" in str(err)
    a = op("vadd_b")
    b = op("vand", outs=a.outs)
    err = check_packet([a, b], V73, isa=ISA_)
    assert err.reason == MODIFIED_TWICE and f"register `{a.outs[0]}' modified more than once" in str(err)


def test_dependencies_and_forwarding():
    a = op("vadd_b")
    b = op("vand", ins=(a.outs[0], fresh()))
    assert check_packet([a, b], V73, isa=ISA_).reason == DEPENDENCY
    assert check_packet([b, op("vadd_b", outs=b.ins[:1])], V73, isa=ISA_) is None    # WAR: old value read
    cur = op("vmem_ld_cur")
    assert check_packet([cur, op("vadd_b", ins=(cur.outs[0], fresh()))], V73, isa=ISA_) is None
    new = op("vmem_st_new", ins=a.outs)
    assert check_packet([a, new], V73, isa=ISA_) is None
    err = check_packet([new], V73, isa=ISA_)
    assert err.reason == NO_PRODUCER and "has no producer" in str(err)
    st = op("vmem_st")
    assert check_packet([st, op("vmem_ld")], V73, isa=ISA_).reason == DEPENDENCY


def test_assignment_names_slots_and_units():
    slots, units = assign_packet([V73.vliw_class("vliwtoy.ldu"), V73.vliw_class("vliwtoy.mpy"),
                                  V73.vliw_class("vliwtoy.mpy")], slots=4)
    assert slots[0] == {0, 1} and {min(s) for s in slots[1:]} == {2, 3}
    assert units[0] == {"LD", "XLANE"} and units[1] | units[2] == {"MPY0", "MPY1"}
    assert assign_packet([V73.vliw_class("vliwtoy.ldu"), V73.vliw_class("vliwtoy.ld")], slots=4) is None


def test_greedy_packets_in_order():
    """A LUT-loop body packs as the canonical packet of isa.md §3.6; a dependency opens the next."""
    tmp = op("vmem_ld_tmp")
    lut = op("vlut16", ins=(tmp.outs[0], fresh(), fresh("r")))
    acc0 = op("vadd_b", ins=(fresh(), lut.outs[0]))
    acc1 = op("vadd_b", ins=(fresh(), lut.outs[1]))
    packets = form_packets([tmp, lut, acc0, acc1], V73, isa=ISA_)
    assert [len(p) for p in packets] == [2, 2]          # the adds read the LUT's result: next packet
    indep = [op("vadd_b") for _ in range(6)]
    packets = form_packets([tmp, lut, *indep], V73, isa=ISA_)
    assert [len(p) for p in packets] == [4, 4]
    assert all(isinstance(p, Packet) and not p.stated for p in packets)
    assert packets[0].units[1] == {"XLANE", "SHIFT"}


def test_tmp_load_moves_to_its_readers_packet():
    """A .tmp load and its reader must share a packet: when the reader does not fit, the packet
    closes before the load."""
    luts = [op("vlut32"), op("vadd_b"), op("vadd_b")]
    tmp = op("vmem_ld_tmp")
    reader = op("vlut16", ins=(tmp.outs[0], fresh(), fresh("r")))       # XLANE taken by the vlut32
    packets = form_packets([*luts, tmp, reader], V73, isa=ISA_)
    assert [p.instrs for p in packets] == [tuple(luts), (tmp, reader)]
    late = op("vadd_b", ins=(tmp.outs[0], fresh()))
    with pytest.raises(PacketError) as exc:
        form_packets([tmp, reader, *[op("vadd_b") for _ in range(2)], late], V73, isa=ISA_)
    assert exc.value.reason in (FORWARD_ONLY, SLOT_ERROR)


def test_new_store_joins_its_producer():
    a = op("vadd_b")
    st = op("vmem_st_new", ins=a.outs)
    fill = [op("vlut32"), op("vasr_h"), op("vrmpy_vv")]
    packets = form_packets([*fill, a, st], V73, isa=ISA_)
    assert [p.instrs for p in packets] == [tuple(fill), (a, st)]
    with pytest.raises(PacketError, match="no producer"):
        form_packets([a, op("vlut32"), op("vlut32"), st], V73, isa=ISA_)


def test_stated_packets_are_kept_and_checked():
    a, b = op("vadd_b", packet=1), op("vand", packet=1)
    c = op("vadd_b")
    packets = form_packets([a, b, c], V73, isa=ISA_)
    assert [(p.instrs, p.stated) for p in packets] == [((a, b), True), ((c,), False)]
    bad = [op("vrmpy_acc", packet=2), op("vrmpy_acc", packet=2)]
    assert len(form_packets(bad, V73, isa=ISA_)) == 1
    with pytest.raises(PacketError, match="slot error"):
        form_packets(bad, V68, isa=ISA_)


def test_builder_states_packets():
    b = ProgramBuilder(ISA_, "stated")
    src = b.buffer("src", 128 * 8)
    dst = b.buffer("dst", 128 * 8, role="output")
    r = b.addi(b.reg("r"))
    with b.loop("i", 8) as i:
        with b.packet():
            t = b.vmem_ld_tmp(src[i * 128])
            lo, hi = b.vlut16(t, b.reg("v"), r)
        with b.packet():
            s = b.vadd_b(lo, hi)
            b.vmem_st_new(dst[i * 128], s)
    prog = b.build()
    loop = prog.body[1]
    assert [ins.packet for ins in loop.body] == [1, 1, 2, 2]
    assert "{" in prog.to_text()
    items = packetize(prog.body, V73, isa=ISA_)
    assert isinstance(items[1], LoopPackets)
    assert [len(p) for p in items[1].packets()] == [2, 2] and all(p.stated for p in items[1].packets())

    b = ProgramBuilder(ISA_, "bad")
    x = b.vadd_b(b.reg("v"), b.reg("v"))
    with pytest.raises(PacketError, match="same packet") as exc:
        with b.packet():
            y = b.vand(x, x)
            b.vadd_b(y, y)
    assert exc.value.reason == DEPENDENCY
    with pytest.raises(ProgramError, match="packet inside a packet"):
        with b.packet():
            with b.packet():
                pass
    with pytest.raises(ProgramError, match="inside a stated packet"):
        with b.packet():
            with b.loop("j", 2):
                pass


def test_packets_keep_program_semantics():
    """Stated packets change nothing in the functional run (the executor ignores them): a WAR
    pair in one packet reads the old value, as program order does."""
    from isa_models.core.execute import execute

    def build(stated: bool):
        b = ProgramBuilder(ISA_, "p")
        src = b.buffer("src", 256)
        dst = b.buffer("dst", 256, role="output")
        x = b.vmem_ld(src[0])
        y = b.vmem_ld(src[128])
        with b.packet() if stated else contextlib.nullcontext():
            s = b.vadd_b(x, y)
            b.vand(y, x, out=x)                 # overwrites x, read by the vadd above
        b.vmem_st(dst[0], s)
        b.vmem_st(dst[128], x)
        return b.build()

    data = np.arange(256, dtype=np.uint8)
    plain, stated = (execute(build(s), {"src": data, "dst": np.zeros(256, np.uint8)})["dst"] for s in (False, True))
    assert np.array_equal(plain, stated) and plain[0] == 0
