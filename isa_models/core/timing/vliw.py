"""The VLIW engine (``[vliw]`` machines): in-order packets per context, operand stages, contexts, VTCM/L2/DMA.

Engine layer, registered as the ``vliw`` engine (`time_program` dispatches to it). The Program's
instructions become packets (`isa_models.core.packets.packetize`: the kernel's stated packets as
given, the rest packed greedily in order); each loop's own packets are issued in order, one packet
per cycle per context, on a timeline that tracks when every register is written. Rules:

* **Operand stages** (isa.md §3.4; LLVM itineraries: results written at `def_stage` d = 9, late VA
  reads at stage 7, early multiply/shift/permute reads at 5, scalar reads at 1-2). A consumer packet
  issued k packets after its producer may read at stage s when ``2 k >= d - s`` (and k >= 1), i.e.
  it issues no earlier than ``producer issue + max(1, ceil((d - s) / 2))``. This is the one rule
  that gives both of the PRM's statements: a late (VA) read of the previous packet's result does
  not stall (d - s = 2), an early read stalls exactly one packet and one packet in between avoids it
  (d - s = 4); one packet of a context advances the pipeline by two itinerary stages. ``.cur``/
  ``.tmp`` loads and ``.new`` stores forward inside their packet (no wait).
* **Resources**: the packetizer gives each instruction a slot and units; a packet issues in one
  cycle, so per-unit pressure is bounded by packets (reported as utilisation and analytic bounds).
* **Hardware loops** cost nothing: the next iteration's first packet follows the last one.
* **Contexts**: the outermost parallel loop is split across ``min(contexts, trip)`` contexts, each
  its own packet stream and vector pipeline (V66: 4 contexts on 4 vector units, isa.md §3.1);
  memory bandwidth is shared.
* **Memory**: every buffer has a placement (``program.meta["placement"]``: buffer -> "vtcm",
  "l2", "l2fetch", "dma" or "ddr"; defaults below). VTCM serves a load and a store every packet
  (no extra bound: the packets carry it); "l2" reads at the L2 level's rate; "l2fetch" and "dma"
  stream from DDR at the machine's DDR share (DMA also at most `dma_bytes_per_cycle`, double
  buffered, its first tile's `dma_latency_cycles` exposed once); "ddr" (nothing prefetches) pays
  `l2_latency_cycles` per 128-byte line. A loop takes max(compute, memory).

Child loops whose whole execution is at most `FLATTEN_PACKETS` packets are unrolled into their
parent's simulated body (start-up and drain simulated); longer ones are composed (their cycles
added, the trip multiplying). Long loops are simulated for `SIM_ITERATIONS` iterations and
extrapolated at the steady rate of the second half. Loops are named in results, events and
``extra["loops"]`` by `loop_keys` (the index name, or a path when several loops share it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

from isa_models.core.asm_text import virtual_asm, virtual_register
from isa_models.core.machine import Machine, MachineError
from isa_models.core.packets import LoopPackets, Packet, packetize
from isa_models.core.program import Instr, Loop, Program, ProgramError, VReg
from isa_models.core.timing.bounds import Bound
from isa_models.core.timing.engines import register_engine
from isa_models.core.timing.events import Dispatched, Executed, Issued, LoopInfo, Retired, Stall
from isa_models.core.timing.memory import footprint
from isa_models.core.timing.run import Fanout, LoopResult, TimingResult

__all__ = ["time_vliw_program", "loop_keys", "PLACEMENTS", "operand_distance", "FLATTEN_PACKETS", "SIM_ITERATIONS"]

#: a child loop is unrolled into its parent when trip x its packets is at most this many
FLATTEN_PACKETS = 256
#: iterations simulated of a longer loop (the second half gives the steady rate)
SIM_ITERATIONS = 16
#: buffer placements a program may state in ``meta["placement"]``
PLACEMENTS = ("vtcm", "l2", "l2fetch", "dma", "ddr")


def operand_distance(def_stage: int, use_stage: int) -> int:
    """Packets a consumer reading at `use_stage` issues after a producer writing at `def_stage`
    (module doc): ``max(1, ceil((def_stage - use_stage) / 2))``."""
    return max(1, -(-(def_stage - use_stage) // 2))


@dataclass(frozen=True)
class _Op:
    """One instruction of a simulated body, as the engine sees it."""

    index: int
    text: str
    asm: str                                  # in the ISA's assembly syntax (`virtual_asm`)
    op: str
    reads: tuple[tuple[VReg, int], ...]       # (register, use stage)
    writes: tuple[VReg, ...]
    def_stage: int
    forwarding: str | None
    slots: frozenset
    units: frozenset
    cls: object                               # VliwClass


@dataclass(frozen=True)
class _Block:
    """A composed child loop inside a parent's body: `cycles` of issue, then the parent goes on."""

    loop: str
    cycles: float


@dataclass
class _Sim:
    """What simulating one body gives."""

    total: float                  # cycles of all simulated iterations
    per_iteration: float          # steady-state cycles per iteration
    prefix: float                 # cycles of the first `iterations - steady` iterations
    iterations: int
    stalls: dict
    unit_busy: dict               # unit or slot -> busy packets over the steady iterations
    steady_iterations: int
    listing: list                 # first steady iteration: (cycle offset, op indices)
    packets: int                  # packets issued in total (simulation speed)


def _ops(program: Program, machine: Machine, packet: Packet, start: int) -> list[_Op]:
    ops = []
    for k, (ins, slots, units) in enumerate(zip(packet.instrs, packet.slots, packet.units)):
        d = program.isa[ins.op]
        cls = machine.vliw_class(d.sched_class)
        regs = [(x, pos) for pos, x in enumerate(ins.ins) if isinstance(x, VReg)]
        if not cls.use_stages and regs:
            raise MachineError(f"machine {machine.name}: class {d.sched_class} gives no use stages, form "
                               f"{d.name} reads {len(regs)} registers")
        # forms sharing a class may read more operands than the class lists (an alias reading a
        # register pair where the instruction reads one register): those read at the last stage
        stage = lambda pos: cls.use_stages[min(pos, len(cls.use_stages) - 1)]  # noqa: E731
        ops.append(_Op(start + k, str(ins), virtual_asm(ins, program.isa), ins.op,
                       tuple((r, stage(pos)) for r, pos in regs),
                       tuple(x for x in ins.outs if isinstance(x, VReg)), cls.def_stage,
                       d.attrs.get("forwarding"), slots, units, cls))
    return ops


def _simulate(body: list, iterations: int, *, loop: str, emit, steady_from: int) -> _Sim:
    """Issue `body` (lists of `_Op` = packets, or `_Block`) `iterations` times in order."""
    ready: dict[VReg, tuple[int, int, _Op]] = {}         # register -> (issue cycle, def stage, producer)
    t = 0
    starts = []
    stalls: dict[str, int] = {}
    busy: dict[str, int] = {}
    listing: list = []
    n_packets = 0
    for it in range(iterations):
        starts.append(t)
        for item in body:
            if isinstance(item, _Block):
                t += int(math.ceil(item.cycles))
                continue
            earliest, why, who, key = t, None, item[0].index, ""
            written_here = {r: op.forwarding for op in item for r in op.writes}
            for op in item:
                for r, s in op.reads:
                    if r in written_here and (op.forwarding == "new" or written_here[r] in ("cur", "tmp")):
                        continue                  # forwarded inside the packet
                    got = ready.get(r)
                    if got is None:
                        continue
                    p, d, prod = got
                    need = p + operand_distance(d, s)
                    if need > earliest:
                        kind = "early" if d - s > 2 else "late"
                        earliest, who = need, op.index
                        why = (f"operand: {op.asm} reads {virtual_register(r)} at stage {s}, written at "
                               f"stage {d} by {prod.asm}")
                        key = f"{op.op} waits for {prod.op} ({kind} read)"
            if earliest > t:
                stalls[key] = stalls.get(key, 0) + (earliest - t)
                if emit is not None:
                    emit(Stall(t, loop, it, who, reason=why, cycles=earliest - t))
            t = earliest
            n_packets += 1
            if it >= steady_from:
                for op in item:
                    for u in (*op.units, *(f"S{s}" for s in op.slots)):
                        busy[u] = busy.get(u, 0) + 1
                if it == steady_from:
                    listing.append((t - starts[-1], tuple(op.index for op in item)))
            for op in item:
                if emit is not None:
                    emit(Dispatched(t, loop, it, op.index))
                    for u in (*sorted(op.units), *(f"S{s}" for s in sorted(op.slots))):
                        emit(Issued(t, loop, it, op.index, port=u))
                    emit(Executed(t + 1, loop, it, op.index))
                    emit(Retired(t + 1, loop, it, op.index))
                if op.forwarding == "tmp":
                    continue
                for r in op.writes:
                    ready[r] = (t, op.def_stage, op)
            t += 1
    steady = iterations - steady_from
    per = (t - starts[steady_from]) / steady if steady else 0.0
    return _Sim(float(t), per, float(starts[steady_from]) if steady_from < iterations else float(t), iterations,
                stalls, busy, steady, listing, n_packets)


def _hall_bound(demands: list[tuple[frozenset, ...]], names) -> tuple[float, str]:
    """Lower bound on cycles from requirements that each take one of several unit (or slot) sets:
    the max over subsets U of (the least units of requirements that can only use U) / |U|."""
    used = sorted({u for alts in demands for a in alts for u in a}, key=str)
    best, best_set = 0.0, ()
    for k in range(1, len(used) + 1):
        for subset in combinations(used, k):
            s = set(subset)
            load = sum(min(len(a) for a in alts) for alts in demands if all(a <= s for a in alts))
            if load / k > best + 1e-12:
                best, best_set = load / k, subset
    return best, "+".join(names(u) for u in best_set)


def _bounds(ops: list[_Op], n_packets: int, machine: Machine) -> list[Bound]:
    out = [Bound("packets", float(n_packets), f"{n_packets} packets per iteration, one per cycle")]
    unit_demands = [alts for op in ops for alts in op.cls.resources]
    if unit_demands:
        cyc, names = _hall_bound(unit_demands, str)
        out.append(Bound("resource", cyc, names))
    slot_demands = [op.cls.slots for op in ops]
    if slot_demands:
        cyc, names = _hall_bound(slot_demands, lambda s: f"slot {s}")
        out.append(Bound("slots", cyc, names))
    rec = _recurrence(ops)
    if rec is not None:
        out.append(rec)
    return out


def _recurrence(ops: list[_Op]) -> Bound | None:
    """Loop-carried chain: the growth per iteration of an unlimited-resource schedule."""
    if not ops:
        return None
    n = 8
    ready: dict[VReg, tuple[float, int, str]] = {}
    ends = []
    for _ in range(n):
        last, who = 0.0, ""
        for op in ops:
            t = 0.0
            for r, s in op.reads:
                got = ready.get(r)
                if got is not None:
                    t = max(t, got[0] + operand_distance(got[1], s))
            for r in op.writes:
                ready[r] = (t, op.def_stage, op.text)
            if t >= last:
                last, who = t, op.text
        ends.append((last, who))
    growth = (ends[-1][0] - ends[n // 2][0]) / (n - 1 - n // 2)
    if growth <= 0:
        return None
    return Bound("latency chain", growth, f"loop-carried operands through {ends[-1][1]}")


def _placements(program: Program, machine: Machine, cold: bool, total: int) -> dict[str, str]:
    given = program.meta.get("placement", {}) or {}
    if not isinstance(given, dict):
        raise ProgramError(f"program {program.name}: meta['placement'] must map buffer -> placement")
    out = {}
    for name, buf in program.buffers.items():
        p = given.get(name)
        if p is None:
            if cold:
                p = "l2fetch"
            elif total <= machine.vtcm_bytes:
                p = "vtcm"
            elif any(total <= lv.size_bytes for lv in machine.memory):
                p = "l2"
            else:
                p = "l2fetch"
        if p not in PLACEMENTS:
            raise ProgramError(f"program {program.name}: buffer {name} has placement {p!r}; valid: "
                               f"{', '.join(PLACEMENTS)}")
        out[name] = p
    unknown = sorted(set(given) - set(program.buffers))
    if unknown:
        raise ProgramError(f"program {program.name}: meta['placement'] names unknown buffer {unknown[0]!r}")
    return out


def _memory(per_buffer: dict, placement: dict, machine: Machine, line: int) -> tuple[float, str, str]:
    """(cycles, level, detail) for moving `per_buffer` bytes from their placements; a "ddr" load
    pays the L2 miss latency once per `line` bytes (one vector register of the ISA)."""
    ddr_bw = machine.dram_bytes_per_cycle
    dma_bw = min(machine.dma_bytes_per_cycle, ddr_bw)
    l2 = next((lv for lv in machine.memory if lv.name.upper() == "L2"), None)
    l2_bw = l2.bytes_per_cycle if l2 is not None else ddr_bw
    ddr = {"dma": 0, "l2fetch": 0, "ddr": 0}
    l2_bytes = 0
    for buf, n in per_buffer.items():
        p = placement[buf]
        if p in ddr:
            ddr[p] += n
        elif p == "l2":
            l2_bytes += n
    options = []
    streamed = ddr["dma"] + ddr["l2fetch"] + ddr["ddr"]
    if streamed:
        rate = dma_bw if ddr["dma"] and not ddr["l2fetch"] else ddr_bw
        via = "+".join(k for k in ("dma", "l2fetch", "ddr") if ddr[k])
        options.append((streamed / rate, f"DDR via {via}", f"{streamed} bytes from DDR ({via}) at {rate:g} B/cycle"))
    if ddr["ddr"]:
        lines = ddr["ddr"] / line
        options.append((lines * machine.l2_latency_cycles, "DDR latency",
                        f"{lines:g} lines not prefetched, {machine.l2_latency_cycles} cycles each"))
    if l2_bytes:
        options.append((l2_bytes / l2_bw, "L2", f"{l2_bytes} bytes from L2 at {l2_bw:g} B/cycle"))
    if not options:
        return 0.0, "VTCM", "every buffer in VTCM (a load and a store per packet)"
    return max(options, key=lambda o: o[0])


def time_vliw_program(program: Program, machine: Machine, *, listeners=(), cold: bool = False) -> TimingResult:
    """The ``vliw`` engine (module doc).

    Raises
    ------
    MachineError : a scheduling class without timing, or one whose use stages do not match its form.
    PacketError / ProgramError : a stated packet the machine cannot issue; a bad placement.
    """
    for _, ins in program.instructions():
        machine.vliw_class(program.isa[ins.op].sched_class)
    tree = packetize(program.body, machine, isa=program.isa)
    fan = Fanout(listeners)
    emit = fan if listeners else None
    results: list[LoopResult] = []
    info: dict[str, dict] = {}
    fp_all = footprint(program, program.body, machine=machine, from_dram=cold)
    placement = _placements(program, machine, cold, fp_all.total)
    counters = {"packets": 0, "contexts_used": 1, "split": None}
    units_order = tuple(f"S{s}" for s in range(machine.slots)) + tuple(machine.units)

    keys = loop_keys(tree)

    vector_bytes = max(w for _, w in program.isa.register_files.values())

    def time_items(items, name, depth, trip, parallel, outer, split_done, runs=1, index=None):
        # `name` keys the loop in results, events and extra["loops"] (unique); `index` is the
        # loop's own index name (what its memory offsets use)
        index = name if index is None else index
        slot = len(results)
        results.append(None)
        body: list = []
        ops_flat: list[_Op] = []
        flattened, composed = [], []
        split_here = parallel and not split_done and name != "<top>"
        for it in items:
            if isinstance(it, Packet):
                ops = _ops(program, machine, it, len(ops_flat))
                ops_flat += ops
                body.append(ops)
                continue
            child, child_body = time_items(it.items, keys[id(it)], depth + 1, it.loop.trip, it.loop.parallel,
                                           outer + (it.loop.index,), split_done or split_here, runs * trip,
                                           index=it.loop.index)
            n_child = sum(1 for b in child_body or () if not isinstance(b, _Block))
            if child_body is not None and name != "<top>" and n_child * it.loop.trip <= FLATTEN_PACKETS:
                for _ in range(it.loop.trip):
                    for p in child_body:            # one unrolled copy, numbered after the body so far
                        copy = [_Op(len(ops_flat) + j, o.text, o.asm, o.op, o.reads, o.writes, o.def_stage,
                                    o.forwarding, o.slots, o.units, o.cls) for j, o in enumerate(p)]
                        ops_flat += copy
                        body.append(copy)
                child.flattened_into = name
                flattened.append(child)
            else:
                body.append(_Block(child.loop, child.cycles))
                composed.append(child)
        used = min(machine.contexts, trip) if split_here else 1
        ctx_trip = -(-trip // used)
        n_packets = sum(1 for b in body if not isinstance(b, _Block))
        has_own = bool(ops_flat)
        iters = 1 if name == "<top>" else (ctx_trip if ctx_trip <= SIM_ITERATIONS else SIM_ITERATIONS)
        steady_from = 0 if iters == 1 else iters // 2
        for lst in listeners:
            lst.on_loop_begin(LoopInfo(name, depth, trip, tuple(o.text for o in ops_flat),
                                       tuple(o.cls.name for o in ops_flat), iters, units_order,
                                       asm=tuple(o.asm for o in ops_flat)))
        sim = _simulate(body, iters, loop=name, emit=emit if has_own else None, steady_from=steady_from)
        counters["packets"] += sim.packets
        if ctx_trip <= iters:
            compute = sim.total
        else:
            compute = sim.total + (ctx_trip - iters) * sim.per_iteration
        inner = sum(c.cycles for c in composed)
        own_per_iter = sim.per_iteration - (inner if iters > 1 else 0.0)
        if iters == 1:
            own_per_iter = sim.total - inner
        scope = items_scope(items, index, trip, parallel)
        fp = footprint(program, scope, outer=outer[:-1] if name != "<top>" else (), machine=machine,
                       from_dram=cold)
        mem, level, mem_detail = _memory(fp.per_buffer, placement, machine, vector_bytes)
        if name == "<top>" and any(placement[b] == "dma" for b in fp.per_buffer):
            mem += machine.dma_latency_cycles
            mem_detail += f" + first DMA tile {machine.dma_latency_cycles} cycles"
        bounds = _bounds(ops_flat, n_packets, machine) if has_own else []
        if composed:
            bounds.append(Bound("composed", compute / ctx_trip, f"own packets {own_per_iter:.2f} + inner loops "
                                                                 f"{inner:.2f} per iteration"))
        if split_here:
            bounds.append(Bound("contexts", compute / trip,
                                f"{used} of {machine.contexts} contexts on {trip} parallel iterations"))
            counters["contexts_used"] = max(counters["contexts_used"], used)
            counters["split"] = name
        bounds.append(Bound("memory", mem / trip, f"{level}: {mem_detail}"))
        if mem > compute:
            binding = f"memory ({level})"
        elif has_own and (own_per_iter * ctx_trip >= 0.5 * compute or not composed):
            cands = [b for b in bounds if b.name not in ("memory", "composed", "contexts")]
            prio = {"resource": 3, "slots": 2, "latency chain": 1}
            top = max(cands, key=lambda b: (round(b.cycles, 9), prio.get(b.name, 0))) if cands else None
            if top is not None and top.cycles >= 0.9 * own_per_iter:
                binding = f"{top.name} ({top.detail})"
            else:
                reason = max(sim.stalls, key=sim.stalls.get) if sim.stalls else "in-order issue"
                per = sim.stalls.get(reason, 0) / max(1, iters)
                binding = f"operand latency ({reason}: {per:.2f} stall cycles per iteration)"
        elif composed:
            heavy = max(composed, key=lambda c: c.cycles)
            binding = f"inner loop {heavy.loop}: {heavy.binding}"
        else:
            binding = "empty"
        if split_here and used < machine.contexts and mem <= compute:
            binding = f"contexts ({used} of {machine.contexts} used: parallel trip {trip}); {binding}"
        util = {u: sim.unit_busy.get(u, 0) / (sim.steady_iterations * sim.per_iteration)
                for u in units_order} if sim.steady_iterations and sim.per_iteration else {}
        stall_detail = {k: v / max(1, iters) for k, v in sim.stalls.items()}
        lr = LoopResult(name, depth, trip, parallel, len(ops_flat), len(ops_flat), own_per_iter if has_own else 0.0,
                        compute, mem, level, fp.total, max(compute, mem), binding, bounds,
                        {u: util[u] * sim.per_iteration for u in util}, stall_detail, iters,
                        tuple(c.loop for c in flattened))
        results[slot] = lr
        own = sum(1 for it in items if isinstance(it, Packet))
        info[name] = {"packets_per_iteration": n_packets, "executed_packets": own * trip * runs,
                      "cycles_per_iteration": sim.per_iteration if iters > 1 else sim.total,
                      "contexts_used": used, "unit_utilization": util,
                      "packets": [{"cycle": c, "instructions": [ops_flat[i].text for i in idx],
                                   "slots": [sorted(ops_flat[i].slots) for i in idx],
                                   "units": [sorted(ops_flat[i].units) for i in idx]} for c, idx in sim.listing]}
        for lst in listeners:
            lst.on_loop_end(lr)
        return lr, (None if composed else body)

    def items_scope(items, name, trip, parallel):
        nodes = _nodes(items)
        return nodes if name == "<top>" else [Loop(name, trip, nodes, parallel)]

    top, _ = time_items(tree, "<top>", 0, 1, False, (), False)
    binding = top.binding
    if counters["split"] is None and machine.contexts > 1 and top.memory_cycles <= top.compute_cycles:
        binding = f"contexts (1 of {machine.contexts} used: no parallel loop); {binding}"
    # the hottest loop: the most packets executed from its own body (deeper wins ties)
    hot = max((lr for lr in results if lr.n_instructions),
              key=lambda lr: (info[lr.loop]["executed_packets"], lr.depth), default=None)
    extra = {"contexts": machine.contexts, "contexts_used": counters["contexts_used"],
             "placement": placement, "simulated_packets": counters["packets"],
             "hot_loop": hot.loop if hot else None,
             "packets_per_iteration": info[hot.loop]["packets_per_iteration"] if hot else 0,
             "unit_utilization": info[hot.loop]["unit_utilization"] if hot else {},
             "loops": info}
    result = TimingResult(program.name, machine, top.cycles, top.compute_cycles, top.memory_cycles,
                          top.memory_level, binding, results, program.dynamic_count(), fan.counts,
                          bytes_moved=top.footprint_bytes, extra=extra)
    for lst in listeners:
        lst.on_program_end(result)
    return result


def loop_keys(tree) -> dict[int, str]:
    """A unique name for every loop of a packetized body, keyed by ``id`` of its `LoopPackets`:
    the loop's index name when no other loop has it, else its path of index names from the
    outermost loop (``"m/k"``), with ``#2``, ``#3`` ... after a path that still repeats (two
    sibling loops with one index name), in program order."""
    paths: list[tuple[int, str, tuple[str, ...]]] = []

    def walk(items, outer):
        for it in items:
            if isinstance(it, LoopPackets):
                path = outer + (it.loop.index,)
                paths.append((id(it), it.loop.index, path))
                walk(it.items, path)

    walk(tree, ())
    names = [n for _, n, _ in paths]
    seen: dict[str, int] = {}
    out = {}
    for key, name, path in paths:
        base = name if names.count(name) == 1 else "/".join(path)
        seen[base] = seen.get(base, 0) + 1
        out[key] = base if seen[base] == 1 else f"{base}#{seen[base]}"
    return out


def _nodes(items) -> list:
    """The Program nodes of a packetized body (for the footprint)."""
    out: list = []
    for it in items:
        if isinstance(it, Packet):
            out += list(it.instrs)
        elif isinstance(it, LoopPackets):
            out.append(it.loop)
    return out


register_engine("vliw", time_vliw_program)
