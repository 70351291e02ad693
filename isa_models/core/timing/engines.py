"""The timing-engine registry: engine kind (a machine's engine section) -> the function that times.

Engine layer. `time_program` (run.py) looks the machine's `engine` up here. The CPU engines
(``ooo``, ``inorder``) are registered by run.py; an engine that lives with its ISA registers
itself when its package is imported (``mac_array``: `isa_models.npu.timing`), so the core never
imports an ISA. An engine is ``fn(program, machine, *, listeners, cold) -> TimingResult``: it
emits the events of `events.py` to the listeners (on_loop_begin, on_event, on_loop_end,
on_program_end) and returns a `run.TimingResult`, so every view renders every engine.
"""

from __future__ import annotations

from typing import Callable

from isa_models.core.machine import MachineError

__all__ = ["register_engine", "get_engine", "engine_names"]

_ENGINES: dict[str, Callable] = {}


def register_engine(kind: str, fn: Callable) -> Callable:
    """Register `fn` as the timing engine of machines whose engine section is `kind`.

    Registering the same function again is a no-op (a re-imported module); another function for
    a registered kind is an error (two packages claiming one engine).
    """
    old = _ENGINES.get(kind)
    if old is not None and old is not fn and (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
        raise ValueError(f"timing engine {kind!r} registered twice ({old.__module__}.{old.__qualname__} "
                         f"and {fn.__module__}.{fn.__qualname__})")
    _ENGINES[kind] = fn
    return fn


def get_engine(kind: str) -> Callable:
    """The engine for `kind`; MachineError listing the registered kinds if none."""
    try:
        return _ENGINES[kind]
    except KeyError:
        raise MachineError(f"no timing engine for engine kind {kind!r}; registered: "
                           f"{', '.join(engine_names())} (an ISA package registers its engine when "
                           f"imported)") from None


def engine_names() -> list[str]:
    """The registered engine kinds, sorted."""
    return sorted(_ENGINES)
