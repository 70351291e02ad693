"""Timing descriptors: (instruction, machine) -> the frozen facts an engine simulates.

Engine layer, llvm-mca's InstrBuilder. The scheduling class gives latency, micro-ops with their
port choices and occupancy, and per-operand latency; every memory SOURCE operand adds one load
micro-op on the machine's load ports whose load-to-use latency comes before the operation
(llvm-mca's folded-load model), unless the class `includes_load` (pure loads). Register operands, their read advance (latency minus the
operand's own latency) and written registers come from the Program instruction. Store-to-load
forwarding within a body: a load whose bytes overlap an earlier store of the same body (same
buffer, byte ranges from the affine offsets, which in one iteration differ by a constant) depends
on the youngest such store through a memory token. If that store holds every byte the load reads,
the data is forwarded `store_forward_latency` cycles after the store's data (machine key; absent:
load-to-use after the store); otherwise (partial overlap, a wider load, a load spanning two
stores) forwarding fails and the load waits until the store has retired plus
`store_forward_fail_penalty` cycles (`TimingDesc.retire_reads`).
"""

from __future__ import annotations

from dataclasses import dataclass

from isa_models.core.machine import Machine
from isa_models.core.program import Affine, Instr, Mem, Program, VReg

__all__ = ["UopDesc", "TimingDesc", "describe", "memory_token", "forwarding_source"]


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
    retire_reads : (memory token, delay) pairs of failed store-to-load forwards: every micro-op
        waits until the store that wrote the token has retired, plus `delay` cycles.
    begin_group, end_group, retire_ooo : the class's in-order issue rules (`ClassTiming`).
    """

    index: int
    text: str
    sched_class: str
    uops: tuple[UopDesc, ...]
    latency: int
    reads: tuple[tuple[VReg, int], ...]
    writes: tuple[VReg, ...]
    load_latency: int
    retire_reads: tuple[tuple[VReg, int], ...] = ()
    begin_group: bool = False
    end_group: bool = False
    retire_ooo: bool = False

    @property
    def n_uops(self) -> int:
        return len(self.uops)


def memory_token(buffer: str, position: int) -> VReg:
    """The pseudo-register through which the store at `position` of a body feeds later loads of
    `buffer` in that body (negative id: never a Program register)."""
    return VReg(-1 - position, "mem", f"mem:{buffer}@")


def forwarding_source(stores, buffer: str, offset: Affine, width: int, *, carried=()):
    """Which earlier store a load of `width` bytes at `buffer` + `offset` reads, and whether it forwards.

    Parameters
    ----------
    stores : (buffer, offset, width, ...) of the earlier stores of the body, oldest first.
    carried : the same for the previous iteration's stores still the latest of their position
        (those after the load in the body), offsets already moved back one iteration; older than
        `stores`. Their offsets must differ from the load's by a constant to count.

    Returns
    -------
    (store, forwards): the entry of the youngest store overlapping the load, or None when none
    does.
    `forwards` is True when that store holds every byte the load reads. Offsets whose difference
    still depends on a loop index cannot be compared statically: such a store counts as
    overlapping and forwarding (the conservative dependence, as before the byte-range rule).
    """
    for store in reversed(stores):
        s_buf, s_off, s_width = store[:3]
        if s_buf != buffer:
            continue
        delta = offset - s_off                       # load start relative to store start
        if delta.terms:
            return store, True
        lo = delta.const
        if lo + width <= 0 or lo >= s_width:
            continue                                 # disjoint bytes: look at older stores
        return store, lo >= 0 and lo + width <= s_width
    for store in reversed(carried):
        s_buf, s_off, s_width = store[:3]
        delta = offset - s_off
        if s_buf != buffer or delta.terms:
            continue
        lo = delta.const
        if lo + width <= 0 or lo >= s_width:
            continue
        return store, lo >= 0 and lo + width <= s_width
    return None


def describe(program: Program, instrs: list[Instr], machine: Machine, *,
             index: str | None = None) -> list[TimingDesc]:
    """Timing descriptors of `instrs` (one loop body, in order) on `machine`.

    `index` names the loop the body repeats: a load then also reads what the previous iteration
    stored after it in the body (offsets with `index` one less), e.g. a value carried in memory.

    Raises MachineError ("machine zen4: class avx2.vpshufb has no timing") for a missing class.
    """
    out = []
    stores: list[tuple[str, Affine, int, VReg, int]] = []   # (buffer, offset, width, token, latency)
    all_stores = []                                          # (position, entry) of every store
    for pos, ins in enumerate(instrs):
        d = program.isa[ins.op]
        for spec, x in zip(d.outs, ins.outs):
            if isinstance(x, Mem):
                step = dict(x.offset.terms).get(index, 0) if index else 0
                all_stores.append((pos, (x.buffer, x.offset - step, spec.width, memory_token(x.buffer, pos),
                                         machine.timing(d.sched_class).latency)))
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
        retire_reads = []
        for spec, x in zip(d.ins, ins.ins):          # store-to-load forwarding within the body
            if not isinstance(x, Mem):
                continue
            carried = [e for p, e in all_stores if p >= pos] if index else []
            found = forwarding_source(stores, x.buffer, x.offset, spec.width, carried=carried)
            if found is None:
                continue
            (_, _, _, token, store_latency), forwards = found
            if forwards or machine.store_forward_fail_penalty is None:
                reads.append((token, _forward_advance(machine, t, store_latency)))
            else:
                retire_reads.append((token, machine.store_forward_fail_penalty))
        writes = tuple(x for x in ins.outs if isinstance(x, VReg))
        for spec, x in zip(d.outs, ins.outs):
            if isinstance(x, Mem):
                token = memory_token(x.buffer, pos)
                stores.append((x.buffer, x.offset, spec.width, token, t.latency))
                writes += (token,)
        out.append(TimingDesc(pos, str(ins), d.sched_class, tuple(uops), t.latency, tuple(reads),
                              writes, machine.load_to_use if n_loads else 0, tuple(retire_reads),
                              t.begin_group, t.end_group, t.retire_ooo))
    return out



def _forward_advance(machine: Machine, load_class, store: int) -> int:
    """Read advance of a forwarded memory token (ready `store` cycles, the store's latency, after
    the store's data).

    Without `store_forward_latency` the load starts when the token is ready (a pure load) or
    load-to-use before its operation (a folded load), as an ordinary cache hit. With it, the
    loaded value is ready `store_forward_latency` cycles after the store's data: a pure load
    (latency L) may start `L - forward` cycles after the data, a folded load's operation
    `forward` cycles after it.
    """
    forward = machine.store_forward_latency
    if forward is None:
        return 0 if load_class.includes_load else -machine.load_to_use
    if load_class.includes_load:
        return store + load_class.latency - forward
    return store - forward
