"""Cross-checks: the functional run of each unique shape, repeated somewhere else and compared.

Plug-in layer of the simulate pipeline (`workbench.flow`, DESIGN.md §8). A cross-check runs the
Program of every unique projection shape of a run another way (compiled for this CPU, under an
emulator, on the RTL), compares what comes out with the functional executor's run through
`kernels.verify` (bytes or integers equal) and, where it measures, puts its cycles beside the
model's. Each is a module here defining ``CROSSCHECK`` (a `CrossCheck`): a name, `applies_to`
(an ISA plug-in's ``crosschecks``), `refusal` (checked before any work), `run` and `render`.
`crosscheck_names` and `get_crosscheck` serve the CLI's choices and its one-line errors.
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cached_property

from isa_models.core.execute import execute
from workbench.errors import UnknownNameError, UserError

__all__ = ["CrossCheck", "ShapeCase", "CrossCheckContext", "CrossCheckRecord", "CrossCheckResult",
           "crosscheck_names", "get_crosscheck", "register_crosscheck", "unregister_crosscheck",
           "select_crosschecks", "render_table"]


@dataclass
class ShapeCase:
    """One unique shape of a run, as a cross-check sees it: the Program, the inputs of its first
    projection (first selected layer) and the functional run on them.

    Attributes
    ----------
    M, K : the shape. layer, projections : where the inputs come from (the first projection of
        `projections`, all of which share the shape). program : the kernel's Program.
    inputs : the prepared buffers (`KernelSpec.prepare`) for that projection's codes and q.
    model_cycles : the machine model's cycles for the Program.
    """

    M: int
    K: int
    layer: int
    projections: tuple[str, ...]
    program: object
    inputs: dict
    model_cycles: float

    @cached_property
    def functional(self) -> dict:
        """Every buffer after the functional executor's run on `inputs`."""
        return execute(self.program, self.inputs)

    @property
    def output_names(self) -> list[str]:
        """The Program's output buffers."""
        return [name for name, buf in self.program.buffers.items() if buf.role == "output"]


@dataclass
class CrossCheckContext:
    """What a cross-check is given: the run's ISA plug-in, machine, kernel, parameters, the
    Program of every unique shape (`refusal` looks at these before any work) and, once the
    functional run is done, the unique shapes with their inputs (`cases`, for `run`); `options`
    holds cross-check options (``simulator`` for "rtl")."""

    plugin: object
    machine: object
    spec: object
    params: dict
    programs: list
    cold: bool = False
    options: dict = field(default_factory=dict)
    cases: list[ShapeCase] = field(default_factory=list)


@dataclass
class CrossCheckRecord:
    """One shape cross-checked.

    Attributes
    ----------
    M, K, projections : the shape and the projections sharing it.
    check : the comparison with the functional run (`kernels.verify.Check`).
    model_cycles : the machine model's cycles; measured_cycles : the cross-check's, or None.
    cycles_must_equal : the cross-check claims cycle equality (RTL): unequal cycles fail it.
    problems : anything else the cross-check found wrong (a run that did not complete, issue
        cycles that differ); each fails the record.
    detail : cross-check-specific figures (compiler, simulator, commands, ...), JSON-ready.
    """

    M: int
    K: int
    projections: tuple[str, ...]
    check: object
    model_cycles: float
    measured_cycles: float | None = None
    cycles_must_equal: bool = False
    problems: tuple[str, ...] = ()
    detail: dict = field(default_factory=dict)

    @property
    def cycles_equal(self) -> bool:
        return self.measured_cycles is not None and self.measured_cycles == self.model_cycles

    @property
    def ok(self) -> bool:
        return (self.check.status == "VERIFIED" and not self.problems
                and (self.cycles_equal or not self.cycles_must_equal))

    def to_json(self) -> dict:
        return {"M": self.M, "K": self.K, "projections": list(self.projections), "check": self.check.to_json(),
                "equal": self.check.status == "VERIFIED", "model_cycles": self.model_cycles,
                "measured_cycles": self.measured_cycles, "cycles_must_equal": self.cycles_must_equal,
                "problems": list(self.problems), "ok": self.ok, **self.detail}


@dataclass
class CrossCheckResult:
    """The records of one cross-check over a run's unique shapes; `setup` says where it ran."""

    name: str
    setup: str
    records: list[CrossCheckRecord]
    info: dict = field(default_factory=dict)
    source: "CrossCheck | None" = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.records)

    def render(self) -> str:
        """The text table of the cross-check that produced it (`source`; else the generic one)."""
        return self.source.render(self) if self.source is not None else render_table(self)

    def to_json(self) -> dict:
        return {"name": self.name, "setup": self.setup, "ok": self.ok, **self.info,
                "records": [r.to_json() for r in self.records]}


class CrossCheck(abc.ABC):
    """Base of a cross-check plug-in; subclasses set `name` and `title`, implement `run` and may
    override `applies_to`, `refusal` and `render`."""

    name: str = ""
    title: str = ""
    measures: bool = False

    def applies_to(self, plugin) -> bool:
        """Whether this cross-check exists for ISA `plugin` (its ``crosschecks``)."""
        return self.name in plugin.crosschecks

    def refusal(self, ctx: CrossCheckContext) -> str | None:
        """Why this run cannot be cross-checked here (checked before any work), or None."""
        return None

    @abc.abstractmethod
    def run(self, ctx: CrossCheckContext, *, on_done=lambda: None) -> CrossCheckResult:
        """Run every unique shape of `ctx` this other way and compare it with the functional run."""

    def render(self, result: CrossCheckResult) -> str:
        """The text table of `result` (the generic one unless a cross-check has its own)."""
        return render_table(result)


def render_table(result: CrossCheckResult) -> str:
    """The generic table: outputs equal, and model cycles beside the measured ones when the
    cross-check measures any."""
    timed = any(r.measured_cycles is not None for r in result.records)
    cycles = f" {'model cycles':>13} {'measured':>13} {'measured/model':>15}" if timed else ""
    lines = [f"Cross-check {result.name}: {result.setup}",
             f"{'M':>6} {'K':>6} {'projections':<16}{cycles}  outputs == functional"]
    for r in result.records:
        row = f"{r.M:>6} {r.K:>6} {','.join(r.projections):<16}"
        if timed:
            measured = "-" if r.measured_cycles is None else f"{r.measured_cycles:,.0f}"
            ratio = ("-" if not r.measured_cycles or not r.model_cycles
                     else f"{r.measured_cycles / r.model_cycles:.2f}")
            row += f" {r.model_cycles:>13,.0f} {measured:>13} {ratio:>15}"
        equal = "yes" if r.check.status == "VERIFIED" else f"NO: {r.check.describe()}"
        lines.append(f"{row}  {equal}" + "".join(f"; {p}" for p in r.problems))
    return "\n".join(lines)


_REGISTRY: dict[str, CrossCheck] = {}
_discovered = False


def register_crosscheck(check: CrossCheck) -> CrossCheck:
    """Add `check` (tests); another of the same name is an error."""
    old = _REGISTRY.get(check.name)
    if old is not None and old is not check:
        raise ValueError(f"cross-check {check.name!r} registered twice")
    _REGISTRY[check.name] = check
    return check


def unregister_crosscheck(name: str) -> None:
    _REGISTRY.pop(name, None)


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
            check = getattr(importlib.import_module(f"{__name__}.{info.name}"), "CROSSCHECK", None)
            if isinstance(check, CrossCheck):
                register_crosscheck(check)


def crosscheck_names() -> list[str]:
    """Every cross-check's name, sorted."""
    _discover()
    return sorted(_REGISTRY)


def get_crosscheck(name: str) -> CrossCheck:
    """The cross-check `name`; UnknownNameError listing the valid ones."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(f"unknown cross-check {name!r}; valid: {', '.join(crosscheck_names())}") from None


def select_crosschecks(names, plugin) -> list[CrossCheck]:
    """The cross-checks `names` (in order, duplicates dropped) for ISA `plugin`; one that does not
    apply to it is a UserError naming those that do."""
    out = []
    for name in dict.fromkeys(names):
        check = get_crosscheck(name)
        if not check.applies_to(plugin):
            valid = [n for n in crosscheck_names() if get_crosscheck(n).applies_to(plugin)]
            raise UserError(f"--crosscheck {name}: does not apply to ISA {plugin.name}; the cross-checks of "
                            f"{plugin.name}: {', '.join(valid) or 'none'}")
        out.append(check)
    return out
