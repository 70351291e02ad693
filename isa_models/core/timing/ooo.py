"""Out-of-order timing engine: dispatch -> schedule/issue on ports -> execute -> retire.

Engine layer, llvm-mca's default pipeline in one cycle loop. Per cycle, in this order:
retire (in order, up to the dispatch width, once executed), issue (oldest-first over the
scheduler: a micro-op needs its operands ready and a free port of its group; folded loads issue
first and delay the operation by the load-to-use latency; per-operand read advance; a failed
store-to-load forward waits for the store's retirement plus a penalty; issue caps over port
groups), dispatch (in order, up to the dispatch width in micro-ops, while the ROB, the
scheduler, the vector scheduler (micro-ops other than loads, dispatched and not yet issued) and
the machine's rename registers per register class have room; a written register holds one until
its instruction retires). A body is repeated `iterations` times so loop-carried register chains run
across iterations exactly; cycles per iteration are measured on the steady state (`simulate`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from isa_models.core.machine import Machine
from isa_models.core.timing.descriptors import TimingDesc
from isa_models.core.timing.events import Dispatched, Executed, Issued, Retired, Stall

__all__ = ["BodySim", "simulate_ooo", "steady_state_iterations"]

MIN_ITERATIONS = 24
MAX_ITERATIONS = 400


def steady_state_iterations(uops_per_iteration: int, window: int) -> int:
    """Iterations to simulate so that the second half is in steady state.

    The machine fills its window (ROB) within ``window / uops`` iterations; simulating twice
    that plus 16 leaves at least 8 + window/uops steady iterations to measure over; the
    measurement uses a whole number of periods of the retire pattern when it repeats, so a
    periodic steady state is measured exactly. llvm-mca's default of 100 iterations averages
    the fill/drain transient in instead; we exclude it.
    """
    fill = math.ceil(2 * window / max(1, uops_per_iteration)) + 16
    return max(MIN_ITERATIONS, min(MAX_ITERATIONS, fill))


@dataclass
class BodySim:
    """Result of simulating one body: retire cycle of each iteration's last instruction,
    port busy cycles over the measured window, and stall counts."""

    iterations: int
    retire_cycles: list[int]
    first_measured: int            # first iteration of the measured (steady-state) window
    port_cycles: dict[str, float] = field(default_factory=dict)   # per measured iteration
    stalls: dict[str, int] = field(default_factory=dict)
    total_cycles: int = 0

    @property
    def cycles_per_iteration(self) -> float:
        n = self.iterations
        if n == 1:
            return float(self.total_cycles)
        m = self.first_measured
        r = self.retire_cycles
        diffs = [r[i] - r[i - 1] for i in range(m, n)]
        span = len(diffs)
        for period in range(1, span // 2 + 1):          # measure whole periods of the schedule
            if all(diffs[i] == diffs[i + period] for i in range(span - period)):
                span = span - span % period
                break
        return (r[n - 1] - r[n - 1 - span]) / span


class _Inst:
    __slots__ = ("desc", "it", "dispatch", "issued", "result", "done", "producers", "load_done",
                 "compute_left", "uops_left", "bound", "retired", "after_retire")

    def __init__(self, desc: TimingDesc, it: int, producers, after_retire=()):
        self.desc, self.it = desc, it
        self.retired = None          # cycle it left the ROB
        self.after_retire = after_retire   # (store _Inst, delay): failed store-to-load forwards
        self.dispatch = -1
        self.result = None           # cycle the result (or completion) is available
        self.producers = producers   # (producer _Inst or None, advance)
        self.load_done = 0           # cycle all folded loads have delivered
        self.compute_left = sum(1 for u in desc.uops if not u.is_load)
        self.uops_left = len(desc.uops)
        self.done = 0                # latest completion over issued micro-ops
        self.bound = None            # per micro-op port choices (bound at dispatch) or None


def simulate_ooo(body: list[TimingDesc], machine: Machine, *, iterations: int, loop: str = "",
                 emit=None) -> BodySim:
    """Simulate `iterations` repetitions of `body` on an out-of-order `machine`.

    Parameters
    ----------
    body : timing descriptors of the loop body, in program order.
    iterations : repetitions; `BodySim.cycles_per_iteration` measures the second half.
    loop : loop name carried by events.
    emit : callable receiving each event, or None (no events built).
    """
    width, rob_size = machine.dispatch_width, machine.rob_size
    sched_size = machine.scheduler_size or rob_size
    vector_sched_size = machine.vector_scheduler_size
    vector_waiting = 0                          # non-load micro-ops dispatched, not yet issued
    load_ports = frozenset(machine.load_ports)
    # per body position and micro-op: does the vector scheduler hold it (neither a folded load
    # nor a pure load on the load ports)?
    in_vector_sched = [tuple(not u.is_load and not set(u.ports) <= load_ports for u in d.uops) for d in body]
    rename_free = dict(machine.rename_registers)   # register class -> free physical registers
    caps = machine.issue_caps
    credit = {c.name: 0.0 for c in caps}
    port_free = {p: 0 for p in machine.ports}
    port_use = {p: 0 for p in machine.ports}
    bind_at_dispatch = machine.port_binding == "dispatch"
    queued = {p: 0 for p in machine.ports}       # micro-ops bound to a port, not yet issued
    measure_from = iterations // 2 if iterations > 1 else 0
    busy_measured = {p: 0.0 for p in machine.ports}
    stalls: dict[str, int] = {}
    last_writer: dict = {}
    rob: list[_Inst] = []
    rob_head = 0
    rob_uops = 0
    pending: list[tuple[_Inst, int]] = []       # (instance, uop index) dispatched, not issued
    retire_cycles = [0] * iterations
    next_it, next_pos = 0, 0
    retired = 0
    total = iterations * len(body)
    cycle = 0
    guard = 1000 + total * (1000 + max((d.latency + d.load_latency for d in body), default=0))

    def stall(reason, inst_it, pos):
        stalls[reason] = stalls.get(reason, 0) + 1
        if emit:
            emit(Stall(cycle, loop, inst_it, pos, reason))

    while retired < total:
        if cycle > guard:
            raise RuntimeError(f"ooo engine: no progress on loop {loop!r} after {cycle} cycles")
        # ---- retire
        n = 0
        while rob_head < len(rob) and n < width:
            inst = rob[rob_head]
            if inst.uops_left or inst.result is None or inst.result > cycle:
                break
            rob_head += 1
            inst.retired = cycle
            rob_uops -= len(inst.desc.uops)
            for cls in _renamed(inst.desc, rename_free):
                rename_free[cls] += 1
            n += 1
            retired += 1
            if inst.desc.index == len(body) - 1:
                retire_cycles[inst.it] = cycle
            if emit:
                emit(Retired(cycle, loop, inst.it, inst.desc.index))
        # ---- issue (oldest first)
        for c in caps:                   # refill issue credits (fractional caps carry over)
            credit[c.name] = min(credit[c.name] + c.per_cycle, math.ceil(c.per_cycle))
        cap_classes: dict[str, set] = {c.name: set() for c in caps}
        still: list[tuple[_Inst, int]] = []
        for inst, u in pending:
            uop = inst.desc.uops[u]
            if inst.dispatch >= cycle or not _ready(inst, uop, cycle):
                still.append((inst, u))
                continue
            port = None
            choices = inst.bound[u] if inst.bound is not None else uop.ports
            for p in sorted(choices, key=port_use.__getitem__):
                if port_free[p] <= cycle:
                    port = p
                    break
            if port is None:
                still.append((inst, u))
                continue
            blocked = _capped(caps, port, inst.desc.sched_class, credit, cap_classes)
            if blocked is not None:
                stall(f"issue_cap:{blocked}", inst.it, inst.desc.index)
                still.append((inst, u))
                continue
            for c in caps:
                if port in c.ports:
                    credit[c.name] = max(0.0, credit[c.name] - 1)
                    cap_classes[c.name].add(inst.desc.sched_class)
            port_free[port] = cycle + uop.occupancy
            if inst.bound is not None:
                queued[port] -= 1
            port_use[port] += uop.occupancy
            if inst.it >= measure_from:
                busy_measured[port] += uop.occupancy
            inst.uops_left -= 1
            if uop.is_load:
                inst.load_done = max(inst.load_done, cycle + inst.desc.load_latency)
                inst.done = max(inst.done, cycle + inst.desc.load_latency)
            else:
                inst.compute_left -= 1
                if in_vector_sched[inst.desc.index][u]:
                    vector_waiting -= 1
                inst.done = max(inst.done, cycle + inst.desc.latency, cycle + uop.occupancy)
            if inst.uops_left == 0:
                inst.result = inst.done
                if emit:
                    emit(Executed(inst.result, loop, inst.it, inst.desc.index))
            if emit:
                emit(Issued(cycle, loop, inst.it, inst.desc.index, port, u, uop.occupancy))
        pending = still
        # ---- dispatch
        budget = width
        snapshot = dict(queued) if bind_at_dispatch else queued    # what this dispatch group sees
        while next_it < iterations and budget > 0:
            desc = body[next_pos]
            k = len(desc.uops)
            slots = max(1, k)            # a zero-uop instruction (zero idiom) still takes a rename slot
            if slots > budget and budget < width:
                break
            if rob_uops + k > rob_size:
                stall("rob_full", next_it, next_pos)
                break
            if len(pending) + k > sched_size:
                stall("scheduler_full", next_it, next_pos)
                break
            computes = sum(in_vector_sched[next_pos])
            if vector_sched_size is not None and vector_waiting and vector_waiting + computes > vector_sched_size:
                stall("vector_scheduler_full", next_it, next_pos)
                break
            renamed = _renamed(desc, rename_free)
            if any(rename_free[cls] < renamed.count(cls) for cls in renamed):
                stall("registers_full", next_it, next_pos)
                break
            for cls in renamed:
                rename_free[cls] -= 1
            inst = _Inst(desc, next_it, tuple((last_writer.get(r), adv) for r, adv in desc.reads),
                         tuple((last_writer.get(r), delay) for r, delay in desc.retire_reads))
            for r in desc.writes:
                last_writer[r] = inst
            inst.dispatch = cycle
            if bind_at_dispatch:
                inst.bound = [_bind(uop.ports, snapshot, port_use, queued) for uop in desc.uops]
            rob.append(inst)
            rob_uops += k
            vector_waiting += computes
            budget -= slots
            pending.extend((inst, u) for u in range(k))
            if k == 0:
                inst.result = cycle
            if emit:
                emit(Dispatched(cycle, loop, next_it, next_pos, k))
            next_pos += 1
            if next_pos == len(body):
                next_pos, next_it = 0, next_it + 1
        if rob_head > 4096:             # keep the ROB list short
            del rob[:rob_head]
            rob_head = 0
        cycle += 1
    measured = max(1, iterations - measure_from)
    return BodySim(iterations, retire_cycles, max(1, measure_from) if iterations > 1 else 0,
                   {p: v / measured for p, v in busy_measured.items()}, stalls, cycle)


def _renamed(desc: TimingDesc, rename_free) -> list[str]:
    """Register classes of the physical registers `desc` takes at dispatch (one per written
    register of a class the machine limits), held until it retires. A zero-uop instruction (zero
    idiom) takes none: [meas-Zen4] vpxor-zeroing fillers fill the 320-entry ROB, vpaddd fillers
    stop at ~160 in flight (isa_models/machines/README.md)."""
    if not rename_free or not desc.uops:
        return []
    return [r.cls for r in desc.writes if r.cls in rename_free]


def _bind(ports, snapshot, port_use, queued) -> tuple[str, ...]:
    """Dispatch-time port choice: the eligible port with the fewest queued micro-ops as counted
    at the start of the cycle (`snapshot`: one dispatch group binds on the same counts, so a
    group of one class piles onto one port); ties go to the least used port so far, then the
    first listed. The micro-op may then issue only there. `queued` is updated for later cycles.
    """
    best = min(ports, key=lambda p: (snapshot[p], port_use[p]))
    queued[best] += 1
    return (best,)


def _capped(caps, port, cls, credit, cap_classes):
    """Name of an issue cap this micro-op would exceed this cycle, or None.

    A cap binds when its group has less than one issue credit left this cycle; with
    `mixed_only`, only when the micro-ops issued on its group this cycle (including this one)
    come from more than one scheduling class.
    """
    for c in caps:
        if port not in c.ports or credit[c.name] >= 1 - 1e-9:
            continue
        if not c.mixed_only or cap_classes[c.name] - {cls}:
            return c.name
    return None


def _ready(inst: _Inst, uop, cycle: int) -> bool:
    for store, delay in inst.after_retire:   # failed forward: the store's data from the cache
        if store is not None and (store.retired is None or store.retired + delay > cycle):
            return False
    if uop.is_load:
        return True
    if inst.load_done > cycle or any(u.is_load for u in inst.desc.uops) and \
            inst.uops_left > inst.compute_left:
        return False                 # folded loads not issued or not delivered yet
    for prod, adv in inst.producers:
        if prod is None:
            continue
        if prod.result is None or prod.result - adv > cycle:
            return False
    return True
