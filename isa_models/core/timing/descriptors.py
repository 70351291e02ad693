"""Timing descriptors: (instruction, machine) -> the frozen facts an engine simulates.

Engine layer, llvm-mca's InstrBuilder. The scheduling class gives latency, micro-ops with their
port choices and occupancy, and per-operand latency; every memory SOURCE operand adds one load
micro-op on the machine's load ports whose load-to-use latency comes before the operation
(llvm-mca's folded-load model), unless the class `includes_load` (pure loads). Register operands, their read advance (latency minus the
operand's own latency) and written registers come from the Program instruction. A load from a
buffer that an earlier instruction of the same body stored to depends on that store (the latest
one): the value comes through store-to-load forwarding, load-to-use cycles after the store's data
(a memory token the store writes and the load reads, so the engines need nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass

from isa_models.core.machine import Machine
from isa_models.core.program import Instr, Mem, Program, VReg

__all__ = ["UopDesc", "TimingDesc", "describe", "memory_token"]


@dataclass(frozen=True)
class UopDesc:
    """One micro-op: the ports it may use, cycles it holds one, and whether it is a folded load."""

    ports: tuple[str, ...]
    occupancy: int = 1
    is_load: bool = False


@dataclass(frozen=True)
class TimingDesc:
    """Everything an engine needs about one instruction of a simulated body.

    reads : (register, read advance) pairs: the operand may arrive `advance` cycles after the
        operation issues (latency - per-operand latency), like LLVM's ReadAdvance.
    load_latency : load-to-use latency of the folded load micro-ops (0 if none).
    """

    index: int
    text: str
    sched_class: str
    uops: tuple[UopDesc, ...]
    latency: int
    reads: tuple[tuple[VReg, int], ...]
    writes: tuple[VReg, ...]
    load_latency: int

    @property
    def n_uops(self) -> int:
        return len(self.uops)


def memory_token(buffer: str, position: int) -> VReg:
    """The pseudo-register through which the store at `position` of a body feeds later loads of
    `buffer` in that body (negative id: never a Program register)."""
    return VReg(-1 - position, "mem", f"mem:{buffer}@")


def describe(program: Program, instrs: list[Instr], machine: Machine) -> list[TimingDesc]:
    """Timing descriptors of `instrs` (one loop body, in order) on `machine`.

    Raises MachineError ("machine zen4: class avx2.vpshufb has no timing") for a missing class.
    """
    out = []
    last_store: dict[str, VReg] = {}          # buffer -> memory token of its latest store in this body
    for pos, ins in enumerate(instrs):
        d = program.isa[ins.op]
        t = machine.timing(d.sched_class)
        uops: list[UopDesc] = []
        n_loads = 0 if t.includes_load else sum(1 for x in ins.ins if isinstance(x, Mem))
        load_ports = machine.load_ports
        for _ in range(n_loads):
            uops.append(UopDesc(load_ports, 1, True))
        for ports, occ in zip(t.ports, t.occupancy):
            uops.append(UopDesc(ports, occ, False))
        reads = []
        for k, x in enumerate(ins.ins):
            if isinstance(x, VReg):
                advance = t.latency - t.operand_latency[k] if k in t.operand_latency else 0
                reads.append((x, advance))
        for x in ins.ins:                   # store-to-load forwarding within the body
            if isinstance(x, Mem) and x.buffer in last_store:
                # a pure load's latency is its load-to-use; a folded load comes load-to-use before the op
                reads.append((last_store[x.buffer], 0 if t.includes_load else -machine.load_to_use))
        writes = tuple(x for x in ins.outs if isinstance(x, VReg))
        stored = [x.buffer for x in ins.outs if isinstance(x, Mem)]
        for buffer in stored:
            last_store[buffer] = memory_token(buffer, pos)
        writes += tuple(last_store[b] for b in stored)
        out.append(TimingDesc(pos, str(ins), d.sched_class, tuple(uops), t.latency, tuple(reads),
                              writes, machine.load_to_use if n_loads else 0))
    return out
