"""time_program: a Program on a Machine -> cycles, per-loop results, bounds and the binding one.

Engine layer, the composition step (DESIGN.md §3, use 2). `time_program` is the one timing entry
for every engine: it checks that the machine is for the program's ISA and has every ISA extension
the program's forms require, then hands the program to the engine registered for the machine's
engine kind (`engines.py`). The CPU engines (``ooo``, ``inorder``) are `time_cpu_program`: each
loop's instructions are simulated as a repeated body by the machine's engine (out-of-order or
in-order) to get steady-state cycles per iteration. A short inner loop (its whole execution at
most `FLATTEN_WINDOWS` reorder buffers of micro-ops) is flattened: unrolled in place into its
parent's body (each copy with the child's index fixed in its memory offsets, so store-to-load
forwarding compares exact bytes), so its start-up, drain and the overlap of consecutive parent
iterations are simulated rather than composed. Longer child loops add their composed cycles and
the trip count multiplies (parallel loops simply iterate on one core). The memory model bounds
every loop by its footprint; a loop's cycles are max(compute, memory), with the binding bound
named. Straight-line code at the top level is simulated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isa_models.core.machine import Machine, MachineError
from isa_models.core.program import Affine, Instr, Loop, Mem, Program
from isa_models.core.timing.bounds import Bound, compute_bounds
from isa_models.core.timing.descriptors import describe
from isa_models.core.timing.engines import get_engine, register_engine
from isa_models.core.timing.events import Event, Listener, LoopInfo
from isa_models.core.timing.inorder import list_schedule, simulate_inorder
from isa_models.core.timing.memory import footprint
from isa_models.core.timing.ooo import simulate_ooo, steady_state_iterations

__all__ = ["LoopResult", "TimingResult", "time_program", "time_cpu_program", "FLATTEN_WINDOWS"]

#: A child loop is flattened into its parent when its whole execution (trip x micro-ops of its
#: own flattened body) is at most this many reorder buffers. Below that the core holds most of
#: the loop, its start-up and its drain in flight together with the neighbouring parent
#: iterations, so the boundary transient (first load latency, accumulator chains, reductions) is
#: a large part of the loop and overlaps across parent iterations; composing a steady-state rate
#: times the trip gets it wrong both ways. Beyond two windows the transient (at most about one
#: window of fill plus one chain drain) is amortized over the trip and composition is accurate
#: to roughly window / (trip x uops). Zen 4: 2 x 320 = 640 micro-ops.
FLATTEN_WINDOWS = 2


@dataclass
class LoopResult:
    """Timing of one loop (or "<top>"), for one execution of the loop (all its iterations).

    body_cycles_per_iteration : simulated steady-state cycles per iteration of the loop's body:
        its own instructions plus the flattened child loops unrolled in place (0 if empty).
    n_instructions, uops_per_iteration : of that simulated (flattened) body.
    compute_cycles : trip * (body cycles per iteration + composed children's cycles).
    flattened : child loops unrolled into this body (their own results stay in `loops`, timed
        standalone for their bounds and views, but their cycles are not added here).
    flattened_into : the parent this loop was unrolled into ("" when composed).
    memory_cycles : the footprint moved from its level (`memory_level`).
    cycles : max(compute, memory); `binding` names the bound that sets it.
    bounds : per-iteration compute bounds of the loop's own body, the composed per-iteration
        cycles when it has inner loops ("composed"), and the memory bound per iteration.
    """

    loop: str
    depth: int
    trip: int
    parallel: bool
    n_instructions: int
    uops_per_iteration: int
    body_cycles_per_iteration: float
    compute_cycles: float
    memory_cycles: float
    memory_level: str
    footprint_bytes: int
    cycles: float
    binding: str
    bounds: list[Bound] = field(default_factory=list)
    port_cycles: dict = field(default_factory=dict)
    stalls: dict = field(default_factory=dict)
    simulated_iterations: int = 0
    flattened: tuple[str, ...] = ()
    flattened_into: str = ""

    @property
    def cycles_per_iteration(self) -> float:
        return self.cycles / self.trip

    def to_json(self) -> dict:
        return {"loop": self.loop, "depth": self.depth, "trip": self.trip, "parallel": self.parallel,
                "instructions": self.n_instructions, "uops_per_iteration": self.uops_per_iteration,
                "body_cycles_per_iteration": self.body_cycles_per_iteration,
                "compute_cycles": self.compute_cycles, "memory_cycles": self.memory_cycles,
                "memory_level": self.memory_level, "footprint_bytes": self.footprint_bytes,
                "cycles": self.cycles, "cycles_per_iteration": self.cycles_per_iteration,
                "binding": self.binding, "bounds": [b.to_json() for b in self.bounds],
                "port_cycles_per_iteration": self.port_cycles, "stalls": self.stalls,
                "simulated_iterations": self.simulated_iterations, "flattened": list(self.flattened),
                "flattened_into": self.flattened_into}


@dataclass
class TimingResult:
    """Result of `time_program` on any engine: total cycles, time at the machine clock, per-loop
    results (program order, outer first), the program-level bounds and the binding one.

    Attributes
    ----------
    cycles : total cycles; `seconds` at the machine's clock.
    compute_cycles, memory_cycles : the program's compute figure and its memory bound.
    memory_level : where the working set comes from ("L2", "DRAM").
    binding : a sentence naming the binding bound or unit.
    loops : one `LoopResult` per loop ("<top>" first).
    instructions : instructions executed (commands, for a command-stream engine).
    events : count of each event kind emitted.
    bytes_moved : bytes the program moves from/to `memory_level` (CPU engines: the whole
        program's footprint; a MAC array: DRAM bytes read and written by its DMA).
    extra : engine-specific figures, JSON-ready (a MAC array: utilization, stall cycles by
        cause, unit busy cycles, DRAM and SRAM traffic, ideal cycles, the program's plan).
    """

    program: str
    machine: Machine
    cycles: float
    compute_cycles: float
    memory_cycles: float
    memory_level: str
    binding: str
    loops: list[LoopResult]
    instructions: int
    events: dict = field(default_factory=dict)
    bytes_moved: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def total_cycles(self) -> float:
        return self.cycles

    @property
    def seconds(self) -> float:
        return self.cycles / (self.machine.clock_ghz * 1e9)

    @property
    def ipc(self) -> float:
        return self.instructions / self.cycles if self.cycles else 0.0

    def loop(self, name: str) -> LoopResult:
        for lr in self.loops:
            if lr.loop == name:
                return lr
        raise KeyError(f"program {self.program} has no loop {name!r}; loops: "
                       f"{', '.join(lr.loop for lr in self.loops)}")

    def to_json(self) -> dict:
        return {"program": self.program, "machine": self.machine.name, "engine": self.machine.engine,
                "clock_ghz": self.machine.clock_ghz,
                "cycles": self.cycles, "seconds": self.seconds, "ipc": self.ipc,
                "instructions": self.instructions, "compute_cycles": self.compute_cycles,
                "memory_cycles": self.memory_cycles, "memory_level": self.memory_level,
                "bytes_moved": self.bytes_moved,
                "binding": self.binding, "loops": [lr.to_json() for lr in self.loops],
                "events": self.events, "extra": self.extra}


def _at_index(instrs: list[Instr], index: str, value: int) -> list[Instr]:
    """`instrs` with loop index `index` fixed at `value` in every memory offset (one unrolled copy
    of a flattened child loop: its stores and loads then compare by constant byte offsets)."""
    out = []
    for ins in instrs:
        if not any(isinstance(x, Mem) and index in x.offset.indices for x in (*ins.outs, *ins.ins)):
            out.append(ins)
            continue

        def fix(x):
            if not isinstance(x, Mem) or index not in x.offset.indices:
                return x
            coeff = dict(x.offset.terms)[index]
            rest = tuple((n, c) for n, c in x.offset.terms if n != index)
            return Mem(x.buffer, Affine(x.offset.const + coeff * value, rest))
        out.append(Instr(ins.op, tuple(map(fix, ins.outs)), tuple(map(fix, ins.ins)), ins.comment))
    return out


class Fanout:
    """Calls every listener's `on_event` and counts events by kind (`TimingResult.events`)."""

    def __init__(self, listeners):
        self.listeners = tuple(listeners)
        self.counts: dict[str, int] = {}

    def __call__(self, event: Event) -> None:
        kind = type(event).__name__
        self.counts[kind] = self.counts.get(kind, 0) + 1
        for lst in self.listeners:
            lst.on_event(event)


def time_program(program: Program, machine: Machine, *, listeners=(), cold: bool = False) -> TimingResult:
    """Time `program` on `machine`, with the engine registered for ``machine.engine``.

    Parameters
    ----------
    listeners : `Listener` objects (views) receiving loop, event and result callbacks.
    cold : take the program's working set from DRAM (a streaming run, e.g. one decode step
        over a model that does not fit the caches) instead of the smallest level holding it.

    Raises
    ------
    MachineError (a UserError) : a machine of another ISA; `MissingExtensionError` when the
        program uses a form needing an ISA extension the machine lacks ("machine alderlake-p
        lacks avx512_vnni, avx512vl, needed by vpdpbusd_ymm in program ..."); no engine for the
        machine's kind; and what the engine refuses (a scheduling class without timing: "machine
        zen4: class avx2.vpshufb has no timing").
    """
    if machine.isa != program.isa.name:
        raise MachineError(f"machine {machine.name} is for ISA {machine.isa}, program {program.name} "
                           f"is {program.isa.name}")
    machine.check_program(program)
    return get_engine(machine.engine)(program, machine, listeners=tuple(listeners), cold=cold)


def time_cpu_program(program: Program, machine: Machine, *, listeners=(), cold: bool = False) -> TimingResult:
    """The ``ooo`` and ``inorder`` engines: simulate each loop body, compose loops (module doc).

    Raises
    ------
    MachineError : a scheduling class without timing, or rename registers of a register class
        the ISA lacks.
    """
    unknown = sorted(set(machine.rename_registers) - set(program.isa.register_files))
    if unknown:
        raise MachineError(f"machine {machine.name}: rename_registers names register class "
                           f"{unknown[0]!r}, which ISA {program.isa.name} does not have "
                           f"({', '.join(program.isa.register_files)})")
    for _, ins in program.instructions():           # fail early on any missing class
        machine.timing(program.isa[ins.op].sched_class)
    fan = Fanout(listeners)
    emit = fan if listeners else None
    results: list[LoopResult] = []

    window = FLATTEN_WINDOWS * machine.rob_size

    def time_nodes(nodes, name, depth, trip, parallel, outer):
        """Time one loop (or the top level); returns (result, flattened body, its micro-ops)."""
        slot = len(results)
        results.append(None)                       # keep program order: parent before children
        body: list[Instr] = []
        flattened, composed = [], []
        for n in nodes:
            if isinstance(n, Instr):
                body.append(n)
                continue
            if not isinstance(n, Loop):
                continue
            child, child_body, child_uops = time_nodes(n.body, n.index, depth + 1, n.trip, n.parallel,
                                                       outer + (n.index,))
            if name != "<top>" and child_body is not None and n.trip * child_uops <= window:
                for value in range(n.trip):        # unrolled in place: simulated, not composed
                    body.extend(_at_index(child_body, n.index, value))
                child.flattened_into = name
                flattened.append(child)
            else:
                composed.append(child)
        descs = describe(program, body, machine, index=None if name == "<top>" else name)
        if machine.list_schedule:                 # only [inorder] machines may set it (cpu.py)
            descs = list_schedule(descs, machine)
        uops = sum(d.n_uops for d in descs)
        body_cpi, bounds, ports, stalls, iters = 0.0, [], {}, {}, 0
        if descs:
            iters = 1 if name == "<top>" else steady_state_iterations(uops, machine.rob_size)
            for lst in listeners:
                lst.on_loop_begin(LoopInfo(name, depth, trip, tuple(d.text for d in descs),
                                           tuple(d.sched_class for d in descs), iters, machine.ports))
            sim = (simulate_ooo if machine.engine == "ooo" else simulate_inorder)(
                descs, machine, iterations=iters, loop=name, emit=emit)
            body_cpi, ports, stalls = sim.cycles_per_iteration, sim.port_cycles, sim.stalls
            bounds = compute_bounds(descs, machine)
        inner = sum(c.cycles for c in composed)
        compute = trip * (body_cpi + inner)
        scope = nodes if name == "<top>" else [Loop(name, trip, list(nodes), parallel)]
        fp = footprint(program, scope, outer=outer[:-1] if name != "<top>" else (), machine=machine,
                       from_dram=cold and name == "<top>")
        mem = fp.cycles
        if composed:
            bounds = bounds + [Bound("composed", compute / trip, f"own body {body_cpi:.2f} + inner loops "
                                     f"{inner:.2f} per iteration")]
        bounds = bounds + [Bound("memory", mem / trip, f"{fp.total} bytes from {fp.level} at "
                                 f"{fp.bytes_per_cycle:g} B/cycle")]
        if mem > compute:
            binding = f"memory ({fp.level})"
        elif descs and (body_cpi * trip >= 0.5 * compute or not composed):
            top = max((b for b in bounds if b.name != "memory"), key=lambda b: b.cycles)
            binding = f"{top.name} ({top.detail})" if top.cycles >= 0.9 * body_cpi else "latency/scheduling"
        elif composed:
            heavy = max(composed, key=lambda c: c.cycles)
            binding = f"inner loop {heavy.loop}: {heavy.binding}"
        else:
            binding = "empty"
        lr = LoopResult(name, depth, trip, parallel, len(descs), uops, body_cpi, compute, mem, fp.level,
                        fp.total, max(compute, mem), binding, bounds, ports, stalls, iters,
                        tuple(c.loop for c in flattened))
        results[slot] = lr
        for lst in listeners:
            lst.on_loop_end(lr)
        return lr, (None if composed else body), uops

    top, _, _ = time_nodes(program.body, "<top>", 0, 1, False, ())
    result = TimingResult(program.name, machine, top.cycles, top.compute_cycles, top.memory_cycles,
                          top.memory_level, top.binding, results, program.dynamic_count(), fan.counts,
                          bytes_moved=top.footprint_bytes)
    for lst in listeners:
        lst.on_program_end(result)
    return result


register_engine("ooo", time_cpu_program)
register_engine("inorder", time_cpu_program)
