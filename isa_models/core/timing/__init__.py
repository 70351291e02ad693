"""Timing: the one entry `time_program`, the engine registry, CPU engines, bounds, memory, events.

Engine layer (DESIGN.md §3, use 2). `time_program(program, machine)` times any Program with the
engine registered for the machine's engine kind (`engines.register_engine`: ``ooo`` and
``inorder`` here, ``mac_array`` by `isa_models.npu`); views (`isa_models.core.views`) listen to the
typed events every engine emits and read the `TimingResult` every engine returns.
"""

from isa_models.core.timing.bounds import Bound, compute_bounds
from isa_models.core.timing.descriptors import TimingDesc, UopDesc, describe
from isa_models.core.timing.engines import engine_names, get_engine, register_engine
from isa_models.core.timing.events import (Dispatched, Event, Executed, Issued, Listener, LoopInfo,
                                           Retired, Stall)
from isa_models.core.timing.memory import Footprint, footprint
from isa_models.core.timing.run import Fanout, LoopResult, TimingResult, time_cpu_program, time_program
from isa_models.core.timing.vliw import time_vliw_program

__all__ = ["time_program", "TimingResult", "LoopResult", "Bound", "compute_bounds", "TimingDesc",
           "UopDesc", "describe", "Event", "Dispatched", "Issued", "Executed", "Retired", "Stall",
           "Listener", "LoopInfo", "Footprint", "footprint", "register_engine", "get_engine",
           "engine_names", "time_cpu_program", "Fanout", "time_vliw_program"]
