"""The records a simulate run produces: per-projection checks, per-shape timings, the whole run.

Top of the flow (`workbench.flow`), below the pipeline (`simulate.py`) and above nothing: plain
data with ``to_json``. A `ShapeTiming` wraps the engine's result for one unique (M, K) shape
(whatever engine timed it: every engine answers `isa_models.core.timing.time_program` with cycles,
seconds, binding, memory level, bytes moved, instructions and an engine-specific ``extra`` dict);
a `ProjectionResult` is one projection's `kernels.verify.Check` beside the timing of its shape;
a `SimulationRun` holds them with the resolved configuration, the cross-check results and, for a
whole-token run, the `workbench.flow.token.TokenProjection`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ShapeTiming", "ProjectionResult", "SimulationRun"]


@dataclass
class ShapeTiming:
    """The timing of one kernel Program shape (M, K) on one machine.

    Attributes
    ----------
    M, K : the shape (rows, reduction length).
    timing : the engine's result (`isa_models.core.timing.time_program`).
    views : view name -> the view that listened to the run (`isa_models.core.views`).
    projections : names of the projections of this shape, in model order.
    headlines : view name -> a view the engine's report prints by default (`headline_views`),
        when it was not asked for in `views`.
    tokens : activation rows one run of the Program serves (a batched kernel's N, else 1).
    """

    M: int
    K: int
    timing: object
    views: dict = field(default_factory=dict)
    projections: tuple[str, ...] = ()
    headlines: dict = field(default_factory=dict)
    tokens: int = 1

    @property
    def cycles(self) -> float:
        return self.timing.cycles

    @property
    def seconds(self) -> float:
        return self.timing.seconds

    @property
    def ops(self) -> int:
        """Multiply-adds counted as 2 operations each: 2 M K per token, times `tokens`."""
        return 2 * self.M * self.K * self.tokens

    @property
    def gops(self) -> float:
        return self.ops / self.seconds / 1e9 if self.seconds else 0.0

    @property
    def bytes_moved(self) -> int:
        return int(self.timing.bytes_moved)

    @property
    def binding(self) -> str:
        return self.timing.binding

    @property
    def extra(self) -> dict:
        """Engine-specific figures (an array's utilization, stalls by cause, SRAM/DRAM traffic)."""
        return dict(self.timing.extra or {})

    def to_json(self) -> dict:
        return {"M": self.M, "K": self.K, "tokens": self.tokens, "projections": list(self.projections),
                "cycles": self.cycles,
                "seconds": self.seconds, "gops": self.gops, "bytes_moved": self.bytes_moved,
                "binding": self.binding, "memory_level": self.timing.memory_level,
                "instructions": self.timing.instructions, "extra": self.extra,
                "timing": self.timing.to_json(),
                "views": {name: v.to_json() for name, v in self.views.items()}}


@dataclass
class ProjectionResult:
    """One projection of one layer: its functional check (`kernels.verify.Check`) and its
    shape's timing."""

    layer: int
    proj: str
    check: object
    timing: ShapeTiming

    @property
    def M(self) -> int:
        return self.timing.M

    @property
    def K(self) -> int:
        return self.timing.K

    def to_json(self) -> dict:
        t = self.timing
        return {"layer": self.layer, "proj": self.proj, "M": t.M, "K": t.K, "status": self.check.status,
                "check": self.check.to_json(), "cycles": t.cycles, "seconds": t.seconds, "gops": t.gops,
                "bytes_moved": t.bytes_moved, "binding": t.binding}


@dataclass
class SimulationRun:
    """Everything one simulate call produced, with the configuration that produced it.

    Attributes
    ----------
    config : the resolved configuration (ISA, machine, kernel, model, layers, options), JSON-ready.
    defaults : one line per default taken and why ("--machine graniterapids: models this CPU").
    projections : one `ProjectionResult` per checked projection, in model order.
    shapes : (M, K) -> `ShapeTiming`, once per unique shape.
    crosschecks : cross-check name -> its `workbench.flow.crosscheck.CrossCheckResult`.
    token : the per-token projection of a whole-token run, else None.
    """

    config: dict
    defaults: list[str]
    projections: list[ProjectionResult]
    shapes: dict
    crosschecks: dict = field(default_factory=dict)
    token: object | None = None

    @property
    def failures(self) -> list[ProjectionResult]:
        """Projections whose check is not ok (FAILED or UNSUPPORTED)."""
        return [p for p in self.projections if not p.check.ok]

    @property
    def crosscheck_failures(self) -> list[str]:
        """Names of the cross-checks that found a difference."""
        return [name for name, result in self.crosschecks.items() if not result.ok]

    @property
    def verified(self) -> bool:
        """Every projection VERIFIED (or LOSSY, error measured) and every cross-check agreeing."""
        return not self.failures and not self.crosscheck_failures

    def to_json(self) -> dict:
        return {"config": self.config, "defaults": list(self.defaults), "verified": self.verified,
                "projections": [p.to_json() for p in self.projections],
                "shapes": [s.to_json() for s in self.shapes.values()],
                "crosschecks": {name: r.to_json() for name, r in self.crosschecks.items()},
                "token": self.token.to_json() if self.token is not None else None}
