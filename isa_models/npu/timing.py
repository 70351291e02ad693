"""Cycle model of the NPU array: in-order command issue to three concurrent units.

Timing engine of the NPU ISA (the RTL controller implements exactly these rules; docs/npu.md §4).
Commands are accepted in order, at most one per cycle. Command i issues in the first cycle t with
t >= t[i-1] + 1, its unit free (free[u] <= t), and no hazard with a command still running on
another unit (a shared weight bank, activation bank or accumulator bank that either writes);
SYNC waits for all units. A unit is then busy for a fixed duration:
DMA in ``1 + dma_latency + n * word_bytes / bus``, MAC ``n + 3``, write-back ``R*4 / bus + 1``,
SYNC 1. Total cycles run from the first accepted command to the last busy cycle.
Reports: total, stall cycles by cause, unit busy cycles, utilization (Gemmini ideal/measured),
SRAM reads/writes and DRAM traffic (SCALE-Sim quantities), text and JSON.
`time_npu_program` is the ``mac_array`` engine of `isa_models.core.timing.time_program`
(registered when this module is imported): it lowers the Program, schedules its commands, emits
the core timing events (one `Issued` per command on its unit) and returns a core `TimingResult`,
so the summary, pressure, timeline and bottleneck views render NPU timings too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

from isa_models.core.machine import Machine, MachineError
from isa_models.core.program import Program
from isa_models.core.timing import (Bound, Dispatched, Executed, Fanout, Issued, LoopInfo, LoopResult, Retired,
                                    Stall, TimingResult, register_engine)
from isa_models.npu.commands import Command, LoweredProgram, lower
from isa_models.npu.params import MAC_PIPELINE_DEPTH, NpuParams

__all__ = ["duration", "resources", "schedule", "NpuTiming", "ScheduledCommand", "time_commands",
           "time_lowered", "time_npu_program", "timing_result", "UNITS"]

UNITS = ("dma", "mac", "wb")


def duration(cmd: Command, params: NpuParams) -> int:
    """Cycles the command keeps its unit busy, counting its issue cycle."""
    if cmd.op == "dmaw":
        return 1 + params.dma_latency_cycles + cmd.n * params.w_word_bytes // params.dma_bytes_per_cycle
    if cmd.op == "dmaa":
        return 1 + params.dma_latency_cycles + cmd.n * params.a_word_bytes // params.dma_bytes_per_cycle
    if cmd.op in ("macc", "maca"):
        return cmd.n + MAC_PIPELINE_DEPTH
    if cmd.op == "wb":
        return params.acc_bank_bytes // params.dma_bytes_per_cycle + 1
    return 1


def resources(cmd: Command) -> tuple[frozenset, frozenset]:
    """(reads, writes): sets of ("w"|"a"|"acc", bank) the command touches."""
    if cmd.op == "dmaw":
        return frozenset(), frozenset({("w", cmd.wbank)})
    if cmd.op == "dmaa":
        return frozenset(), frozenset({("a", cmd.abank)})
    if cmd.op in ("macc", "maca"):
        return frozenset({("w", cmd.wbank), ("a", cmd.abank)}), frozenset({("acc", cmd.acc)})
    if cmd.op == "wb":
        return frozenset({("acc", cmd.acc)}), frozenset()
    return frozenset(), frozenset()


def _hazard(head: Command, running: Command) -> str | None:
    """'raw:acc1'-style name of the first hazard between a head command and a running one."""
    hr, hw = resources(head)
    rr, rw = resources(running)
    for kind, a, b in (("raw", hr, rw), ("war", hw, rr), ("waw", hw, rw)):
        common = sorted(a & b)
        if common:
            res, bank = common[0]
            return f"{kind}:{res}{bank}"
    return None


@dataclass(frozen=True)
class ScheduledCommand:
    """When one command issued and how long its unit was busy; `stall` cycles waited and why."""

    index: int
    command: Command
    issue: int
    end: int          # first cycle the unit is free again
    stall: int
    cause: str

    def to_dict(self) -> dict:
        return {"index": self.index, "command": str(self.command), "issue": self.issue, "end": self.end,
                "stall": self.stall, "cause": self.cause}


@dataclass
class NpuTiming:
    """Result of the cycle model for one command stream (all counts are exact integers)."""

    params: NpuParams
    schedule: list[ScheduledCommand]
    total_cycles: int
    stalls: dict[str, int]
    unit_busy: dict[str, int]
    mac_active_cycles: int
    sram: dict[str, int]
    dram: dict[str, int]
    ideal_cycles: float
    macs: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def utilization(self) -> float:
        """Ideal MAC cycles / measured cycles (Gemmini's definition, research/rtl.md §2.2)."""
        return self.ideal_cycles / self.total_cycles if self.total_cycles else 0.0

    @property
    def binding_unit(self) -> str:
        return max(self.unit_busy, key=lambda u: self.unit_busy[u])

    @property
    def time_us(self) -> float:
        return self.total_cycles / self.params.clock_mhz

    def to_dict(self, *, with_schedule: bool = False) -> dict:
        d = {"machine": self.params.name, "total_cycles": self.total_cycles, "time_us": self.time_us,
             "stall_cycles": dict(self.stalls), "stall_total": sum(self.stalls.values()),
             "unit_busy_cycles": dict(self.unit_busy), "binding_unit": self.binding_unit,
             "mac_active_cycles": self.mac_active_cycles, "ideal_cycles": self.ideal_cycles,
             "utilization": self.utilization, "macs": self.macs, "sram": dict(self.sram),
             "dram": dict(self.dram), "commands": len(self.schedule)}
        d.update(self.extra)
        if with_schedule:
            d["schedule"] = [s.to_dict() for s in self.schedule]
        return d

    def to_json(self, *, with_schedule: bool = False) -> str:
        return json.dumps(self.to_dict(with_schedule=with_schedule), indent=2)

    def render_text(self, *, timeline: int = 0) -> str:
        p = self.params
        lines = [f"npu {p.name}: {p.rows}x{p.cols} {p.weight_encoding}, {p.clock_mhz:g} MHz, "
                 f"{len(self.schedule)} commands",
                 f"  total cycles      {self.total_cycles:>12,}  ({self.time_us:,.2f} us)",
                 f"  ideal MAC cycles  {self.ideal_cycles:>12,.1f}  utilization {100 * self.utilization:.1f}%"
                 + (f"  ({self.macs:,} MACs)" if self.macs else ""),
                 f"  MAC active cycles {self.mac_active_cycles:>12,}"]
        for u in UNITS:
            mark = "  <- binding" if u == self.binding_unit else ""
            lines.append(f"  busy {u:<12} {self.unit_busy[u]:>12,}  "
                         f"({100 * self.unit_busy[u] / max(1, self.total_cycles):.1f}%){mark}")
        lines.append(f"  stall cycles      {sum(self.stalls.values()):>12,}")
        for cause, n in sorted(self.stalls.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {cause:<15} {n:>12,}")
        lines.append("  SRAM words        " + ", ".join(f"{k} {v:,}" for k, v in self.sram.items()))
        lines.append("  DRAM bytes        " + ", ".join(f"{k} {v:,}" for k, v in self.dram.items()))
        for s in self.schedule[:timeline]:
            lines.append(f"    [{s.index:>4}] issue {s.issue:>8} end {s.end:>8} stall {s.stall:>6} "
                         f"{s.cause:<10} {s.command}")
        return "\n".join(lines)


def schedule(commands: Sequence[Command], params: NpuParams) -> list[ScheduledCommand]:
    """Issue cycle and end cycle of every command under the in-order issue rules."""
    free = {u: 0 for u in UNITS}
    running: dict[str, Command | None] = {u: None for u in UNITS}
    out, prev = [], -1
    for i, cmd in enumerate(commands):
        base = prev + 1
        terms = []                            # (cycle, cause), earliest-listed wins ties
        if cmd.op == "sync":
            terms += [(free[u], "sync") for u in UNITS]
        else:
            terms.append((free[cmd.unit], f"busy:{cmd.unit}"))
            for u in UNITS:
                if u != cmd.unit and running[u] is not None and free[u] > base:
                    h = _hazard(cmd, running[u])
                    if h:
                        terms.append((free[u], h))
        t, cause = base, ""
        for cyc, why in terms:
            if cyc > t:
                t, cause = cyc, why
        end = t + duration(cmd, params)
        if cmd.op != "sync":
            free[cmd.unit] = end
            running[cmd.unit] = cmd
        out.append(ScheduledCommand(i, cmd, t, end, t - base, cause))
        prev = t
    return out


def time_commands(commands: Sequence[Command], params: NpuParams, *, macs: int | None = None) -> NpuTiming:
    """Cycle model of a command stream; `macs` (useful MACs, e.g. M*K) sets the ideal cycles."""
    sched = schedule(commands, params)
    total = max((s.end for s in sched), default=0) - (sched[0].issue if sched else 0)
    stalls: dict[str, int] = {}
    busy = {u: 0 for u in UNITS}
    sram = {"wsram_writes": 0, "wsram_reads": 0, "asram_writes": 0, "asram_reads": 0,
            "acc_updates": 0, "acc_reads": 0}
    dram = {"read": 0, "write": 0}
    mac_words = 0
    for s in sched:
        c = s.command
        if s.stall:
            stalls[s.cause] = stalls.get(s.cause, 0) + s.stall
        if c.op != "sync":
            busy[c.unit] += s.end - s.issue
        if c.op == "dmaw":
            sram["wsram_writes"] += c.n
            dram["read"] += c.n * params.w_word_bytes
        elif c.op == "dmaa":
            sram["asram_writes"] += c.n
            dram["read"] += c.n * params.a_word_bytes
        elif c.op in ("macc", "maca"):
            sram["wsram_reads"] += c.n
            sram["asram_reads"] += c.n
            sram["acc_updates"] += c.n
            mac_words += c.n
        elif c.op == "wb":
            sram["acc_reads"] += 1
            dram["write"] += params.acc_bank_bytes
    ideal = macs / params.peak_macs_per_cycle if macs else float(mac_words)
    return NpuTiming(params, sched, total, stalls, busy, mac_words, sram, dram, ideal, macs)


def time_lowered(lowered: LoweredProgram) -> NpuTiming:
    """Cycle model of a lowered Program; ideal cycles from ``program.meta['macs']`` if present."""
    macs = lowered.program.meta.get("macs")
    return time_commands(lowered.commands, lowered.params, macs=macs)


# --------------------------------------------------------------------------------------------
# the mac_array engine of isa_models.core.timing.time_program


def time_npu_program(program: Program, machine: Machine, *, listeners=(), cold: bool = False) -> TimingResult:
    """Time an NPU Program on a MAC-array machine: the ``mac_array`` engine of `time_program`.

    Parameters
    ----------
    listeners : core timing `Listener`s (views): one loop ("<top>", the lowered command stream),
        its events and the result.
    cold : accepted for the common signature; every byte the array reads already comes from DRAM
        through its DMA, so a cold run is the same run.

    Raises
    ------
    MachineError : the machine's parameters are not those the Program was built for (its
        command set is sized by them: rebuild the kernel for this machine).
    """
    params = NpuParams.from_machine(machine)
    built = getattr(program.isa, "params", None)
    if built != params:
        what = "NPU machine " + (built.name if built is not None else "(none)")
        if built is not None and built.name == params.name:
            what += " with other parameters"
        raise MachineError(f"program {program.name} was built for {what}, not for machine {machine.name}; "
                           f"build it for {machine.name}")
    timing = time_commands(lower(program, params).commands, params, macs=program.meta.get("macs"))
    return timing_result(program, machine, timing, listeners=listeners)


def _events(sched: Sequence[ScheduledCommand]) -> list:
    """The core timing events of a schedule, in cycle order (program order within a cycle)."""
    out = []
    for s in sched:
        base = s.issue - s.stall
        out.append(Dispatched(base, "<top>", 0, s.index))
        if s.stall:
            out.append(Stall(base, "<top>", 0, s.index, s.cause, s.stall))
        out.append(Issued(s.issue, "<top>", 0, s.index, s.command.unit, 0, s.end - s.issue))
        out.append(Executed(s.end, "<top>", 0, s.index))
        out.append(Retired(s.end, "<top>", 0, s.index))
    out.sort(key=lambda e: e.cycle)
    return out


def _bounds(t: NpuTiming) -> list[Bound]:
    p = t.params
    n = {u: sum(1 for s in t.schedule if s.command.unit == u) for u in UNITS}
    bounds = [Bound("dma", t.unit_busy["dma"], f"DMA unit: {n['dma']:,} transfers, {t.dram['read']:,} B at "
                                                f"{p.dma_bytes_per_cycle} B/cycle + {p.dma_latency_cycles} cycles "
                                                f"latency each"),
              Bound("mac", t.unit_busy["mac"], f"MAC unit: {t.mac_active_cycles:,} words + "
                                                f"{MAC_PIPELINE_DEPTH} pipeline cycles per command"),
              Bound("wb", t.unit_busy["wb"], f"write-back unit: {n['wb']:,} banks of {p.acc_bank_bytes} B"),
              Bound("ideal", t.ideal_cycles, f"{t.macs or t.mac_active_cycles * p.peak_macs_per_cycle:,} MACs "
                                             f"at {p.peak_macs_per_cycle:,} per cycle")]
    read = t.dram["read"]
    bounds.append(Bound("memory", read / p.dma_bytes_per_cycle,
                        f"{read:,} DRAM bytes read at {p.dma_bytes_per_cycle} B/cycle"))
    return bounds


def timing_result(program: Program, machine: Machine, t: NpuTiming, *, listeners=()) -> TimingResult:
    """The core `TimingResult` of a command-level timing `t` of `program` on `machine`, after
    telling `listeners` the loop, its events and the result (see `time_npu_program`)."""
    texts = tuple(str(s.command) for s in t.schedule)
    info = LoopInfo("<top>", 0, 1, texts, tuple(f"npu.{s.command.unit}" for s in t.schedule), 1, UNITS)
    fan = Fanout(listeners)
    for lst in listeners:
        lst.on_loop_begin(info)
    if listeners:
        for event in _events(t.schedule):
            fan(event)
    bounds = _bounds(t)
    unit = t.binding_unit
    top = next(b for b in bounds if b.name == unit)
    share = t.unit_busy[unit] / t.total_cycles if t.total_cycles else 0.0
    binding = (f"{unit} ({top.detail}; busy {100 * share:.1f}% of the cycles)" if t.schedule else "empty")
    memory = bounds[-1].cycles
    moved = t.dram["read"] + t.dram["write"]
    lr = LoopResult("<top>", 0, 1, False, len(texts), len(texts), float(t.total_cycles), float(t.total_cycles),
                    memory, "DRAM", moved, float(t.total_cycles), binding, bounds, dict(t.unit_busy),
                    dict(t.stalls), 1 if texts else 0)
    for lst in listeners:
        lst.on_loop_end(lr)
    extra = {k: v for k, v in t.to_dict().items() if k != "machine"}
    extra["plan"] = program.meta.get("plan")
    result = TimingResult(program.name, machine, float(t.total_cycles), float(t.total_cycles), memory, "DRAM",
                          binding, [lr], program.dynamic_count(), fan.counts, bytes_moved=moved, extra=extra)
    for lst in listeners:
        lst.on_program_end(result)
    return result


register_engine("mac_array", time_npu_program)
