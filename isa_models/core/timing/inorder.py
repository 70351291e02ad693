"""In-order timing engine: up to `dispatch_width` instructions issue per cycle, in program order.

Engine layer (A55/A510/A520-style dual issue; DESIGN.md §3). Each cycle the engine tries the
next instructions in order: one issues when all its register operands are ready (read advance
applied), every micro-op finds a free port of its group, and the issue caps allow it; the first
one that cannot issue stalls itself and everything behind it (a `Stall` event names operands or
the port). Folded loads delay the result by the load-to-use latency. Retire is in order.
"""

from __future__ import annotations

from isa_models.core.machine import Machine
from isa_models.core.timing.descriptors import TimingDesc
from isa_models.core.timing.events import Dispatched, Executed, Issued, Retired, Stall
from isa_models.core.timing.ooo import BodySim

__all__ = ["simulate_inorder"]


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
    cycle = 0
    it, pos = 0, 0
    while it < iterations:
        issued = 0
        cap_count = {c.name: 0 for c in machine.issue_caps}
        cap_classes: dict[str, set] = {c.name: set() for c in machine.issue_caps}
        while issued < width and it < iterations:
            d = body[pos]
            reason = None
            for r, adv in d.reads:
                if ready.get(r, 0) - adv > cycle:
                    reason = "operands"
                    break
            for r, delay in d.retire_reads:      # failed forward: in order, retire = completion
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
            result = cycle + d.load_latency + d.latency
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
        cycle += 1
    measured = max(1, iterations - measure_from)
    return BodySim(iterations, retire_cycles, max(1, measure_from) if iterations > 1 else 0,
                   {p: v / measured for p, v in busy_measured.items()}, stalls, max(cycle, last_retire + 1))
