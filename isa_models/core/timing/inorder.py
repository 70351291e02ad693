"""In-order timing engine: up to `dispatch_width` instructions issue per cycle, in program order.

Engine layer (A55/A510/A520-style dual issue; DESIGN.md §3). Each cycle the engine tries the
next instructions in order: one issues when all its register operands are ready (read advance
applied), every micro-op finds a free port of its group in that same cycle (a class with two
micro-ops on a pair of 64-bit pipes takes both halves at once), the issue caps allow it, a
`begin_group` class is the first of its cycle, and with `writeback_in_order` its result is not
written back before an older one's (unless its class is `retire_ooo`); after an `end_group`
class nothing else issues that cycle. The first instruction that cannot issue stalls itself and
everything behind it (a `Stall` event names operands, the port, the issue group, the cap or the
write-back order). Folded loads delay the result by the load-to-use latency. Retire is in order.
With ``list_schedule`` a body is first reordered the way a compiler schedules for an in-order core
(`list_schedule`): the core runs compiled code, not the Program's order.
"""

from __future__ import annotations

from isa_models.core.machine import Machine
from isa_models.core.timing.descriptors import TimingDesc
from isa_models.core.timing.events import Dispatched, Executed, Issued, Retired, Stall
from isa_models.core.timing.ooo import BodySim

__all__ = ["simulate_inorder", "list_schedule"]


def _dependences(body: list[TimingDesc], machine: Machine) -> list[list[tuple[int, int]]]:
    """Per instruction, (earlier instruction, cycles it must follow it by): reads after writes
    (the writer's latency less the reader's read advance), writes after reads or writes of the
    same register (order only), and memory order: a store stays after every earlier load or
    store and before every later one."""
    preds: list[list[tuple[int, int]]] = [[] for _ in body]
    last_write: dict = {}
    readers: dict = {}
    mem: list[int] = []
    for k, d in enumerate(body):
        for r, adv in d.reads:
            if r in last_write:
                w = body[last_write[r]]
                preds[k].append((last_write[r], max(0, w.load_latency + w.latency - adv)))
        for r in d.writes:
            for j in readers.get(r, ()):
                preds[k].append((j, 0))
            if r in last_write:
                preds[k].append((last_write[r], 0))
        is_store = any(getattr(r, "cls", "") == "mem" for r in d.writes)
        is_load = any(u.is_load for u in d.uops) or machine.timing(d.sched_class).includes_load
        if is_store:
            preds[k] += [(j, 0) for j in mem]
        elif is_load:
            preds[k] += [(j, 0) for j in mem if any(getattr(r, "cls", "") == "mem" for r in body[j].writes)]
        if is_store or is_load:
            mem.append(k)
        for r, _ in d.reads:
            readers.setdefault(r, []).append(k)
        for r in d.writes:
            last_write[r] = k
            readers[r] = []
    return preds


def list_schedule(body: list[TimingDesc], machine: Machine) -> list[TimingDesc]:
    """`body` reordered as a compiler's list scheduler would for an in-order core.

    Cycle by cycle, up to `dispatch_width` instructions whose dependences (`_dependences`) are
    met by that cycle are placed, highest first by their latency-weighted path to the end of
    the body (program order breaks ties). Only the order changes: the engine then issues the
    result in order with every port, group and write-back rule. Loop-carried dependences are
    not reordered across (each body keeps its iteration boundary).
    """
    n = len(body)
    if n < 2:
        return list(body)
    preds = _dependences(body, machine)
    succs: list[list[tuple[int, int]]] = [[] for _ in body]
    for k, ps in enumerate(preds):
        for j, lat in ps:
            succs[j].append((k, lat))
    height = [0] * n
    for k in range(n - 1, -1, -1):
        own = body[k].load_latency + body[k].latency
        height[k] = max([own] + [lat + height[s] for s, lat in succs[k]])
    waiting = [len(ps) for ps in preds]
    earliest = [0] * n
    ready = [k for k in range(n) if not waiting[k]]
    order: list[int] = []
    cycle = 0
    while len(order) < n:
        now = sorted((k for k in ready if earliest[k] <= cycle), key=lambda k: (-height[k], k))
        for k in now[:machine.dispatch_width]:
            ready.remove(k)
            order.append(k)
            for s, lat in succs[k]:
                earliest[s] = max(earliest[s], cycle + lat)
                waiting[s] -= 1
                if not waiting[s]:
                    ready.append(s)
        cycle += 1
    return [body[k] for k in order]


def simulate_inorder(body: list[TimingDesc], machine: Machine, *, iterations: int, loop: str = "",
                     emit=None) -> BodySim:
    """Simulate `iterations` repetitions of `body` on an in-order `machine` (see module doc)."""
    width = machine.dispatch_width
    port_free = {p: 0 for p in machine.ports}
    port_use = {p: 0 for p in machine.ports}
    measure_from = iterations // 2 if iterations > 1 else 0
    busy_measured = {p: 0.0 for p in machine.ports}
    ready: dict = {}                   # register -> cycle its latest value is available
    stalls: dict[str, int] = {}
    retire_cycles = [0] * iterations
    last_retire = 0
    last_writeback = 0                 # write-back cycle of the youngest in-order-completing result
    cycle = 0
    it, pos = 0, 0
    while it < iterations:
        issued = 0
        cap_count = {c.name: 0 for c in machine.issue_caps}
        cap_classes: dict[str, set] = {c.name: set() for c in machine.issue_caps}
        while issued < width and it < iterations:
            d = body[pos]
            reason = "issue_group" if d.begin_group and issued else None
            for r, adv in (() if reason else d.reads):
                if ready.get(r, 0) - adv > cycle:
                    reason = "operands"
                    break
            for r, delay in (() if reason else d.retire_reads):   # failed forward: retire = completion
                if ready.get(r, 0) + delay > cycle:
                    reason = "operands"
                    break
            chosen = []
            if reason is None:
                taken = set()
                for u in d.uops:
                    port = next((p for p in sorted(u.ports, key=port_use.__getitem__)
                                 if port_free[p] <= cycle and p not in taken), None)
                    if port is None:
                        reason = f"port:{'/'.join(u.ports)}"
                        break
                    taken.add(port)
                    chosen.append((port, u))
            if reason is None:
                for port, _ in chosen:
                    for c in machine.issue_caps:
                        if port in c.ports:
                            over = cap_count[c.name] + 1 > c.per_cycle
                            if over and (not c.mixed_only or cap_classes[c.name] - {d.sched_class}):
                                reason = f"issue_cap:{c.name}"
            result = cycle + d.load_latency + d.latency
            if reason is None and machine.writeback_in_order and not d.retire_ooo and result < last_writeback:
                reason = "writeback_order"
            if reason is not None:
                stalls[reason] = stalls.get(reason, 0) + 1
                if emit:
                    emit(Stall(cycle, loop, it, pos, reason))
                break
            if emit:
                emit(Dispatched(cycle, loop, it, pos, len(d.uops)))
            done = cycle
            for k, (port, u) in enumerate(chosen):
                port_free[port] = cycle + u.occupancy
                port_use[port] += u.occupancy
                if it >= measure_from:
                    busy_measured[port] += u.occupancy
                for c in machine.issue_caps:
                    if port in c.ports:
                        cap_count[c.name] += 1
                        cap_classes[c.name].add(d.sched_class)
                if emit:
                    emit(Issued(cycle, loop, it, pos, port, k, u.occupancy))
                done = max(done, cycle + u.occupancy)
            if machine.writeback_in_order and not d.retire_ooo:
                last_writeback = result
            done = max(done, result)
            for r in d.writes:
                ready[r] = result
            last_retire = max(last_retire, done)
            if emit:
                emit(Executed(done, loop, it, pos))
                emit(Retired(last_retire, loop, it, pos))
            issued += 1
            pos += 1
            if pos == len(body):
                retire_cycles[it] = last_retire
                pos, it = 0, it + 1
            if d.end_group:
                break
        cycle += 1
    measured = max(1, iterations - measure_from)
    return BodySim(iterations, retire_cycles, max(1, measure_from) if iterations > 1 else 0,
                   {p: v / measured for p, v in busy_measured.items()}, stalls, max(cycle, last_retire + 1))
