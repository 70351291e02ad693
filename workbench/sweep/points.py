"""Expand a sweep spec's axes into point configs: a full grid or a seeded random sample of it.

Sweep layer (`workbench.sweep`), between `spec.load_spec` and `execute.run_points`. The grid is
the cross product of the axes in the order the spec lists values; a kernel parameter axis
(``param.<name>``) is crossed only with the kernels that have that parameter. Combinations that
cannot exist (a kernel not registered for that ISA, a machine of another ISA, an engine the SoC
lacks, more threads than cores) are dropped and counted by reason, never run. A random search
draws ``samples`` distinct grid points with the spec's seed and keeps them in grid order.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from workbench.sweep.spec import SweepSpec, parse_shape

__all__ = ["Expansion", "expand"]


@dataclass
class Expansion:
    """The points of a sweep.

    Attributes
    ----------
    configs : one plain-JSON config per point, in grid order (the evaluate function's input).
    labels : per point, extra table columns that are not evaluate's input (the shape as written).
    grid : the valid grid's size (before random sampling).
    dropped : combinations dropped as impossible, by reason.
    """

    configs: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    grid: int = 0
    dropped: Counter = field(default_factory=Counter)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


def _param_grid(spec, kernel_params) -> list[dict]:
    """Every combination of the spec's parameter axes that `kernel_params` (the kernel's
    parameter names) has; [{}] when none applies."""
    names = [n for n in spec.params if n in kernel_params]
    return [dict(zip(names, combo)) for combo in itertools.product(*(spec.params[n] for n in names))]


def _kernel_grid(spec: SweepSpec, out: Expansion) -> list[tuple[dict, dict]]:
    from isa_models.registry import get_isa
    from kernels import registry

    grid = []
    machines_axis = spec.axes.get("machine")
    for isa in spec.axes["isa"]:
        plugin = get_isa(isa)
        registered = {s.name: s for s in registry.kernels(isa)}
        machines = machines_axis or (plugin.default_machine,)
        own = set(plugin.machine_names())
        for kernel in spec.axes["kernel"]:
            for machine in machines:
                for shape in spec.axes["shape"]:
                    if kernel not in registered:
                        out.dropped["kernel not registered for that ISA"] += 1
                        continue
                    if machine not in own:
                        out.dropped["machine of another ISA"] += 1
                        continue
                    M, K = parse_shape(shape)
                    for params in _param_grid(spec, registered[kernel].params):
                        config = {"isa": isa, "kernel": kernel, "machine": machine, "M": M, "K": K,
                                  "params": params, "seed": spec.seed, "cold": spec.cold}
                        if spec.kind == "equivalence":
                            for model in spec.axes["model"]:
                                grid.append(({**config, "model": model, "tokens": spec.tokens},
                                             {"shape": shape}))
                        else:
                            grid.append((config, {"shape": shape}))
    return grid


def _projection_grid(spec: SweepSpec, out: Expansion) -> list[tuple[dict, dict]]:
    from kernels import registry
    from workbench.projection import engine_names
    from workbench.soc import load_soc

    axes = spec.axes
    grid = []
    for soc_name in axes["soc"]:
        soc = load_soc(soc_name)
        engines = engine_names(soc)
        for model, engine, kernel, threads, context, prompt, fmt in itertools.product(
                axes.get("model", ("bitnet-b1.58-2B-4T",)), axes.get("engine", ("auto",)),
                axes.get("kernel", (None,)), axes.get("threads", (None,)), axes.get("context", (None,)),
                axes.get("prompt_tokens", (None,)), axes.get("weight_format", (None,))):
            if engine not in engines:
                out.dropped["engine the SoC lacks"] += 1
                continue
            if threads is not None and threads > soc.cores:
                out.dropped["more threads than the SoC has cores"] += 1
                continue
            if kernel is not None:
                if engine == "auto":
                    out.dropped["kernel with engine auto (a kernel belongs to one engine)"] += 1
                    continue
                isas = {c.isa for c in soc.clusters} if engine == "cpu" else {engine}
                if not any(s.name == kernel for i in isas for s in registry.kernels(i)):
                    out.dropped["kernel not of the engine's ISA"] += 1
                    continue
            grid.append(({"soc": soc_name, "model": model, "engine": engine, "kernel": kernel, "threads": threads,
                          "context": context, "prompt_tokens": prompt, "weight_format": fmt}, {}))
    return grid


def expand(spec: SweepSpec) -> Expansion:
    """The spec's points: the valid grid, or `spec.samples` of it drawn without replacement with
    `spec.seed` (every point when the grid is smaller), in grid order."""
    out = Expansion()
    grid = _projection_grid(spec, out) if spec.kind == "projection" else _kernel_grid(spec, out)
    out.grid = len(grid)
    if spec.search == "random" and spec.samples < len(grid):
        picked = np.random.default_rng(spec.seed).choice(len(grid), size=spec.samples, replace=False)
        grid = [grid[i] for i in sorted(int(i) for i in picked)]
    out.configs = [c for c, _ in grid]
    out.labels = [lab for _, lab in grid]
    return out
