"""Typed timing events and the listener protocol (llvm-mca's HWEventListener, in Python).

Engine layer: the timing engines (`ooo.py`, `inorder.py`, the MAC array's `isa_models.npu.timing`)
emit one event per pipeline step of every simulated instruction instance; views (`isa_models.core.views`) are listeners that only
accumulate from events and results, never touching engine state (research/style.md §1, §6.4).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event", "Dispatched", "Issued", "Executed", "Retired", "Stall", "Listener", "LoopInfo"]


@dataclass(frozen=True)
class Event:
    """Something that happened to instruction `instr` (its position in the simulated body) of
    iteration `iteration` at `cycle`, while simulating the body of loop `loop`."""

    cycle: int
    loop: str
    iteration: int
    instr: int


@dataclass(frozen=True)
class Dispatched(Event):
    """Entered the reorder buffer / scheduler (in-order engines: left the issue queue; a MAC
    array: reached the head of the command queue)."""

    uops: int = 1


@dataclass(frozen=True)
class Issued(Event):
    """One micro-op started on `port`, holding it for `occupancy` cycles (a MAC array: a command
    started on its unit, `port` = "dma", "mac", "wb" or "sync")."""

    port: str = ""
    uop: int = 0
    occupancy: int = 1


@dataclass(frozen=True)
class Executed(Event):
    """The result is available (all micro-ops done)."""


@dataclass(frozen=True)
class Retired(Event):
    """Left the reorder buffer, in program order (a MAC array: its unit finished the command)."""


@dataclass(frozen=True)
class Stall(Event):
    """Dispatch or issue could not proceed from this cycle on; `reason` names the resource
    ("rob_full", "scheduler_full", "operands", "port:<name>", "issue_cap:<name>"; a MAC array:
    "busy:<unit>", "raw:<bank>", "war:<bank>", "waw:<bank>", "sync"). `cycles` is how many
    consecutive cycles the event stands for (the CPU engines emit one event per cycle; a
    command-stream engine one per stalled command)."""

    reason: str = ""
    cycles: int = 1


@dataclass(frozen=True)
class LoopInfo:
    """What a listener is told before a loop body is simulated."""

    loop: str                    # loop index name, or "<top>" for straight-line code at the top
    depth: int                   # nesting depth (0 = top level)
    trip: int
    instructions: tuple[str, ...]  # text of each instruction of the simulated body
    sched_classes: tuple[str, ...]
    iterations: int              # simulated iterations
    ports: tuple[str, ...]
    asm: tuple[str, ...] = ()    # each instruction in its ISA's assembly syntax, when the engine gives it


class Listener:
    """Base listener with no-op hooks; views override what they need."""

    def on_loop_begin(self, info: LoopInfo) -> None:
        """Called before a loop body is simulated."""

    def on_event(self, event: Event) -> None:
        """Called for every event of the body being simulated."""

    def on_loop_end(self, result) -> None:
        """Called with the `LoopResult` once the loop is timed (bounds included)."""

    def on_program_end(self, result) -> None:
        """Called with the final `TimingResult`."""
