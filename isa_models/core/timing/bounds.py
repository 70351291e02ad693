"""Analytic lower bounds on cycles per iteration of one loop body (uiCA/Facile style).

Engine layer, next to the simulators so every simulated figure is shown with its cause
(research/style.md §6.6). Bounds: `ports` (the exact fractional port-assignment bound: the max
over port sets S of micro-op cycles that can only run on S, divided by |S|), `issue_cap` (a
capped port group when its classes mix), `dispatch` (micro-ops / dispatch width) and
`recurrence` (the loop-carried dependency chain: the growth per iteration of an
infinite-resource schedule, i.e. the max over dependence cycles of latency / distance).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from isa_models.core.machine import Machine
from isa_models.core.timing.descriptors import TimingDesc

__all__ = ["Bound", "compute_bounds", "port_bound", "recurrence_bound"]


@dataclass(frozen=True)
class Bound:
    """One lower bound: `name` (ports / issue_cap / dispatch / recurrence / memory), cycles per
    iteration (or per loop execution for memory), and `detail` naming the resource."""

    name: str
    cycles: float
    detail: str

    def to_json(self) -> dict:
        return {"name": self.name, "cycles": self.cycles, "detail": self.detail}


def port_bound(body: list[TimingDesc], machine: Machine) -> Bound:
    """Exact lower bound from port capacity (Hall's condition over port subsets)."""
    demand: dict[frozenset, float] = {}
    for d in body:
        for u in d.uops:
            key = frozenset(u.ports)
            demand[key] = demand.get(key, 0.0) + u.occupancy
    if not demand:
        return Bound("ports", 0.0, "no micro-ops")
    used = sorted(set().union(*demand))
    best, best_set = 0.0, ()
    for k in range(1, len(used) + 1):
        for subset in combinations(used, k):
            s = set(subset)
            load = sum(v for g, v in demand.items() if g <= s)
            if load / k > best + 1e-12:
                best, best_set = load / k, subset
    return Bound("ports", best, "+".join(best_set))


def _cap_bounds(body: list[TimingDesc], machine: Machine) -> list[Bound]:
    out = []
    for c in machine.issue_caps:
        n, classes = 0, set()
        for d in body:
            for u in d.uops:
                if set(u.ports) <= set(c.ports):
                    n += 1
                    classes.add(d.sched_class)
        if n and (len(classes) > 1 or not c.mixed_only):
            out.append(Bound("issue_cap", n / c.per_cycle,
                             f"{c.name}: {n} uops on {c.group} ({len(classes)} classes), {c.per_cycle}/cycle"))
    return out


def recurrence_bound(body: list[TimingDesc]) -> Bound:
    """Loop-carried dependency bound: slope of the dependency-only schedule over many iterations.

    Each instruction's result time is the max over its register inputs of (producer time - read
    advance), and of its folded loads' load-to-use latency, plus its operation latency; values
    written in an earlier iteration feed the next. Memory addresses depend only on loop indices, so
    a folded load issues early and its latency is off the register chain: only the
    register-to-register chain grows from iteration to iteration.
    The per-iteration growth converges to the maximum cycle ratio of the dependence graph; the
    schedule runs 4 x (loop-carried registers) + 16 iterations and measures the second half.
    """
    ready: dict = {}
    written: set = set()
    carried: set = set()                 # registers read before this body writes them
    for d in body:
        carried.update(r for r, _ in d.reads if r not in written)
        written.update(d.writes)
    carried &= written
    # a dependence cycle crosses at most one iteration per carried register, so the growth is
    # periodic after a transient of that many iterations (a flattened body has few of them)
    n_iter = 4 * min(len(body), len(carried)) + 16
    stamps = []
    best_reg, best_growth = None, 0.0
    history: dict = {}
    for it in range(n_iter):
        for d in body:
            start = max([ready.get(r, 0) - adv for r, adv in d.reads], default=0)
            t = max(start, d.load_latency) + d.latency      # the load ran ahead of the chain
            for r in d.writes:
                ready[r] = t
                history.setdefault(r, []).append(t)
        stamps.append(max(ready.values(), default=0))
    half = n_iter // 2
    slope = (stamps[-1] - stamps[half - 1]) / (n_iter - half)
    for r, times in history.items():
        if len(times) >= n_iter:
            g = (times[-1] - times[half - 1]) / (n_iter - half)
            if g > best_growth + 1e-9:
                best_reg, best_growth = r, g
    detail = f"chain through {best_reg}" if best_reg is not None and slope > 0 else "no loop-carried chain"
    return Bound("recurrence", slope, detail)


def compute_bounds(body: list[TimingDesc], machine: Machine) -> list[Bound]:
    """All compute bounds of one body, per iteration."""
    uops = sum(d.n_uops for d in body)
    bounds = [port_bound(body, machine)]
    bounds += _cap_bounds(body, machine)
    bounds.append(Bound("dispatch", uops / machine.dispatch_width,
                        f"{uops} uops / {machine.dispatch_width} per cycle"))
    bounds.append(recurrence_bound(body))
    return bounds
