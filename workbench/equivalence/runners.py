"""How an equivalence run executes the kernel's Programs: the functional executor, natively on
this CPU, or as standalone executables under the codegen target's emulator.

Top of the flow (`workbench.equivalence`), beside `hook`. "functional" is
`isa_models.core.execute.execute` (the default of `kernels.registry.run`); "native" calls the
emitted C in this process (`kernels.codegen.InProcessKernel`), refused in one line when the
ISA's codegen target cannot run here (`Target.native_problem`, as ``simulate --native`` refuses);
"emulator" runs `kernels.codegen.StandaloneKernel` behind the target's emulator prefix
(`Target.run_prefix`: none on a host that runs the target). Compiled kernels are kept per Program.
"""

from __future__ import annotations

import shutil
from typing import Callable

from workbench.errors import UnknownNameError, UserError

__all__ = ["MODES", "make_runner"]

MODES = ("functional", "native", "emulator")


class _Cached:
    """``(program, buffers) -> buffers`` through one compiled kernel per Program (`make`)."""

    def __init__(self, make: Callable):
        self._make = make
        self._kernels: dict[int, tuple[object, object]] = {}

    def __call__(self, program, buffers):
        entry = self._kernels.get(id(program))
        if entry is None or entry[0] is not program:
            entry = (program, self._make(program))
            self._kernels[id(program)] = entry
        return entry[1](buffers)


def make_runner(mode: str, *, isa: str, programs) -> Callable | None:
    """The runner of `mode` for `isa`'s Programs (None: the functional executor).

    Parameters
    ----------
    mode : one of `MODES`.
    isa : the ISA whose codegen target emits the Programs.
    programs : Programs the run will execute (their CPU features decide whether this host or
        the emulator can run them).

    Raises
    ------
    UnknownNameError : an unknown mode.
    UserError : "native" on a host that cannot run the target's code (or an ISA without a codegen
        target); "emulator" when neither this host nor an emulator runs it.
    """
    if mode not in MODES:
        raise UnknownNameError(f"unknown run mode {mode!r}; valid: {', '.join(MODES)}")
    if mode == "functional":
        return None
    from kernels.codegen import InProcessKernel
    from kernels.codegen.run.standalone import StandaloneKernel
    from kernels.codegen.targets import target_for_isa
    from workbench.flow.crosscheck.native import requirements

    try:
        target = target_for_isa(isa)
    except UserError as exc:
        raise UserError(f"--{mode}: {exc}") from None
    required = requirements(programs)
    if mode == "native":
        problem = target.native_problem(required)
        if problem is not None:
            raise UserError(f"--native: {problem}; try --emulator")
        return _Cached(lambda program: InProcessKernel(program, target=target))
    prefix = target.run_prefix(required)
    if prefix and shutil.which(prefix[0]) is None:
        raise UserError(f"--emulator: {prefix[0]} is not on PATH (needed to run codegen target {target.name} here)")
    return _Cached(lambda program: StandaloneKernel(program, target=target, prefix=prefix))
