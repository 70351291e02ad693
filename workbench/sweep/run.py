"""Run a whole sweep: spec -> points -> Dask -> rows -> Pareto front, with the run's figures.

Sweep layer (`workbench.sweep`), what `workbench sweep` calls between parsing its arguments and
printing. `run_sweep` expands the spec (`points.expand`), picks the evaluate function of its kind,
runs the points (`execute.run_points`), numbers the rows (`table.table_rows`) and finds the Pareto
front (`pareto.pareto_front`); `summary` counts the verdicts and gives points per second.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workbench.sweep.execute import RunStats, run_points
from workbench.sweep.pareto import pareto_front
from workbench.sweep.points import Expansion, expand
from workbench.sweep.spec import SweepSpec
from workbench.sweep.table import table_rows

__all__ = ["SweepRun", "run_sweep", "evaluator"]


def evaluator(kind: str):
    """The evaluate function of a sweep kind (a module-level function, picklable by reference)."""
    if kind == "projection":
        from workbench.sweep.projection_point import evaluate_projection_point
        return evaluate_projection_point
    if kind == "equivalence":
        from workbench.sweep.equivalence_point import evaluate_equivalence_point
        return evaluate_equivalence_point
    from workbench.sweep.kernel_point import evaluate_kernel_point
    return evaluate_kernel_point


@dataclass
class SweepRun:
    """A finished sweep: the spec, its points, one row per point, the front (row indices), the
    execution statistics and the wall time in seconds."""

    spec: SweepSpec
    expansion: Expansion
    rows: list
    front: list
    stats: RunStats
    wall_s: float
    verdicts: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        """Counts and rates, JSON-ready (no rows)."""
        computed = self.stats.computed
        return {"name": self.spec.name, "kind": self.spec.kind, "search": self.spec.search,
                "points": len(self.rows), "grid": self.expansion.grid,
                "dropped": dict(self.expansion.dropped), "cached": self.stats.cached, "computed": computed,
                "evaluations": self.stats.evaluations,
                "verdicts": dict(sorted(self.verdicts.items())), "wall_s": self.wall_s,
                "points_per_s": (computed / self.wall_s) if computed and self.wall_s > 0 else None,
                "workers": self.stats.workers, "objectives": list(self.spec.objectives),
                "directions": list(self.spec.directions), "front": list(self.front)}


def run_sweep(spec: SweepSpec, *, scheduler: str | None = None, workers: int = 2, cache_dir: Path | None = None,
              progress: bool = True) -> SweepRun:
    """Expand and run `spec` (see the module docstring); `execute.run_points` for the options."""
    expansion = expand(spec)
    stats = RunStats()
    start = time.perf_counter()
    results = run_points(expansion.configs, evaluator(spec.kind), scheduler=scheduler, workers=workers,
                         cache_dir=cache_dir, progress=progress, stats=stats)
    wall = time.perf_counter() - start
    rows = table_rows(results, expansion.labels)
    front = pareto_front(rows, spec.objectives, spec.directions)
    return SweepRun(spec, expansion, rows, front, stats, wall, Counter(r.get("verdict") for r in rows))
