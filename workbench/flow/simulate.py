"""The simulate pipeline, one for every ISA: a kernel, a machine and a model -> checked integers and
cycles.

Top of the flow (DESIGN.md §6, §8). `plan` resolves and checks everything a run needs without
doing any work (ISA, machine, kernel and model first, through `defaults.resolve`; then views,
layer, activations, workers and the cross-checks' own refusals); `execute` does the work: the
weights of the layers it needs, the activation rows, each unique shape's Program timed once
through `isa_models.core.timing.time_program` (whatever engine the machine names) with the views
listening, every projection run functionally and judged by `kernels.verify`, the cross-checks,
and for a whole token the per-token projection. `simulate` is both in one call. A batched
(prefill) kernel runs every projection on a batch of rows (`workbench.flow.checks.job_rows`) and
its token projection divides each call by the tokens it serves.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from tqdm import tqdm

import workbench
from isa_models.core.timing import time_program
from isa_models.core.views import VIEWS, applies, headline_views, views_for
from workbench.errors import UnknownNameError, UserError
from workbench.flow.activations import Activations, check_source, load_weights, needed_layers
from workbench.flow.checks import job_rows, run_checks
from workbench.flow.crosscheck import CrossCheckContext, ShapeCase, select_crosschecks
from workbench.flow.defaults import Resolved, resolve
from workbench.flow.records import ProjectionResult, ShapeTiming, SimulationRun
from workbench.flow.token import project_token, token_weight_bytes
from workbench.reference import PROJECTIONS

__all__ = ["VIEW_NAMES", "ALL_VIEWS", "make_views", "engine_views", "SimulationPlan", "plan", "execute", "simulate",
           "kernel_info", "compared_against"]

#: every view name (`isa_models.core.views.VIEWS`); a machine's engine renders `engine_views` of them
VIEW_NAMES = tuple(VIEWS)
#: the name that stands for every view the machine's engine renders (``--views`` alone)
ALL_VIEWS = "all"


def engine_views(machine) -> tuple[str, ...]:
    """The views that render a run on `machine` (those declared for its engine kind)."""
    return views_for(machine.engine)


def make_views(names: Iterable[str], *, machine=None) -> dict:
    """Fresh view listeners by name (`VIEW_NAMES`).

    Raises
    ------
    UnknownNameError : an unknown name. UserError : with `machine`, a view its engine does not
        render ("view 'packets' does not render the ooo engine of machine zen4; its views: ...").
    """
    views = {}
    for name in names:
        if name not in VIEWS:
            raise UnknownNameError(f"unknown view {name!r}; valid: {', '.join(VIEW_NAMES)}")
        if machine is not None and not applies(name, machine.engine):
            raise UserError(f"view {name!r} does not render the {machine.engine} engine of machine "
                            f"{machine.name}; its views: {', '.join(engine_views(machine))}")
        views[name] = VIEWS[name]()
    return views


def kernel_info(spec) -> dict:
    """The registered facts of a kernel, JSON-ready (name, ISA, format, params, exactness, bound)."""
    info = {"name": spec.name, "isa": spec.isa, "format": spec.weight_format,
            "params": dict(spec.params), "exactness": spec.exactness, "description": spec.description}
    if spec.bound:
        info["bound"] = spec.bound
    if spec.error:
        info["error"] = dict(spec.error)
    if spec.tokens_param:
        info["tokens_param"] = spec.tokens_param
    return info


def compared_against(activations: str, *, tokens: int = 1) -> str:
    """What VERIFIED rests on, in words, for a run with this activation source (`tokens` rows per
    call for a batched kernel: the source's row plus tokens-1 seeded Gaussian rows)."""
    rows = ("inside the reference forward pass (one decode step: same q, same codes)" if activations == "trace"
            else "on seeded Gaussian activation rows")
    if tokens > 1:
        rows += f", each batch that row plus {tokens - 1} further seeded Gaussian rows"
    return f"every int32 accumulator compared with workbench.reference.ternary_matvec {rows}, integer equality"


@dataclass
class SimulationPlan:
    """A checked run, no work done yet (see `plan`)."""

    resolved: Resolved
    layers: list[int]
    whole_token: bool
    views: tuple[str, ...]
    activations: str
    token_id: int | None
    seed: int
    cold: bool
    workers: int
    crosschecks: list = field(default_factory=list)
    context: CrossCheckContext | None = None


def plan(*, isa: str, machine: str | None = None, kernel: str | None = None, model: str | None = None,
         layer: int | None = None, views: Iterable[str] = (), seed: int = 0, activations: str = "trace",
         token_id: int | None = None, cold: bool = False, params: dict | None = None, workers: int = 2,
         crosschecks: Iterable[str] = (), options: dict | None = None) -> SimulationPlan:
    """Resolve and check a run; nothing is loaded, timed or run.

    Parameters
    ----------
    isa : a registered ISA (`isa_models.registry`).
    machine : a machine of that ISA, "host" (the one modelling this CPU), or None (see
        `workbench.flow.defaults`). kernel : a kernel registered for the ISA, or None (its fastest
        exact kernel the machine runs). model : a preset (None: bitnet-b1.58-2B-4T).
    layer : one decoder layer, or None for the whole token.
    views : views attached to each unique shape's timing run (`VIEW_NAMES`, those the machine's
        engine renders: `engine_views`); `ALL_VIEWS` ("all") stands for all of those.
    seed : seed of the random weights (and Gaussian activations).
    activations : "trace" (the reference forward pass's q) or "gaussian" (seeded).
    token_id : the token of the "trace" source (None: BOS).
    cold : time with the working set streamed from DRAM instead of the level holding it.
    params : kernel build parameters (tile sizes); unknown keys are refused by the kernel.
    workers : processes for the functional checks (forked; 1 = inline); at least 1.
    crosschecks : cross-check names (`workbench.flow.crosscheck`) that apply to the ISA.
    options : cross-check options (``simulator`` for "rtl").

    Raises
    ------
    UserError (UnknownNameError for names) naming the culprit; an unknown ISA, machine, kernel or
    model comes first.
    """
    resolved = resolve(isa=isa, machine=machine, kernel=kernel, model=model, params=params)
    config = resolved.config
    views = tuple(views)
    if ALL_VIEWS in views:
        views = tuple(dict.fromkeys(v for name in views
                                    for v in (engine_views(resolved.machine) if name == ALL_VIEWS else (name,))))
    make_views(views, machine=resolved.machine)
    check_source(activations)
    if layer is not None and not 0 <= layer < config.num_layers:
        raise UserError(f"--layer {layer}: model {config.name!r} has layers 0..{config.num_layers - 1}")
    if workers < 1:
        raise UserError(f"--workers {workers}: must be at least 1")
    checks = select_crosschecks(crosschecks, resolved.plugin)
    runner = resolved.runner
    shapes = dict.fromkeys(config.projection_shape(p) for p in PROJECTIONS)
    ctx = CrossCheckContext(resolved.plugin, resolved.machine, resolved.spec, dict(resolved.params),
                            programs=[runner.program(M, K) for M, K in shapes], cold=cold,
                            options=dict(options or {}))
    for check in checks:
        problem = check.refusal(ctx)
        if problem is not None:
            raise UserError(f"cross-check {check.name}: {problem}")
    layers = list(range(config.num_layers)) if layer is None else [layer]
    return SimulationPlan(resolved, layers, layer is None, views, activations, token_id, seed, cold, workers,
                          checks, ctx)


def execute(p: SimulationPlan, *, progress: bool = False) -> SimulationRun:
    """Do the work of a `plan`: weights, activations, timing, functional checks, cross-checks."""
    r = p.resolved
    config, runner, machine = r.config, r.runner, r.machine
    bar = _progress(progress, total=len(needed_layers(p.layers, source=p.activations)),
                    desc=f"weights {config.name}", unit="layer")
    weights = load_weights(config, seed=p.seed, layers=needed_layers(p.layers, source=p.activations),
                           progress=lambda _: bar.update(1))
    bar.close()
    acts = Activations(weights, source=p.activations, token_id=p.token_id, seed=p.seed, layers=p.layers)

    shapes: dict[tuple[int, int], ShapeTiming] = {}
    for proj in PROJECTIONS:
        M, K = config.projection_shape(proj)
        if (M, K) in shapes:
            shapes[(M, K)].projections += (proj,)
            continue
        listeners = make_views(p.views)
        headlines = make_views([v for v in headline_views(machine.engine) if v not in listeners])
        result = time_program(runner.program(M, K), machine, cold=p.cold,
                              listeners=[*listeners.values(), *headlines.values()])
        shapes[(M, K)] = ShapeTiming(M, K, result, listeners, (proj,), headlines, tokens=runner.tokens)

    jobs = [(li, proj) for li in p.layers for proj in PROJECTIONS]
    bar = _progress(progress, total=len(jobs), desc=f"verify {r.spec.name}", unit="proj")
    checks = run_checks(runner, weights, acts, jobs, workers=p.workers, on_done=lambda: bar.update(1))
    bar.close()
    results = [ProjectionResult(li, proj, c, shapes[config.projection_shape(proj)])
               for (li, proj), c in zip(jobs, checks)]

    crosschecks = {}
    if p.crosschecks:
        p.context.cases = [_case(shape, runner, weights, acts, p.layers[0]) for shape in shapes.values()]
        for check in p.crosschecks:
            bar = _progress(progress, total=len(shapes), desc=check.name, unit="shape")
            crosschecks[check.name] = check.run(p.context, on_done=lambda: bar.update(1))
            crosschecks[check.name].source = check
            bar.close()

    run = SimulationRun(_config(p, weights), list(r.defaults), results, shapes, crosschecks)
    if p.whole_token:
        nbytes, what = token_weight_bytes(r.spec, config, shapes)
        run.token = project_token(run, machine=machine, weight_bytes=nbytes, weight_source=what,
                                  tokens_per_call=runner.tokens)
    return run


def simulate(*, progress: bool = False, **kw) -> SimulationRun:
    """`plan` then `execute` (same keywords as `plan`, plus `progress`: tqdm bars on stderr)."""
    return execute(plan(**kw), progress=progress)


def _case(shape: ShapeTiming, runner, weights, acts, layer: int) -> ShapeCase:
    proj = shape.projections[0]
    codes = np.ascontiguousarray(weights.layers[layer].projection(proj).codes)
    inputs = runner.spec.prepare(codes, job_rows(runner, acts, layer, proj), **runner.params)
    return ShapeCase(shape.M, shape.K, layer, shape.projections, runner.program(shape.M, shape.K), inputs,
                     shape.cycles)


def _config(p: SimulationPlan, weights) -> dict:
    """The resolved configuration written beside every result."""
    r = p.resolved
    return {"workbench_version": workbench.__version__, "command": " ".join(sys.argv),
            "isa": {"name": r.plugin.name, "description": r.plugin.description},
            "kernel": {**kernel_info(r.spec), "build_params": dict(r.params)},
            "machine": r.machine.to_json(),
            "model": {**r.config.to_dict(), "weights_seed": p.seed,
                      "weights": {k: v for k, v in weights.meta.items() if isinstance(v, (str, int, float))}},
            "layers": p.layers, "whole_token": p.whole_token, "activations": p.activations,
            "token_id": p.token_id, "compared_against": compared_against(p.activations, tokens=r.runner.tokens),
            "memory": "cold (working set from DRAM)" if p.cold else "warm (smallest level holding it)",
            "views": list(p.views), "crosschecks": [c.name for c in p.crosschecks],
            "crosscheck_options": dict(p.context.options) if p.context else {},
            "defaults": list(r.defaults)}


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, **kw):
    return tqdm(file=sys.stderr, **kw) if enabled else _NoBar()
