"""A toy ISA for engine tests, docs examples and machine-schema demos (not a real target).

Engine layer. Two register files ("v": 8 registers of 16 bytes, "h": 8-byte narrow views used
by the `*_h` forms that zero-extend into "v" registers, VEX-style) and a handful of instructions
with the value convention of `isa_models.core.isa`: uint8 arrays shaped (P, nbytes). Scheduling
classes are "toy.<mnemonic>"; `toy_machine()` gives a matching machine description dict.
"""

from __future__ import annotations

import numpy as np

from isa_models.core.isa import ISA, imm, mem, reg

__all__ = ["TOY", "toy_machine"]

TOY = ISA("toy", register_files={"v": (8, 16)}, narrow_write="zero_extend")


@TOY.instruction("vload", outs=[reg("v", 16)], ins=[mem(16)], sched_class="toy.load")
def vload(m):
    return m.copy()


@TOY.instruction("vload_h", mnemonic="vload", outs=[reg("v", 8)], ins=[mem(8)], sched_class="toy.load")
def vload_h(m):
    return m.copy()


@TOY.instruction("vstore", outs=[mem(16)], ins=[reg("v", 16)], sched_class="toy.store")
def vstore(a):
    return a.copy()


@TOY.instruction("vadd", outs=[reg("v", 16)], ins=[reg("v", 16), reg("v", 16)], sched_class="toy.add")
def vadd(a, b):
    return (a + b).astype(np.uint8)


@TOY.instruction("vadd_m", mnemonic="vadd", outs=[reg("v", 16)], ins=[reg("v", 16), mem(16)],
                 sched_class="toy.add")
def vadd_m(a, b):
    return (a + b).astype(np.uint8)


@TOY.instruction("vaddw", outs=[reg("v", 16)], ins=[reg("v", 16), reg("v", 16)], sched_class="toy.add")
def vaddw(a, b):
    """int16 lane add (wraps)."""
    return (a.view(np.int16) + b.view(np.int16)).view(np.uint8)


@TOY.instruction("vmul", outs=[reg("v", 16)], ins=[reg("v", 16), reg("v", 16)], sched_class="toy.mul")
def vmul(a, b):
    return (a * b).astype(np.uint8)


@TOY.instruction("vmac", outs=[reg("v", 16)], ins=[reg("v", 16), reg("v", 16), reg("v", 16)],
                 sched_class="toy.mac", tied=(0,))
def vmac(acc, a, b):
    return (acc + a * b).astype(np.uint8)


@TOY.instruction("vshuf", outs=[reg("v", 16)], ins=[reg("v", 16), reg("v", 16)], sched_class="toy.shuf")
def vshuf(table, idx):
    """Byte table lookup; an index with the top bit set gives 0 (pshufb rule)."""
    out = np.take_along_axis(table, (idx & 15).astype(np.intp), axis=1)
    return np.where(idx & 0x80, 0, out).astype(np.uint8)


@TOY.instruction("vaddh", outs=[reg("v", 8)], ins=[reg("v", 8), reg("v", 8)], sched_class="toy.add")
def vaddh(a, b):
    """Narrow (8-byte) add: reads the low halves, the result zero-extends the register."""
    return (a + b).astype(np.uint8)


@TOY.instruction("vzero", outs=[reg("v", 16)], ins=[], sched_class="toy.add")
def vzero():
    return np.zeros((1, 16), dtype=np.uint8)


@TOY.instruction("vsplat", outs=[reg("v", 16)], ins=[imm(8)], sched_class="toy.add")
def vsplat(k):
    return np.full((1, 16), k & 0xFF, dtype=np.uint8)


def toy_machine(**overrides) -> dict:
    """A machine description (as parsed TOML) for TOY: 2 ALU ports, 1 multiplier, 1 load, 1 store.

    Keyword overrides replace keys of top-level tables (``ooo={...}``, the engine section) or add
    classes (``classes={...}``).
    """
    src = {"source": "toy machine for tests (isa_models/core/toy.py)"}
    data = {
        "machine": {**src, "name": "toy", "isa": "toy", "description": "toy core", "clock_ghz": 1.0,
                    "cores": 1, "extensions": []},
        "ooo": {**src, "dispatch_width": 4, "rob_size": 64, "load_to_use": 4},
        "ports": {**src, "names": ["A0", "A1", "M0", "L0", "S0"], "groups": {"ALU": ["A0", "A1"]},
                  "load": ["L0"], "store": ["S0"]},
        "classes": {
            "toy.load": {**src, "latency": 4, "uops": 1, "ports": ["L0"], "includes_load": True},
            "toy.store": {**src, "latency": 1, "uops": 1, "ports": ["S0"]},
            "toy.add": {**src, "latency": 1, "uops": 1, "ports": ["ALU"]},
            "toy.mul": {**src, "latency": 3, "uops": 1, "ports": ["M0"]},
            "toy.mac": {**src, "latency": 4, "uops": 1, "ports": ["M0"], "operand_latency": {"0": 1}},
            "toy.shuf": {**src, "latency": 1, "uops": 1, "ports": ["A1"]},
        },
        "memory": {**src, "levels": [{**src, "name": "L1", "size_bytes": 4096, "bytes_per_cycle": 32},
                                     {**src, "name": "L2", "size_bytes": 65536, "bytes_per_cycle": 8}],
                   "dram_gbps_core": 2.0, "dram_gbps_chip": 4.0},
    }
    for key, value in overrides.items():
        if key == "classes":
            data["classes"] = {**data["classes"], **value}
        else:
            data[key] = {**data.get(key, {}), **value}
    return data
