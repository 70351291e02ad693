"""Timing engines: out-of-order and in-order simulators, analytic bounds, memory model, events.

Engine layer (DESIGN.md §3, use 2). `time_program(program, machine)` is the entry point; views
(`isa_models.core.views`) listen to the typed events it emits.
"""

from isa_models.core.timing.bounds import Bound, compute_bounds
from isa_models.core.timing.descriptors import TimingDesc, UopDesc, describe
from isa_models.core.timing.events import (Dispatched, Event, Executed, Issued, Listener, LoopInfo,
                                           Retired, Stall)
from isa_models.core.timing.memory import Footprint, footprint
from isa_models.core.timing.run import LoopResult, TimingResult, time_program

__all__ = ["time_program", "TimingResult", "LoopResult", "Bound", "compute_bounds", "TimingDesc",
           "UopDesc", "describe", "Event", "Dispatched", "Issued", "Executed", "Retired", "Stall",
           "Listener", "LoopInfo", "Footprint", "footprint"]
