"""`workbench tune`: one kernel's parameter space on one machine and shape, ranked by the model,
with the top configurations run natively where the machine models this CPU.

Sweep layer (`workbench.sweep`), the sweep specialised to one kernel. `tune` resolves the names,
enumerates the space (`param_space.parameter_space` and `grid`), folds configurations whose
Program and prepared inputs are identical (`fold_identical`), evaluates every remaining point as
a verified simulation on Dask (`execute.run_points` of `kernel_point.evaluate_kernel_point`),
ranks the VERIFIED (or LOSSY, for a lossy kernel) points by model cycles per token (ties: fewer
bytes, then the default first) and lists FAILED ones as broken. `native_ranking` compiles the top
configurations for this CPU (`kernels.codegen.NativeKernel`), compares every buffer with the
functional run byte for byte, times them with the target's clock and sets the measured order
beside the model's (Kendall tau, measured/model cycle ratios).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.errors import UnknownNameError, UserError
from workbench.sweep.kernel_point import evaluate_kernel_point, point_inputs
from workbench.sweep.param_space import ParamGrid, grid, parameter_space

__all__ = ["tune", "TuneResult", "NativeRanking", "NativeRecord", "resolve_kernel", "resolve_machine",
           "fold_identical", "rank_rows", "native_problem", "native_ranking", "kendall_tau", "order_note",
           "param_flags", "row_params"]

#: verdicts that are ranked: the kernel's results are what it promises
RANKED = ("VERIFIED", "LOSSY")


# --- names ---------------------------------------------------------------------------------------

def resolve_kernel(kernel: str, isa: str | None):
    """The `KernelSpec` of `kernel` on `isa`; without `isa`, the only ISA having it.

    Raises UnknownNameError (unknown ISA or kernel) or UserError (a name several ISAs have,
    naming them).
    """
    from isa_models.registry import get_isa
    from kernels import registry

    if isa is not None:
        return registry.get(kernel, get_isa(isa).name)
    hits = [s for s in registry.kernels() if s.name == kernel]
    if not hits:
        names = sorted({s.name for s in registry.kernels()})
        raise UnknownNameError(f"unknown kernel {kernel!r}; valid: {', '.join(names)}")
    if len(hits) > 1:
        raise UserError(f"kernel {kernel!r} exists for ISAs {', '.join(s.isa for s in hits)}: name one with --isa")
    return registry.get(kernel)


def resolve_machine(isa: str, name: str):
    """The machine `name` of ISA `isa`, or for "host" the machine modelling this CPU.

    Raises UnknownNameError (a machine of another ISA or none) or UserError ("host" on a CPU no
    machine of the ISA models).
    """
    from isa_models.registry import get_isa
    from kernels.codegen import host

    plugin = get_isa(isa)
    if name == "host":
        found, reason = host.host_check(None, plugin.name)
        if found is None:
            raise UserError(f"--machine host: {reason}")
        return found
    return plugin.load_machine(name)


# --- the space -----------------------------------------------------------------------------------

def _fingerprint(spec, M: int, K: int, params: dict, seed: int) -> str | None:
    """sha256 of the Program's text (its name line aside), its meta (buffer placements and plans the
    timing engines read) and the buffers `prepare` makes from seeded inputs; None when the kernel cannot build or prepare it (the evaluation will say why)."""
    try:
        p = spec.resolve(**params)
        program = spec.build(M, K, **p)
        tokens = int(p[spec.tokens_param]) if spec.batched else 1
        prepared = [spec.prepare(codes, q, **p) for _kind, codes, q in point_inputs(spec, M, K, seed, tokens)]
    except ValueError:                     # UserError included
        return None
    digest = hashlib.sha256(program.to_text().split("\n", 1)[-1].encode())
    digest.update(repr(sorted((k, repr(v)) for k, v in program.meta.items())).encode())   # placements, plans
    for buffers in prepared:
        for name in sorted(buffers):
            digest.update(name.encode() + b"\0" + np.ascontiguousarray(buffers[name]).tobytes())
    return digest.hexdigest()


def fold_identical(spec, M: int, K: int, points: list[dict], *, machine_params: dict | None = None,
                   seed: int = 0) -> tuple[list[dict], list[tuple[dict, dict]]]:
    """Points whose Program and prepared buffers are identical give identical results: keep the
    first of each (the default comes first) and return the others with the point they equal.

    `machine_params` : parameters added before building (the machine parameter's value).

    Returns (distinct points, [(folded point, the distinct point it equals)]).
    """
    extra = dict(machine_params or {})
    first: dict[str, dict] = {}
    distinct, folded = [], []
    for point in points:
        key = _fingerprint(spec, M, K, {**point, **extra}, seed)
        if key is not None and key in first:
            folded.append((point, first[key]))
            continue
        if key is not None:
            first[key] = point
        distinct.append(point)
    return distinct, folded


# --- ranking -------------------------------------------------------------------------------------

def row_params(row: dict) -> dict:
    """The kernel parameters of a result row (its ``param.<name>`` columns)."""
    return {k[len("param."):]: v for k, v in row.items() if k.startswith("param.")}


def _per_token(row: dict) -> float:
    return float(row["cycles"]) / max(int(row.get("tokens") or 1), 1)


def rank_rows(rows: list[dict], *, default: dict, ranked_verdicts=("VERIFIED",)) -> list[dict]:
    """The rows with a ranked verdict (VERIFIED; `RANKED` for a lossy kernel), best first: model
    cycles per token, then fewer bytes,
    then the default configuration, then evaluation order."""
    def is_default(row):
        params = row_params(row)
        return all(params.get(k) == v for k, v in default.items())

    keep = [(i, r) for i, r in enumerate(rows) if r.get("verdict") in ranked_verdicts and r.get("cycles") is not None]
    keep.sort(key=lambda ir: (_per_token(ir[1]), ir[1].get("bytes") or 0, not is_default(ir[1]), ir[0]))
    return [r for _, r in keep]


def param_flags(spec, params: dict) -> str:
    """The ``--param KEY=VALUE`` flags that select `params` in `workbench simulate` (the machine
    parameter, filled from --machine, and parameters the kernel chooses itself (None) left out)."""
    order = [k for k in spec.params if k in params] + [k for k in params if k not in spec.params]
    return " ".join(f"--param {k}={params[k]}" for k in order
                    if k != spec.machine_param and params[k] is not None) or "(the defaults: no --param)"


# --- native ranking ------------------------------------------------------------------------------

@dataclass
class NativeRecord:
    """One configuration compiled and timed on this CPU.

    Attributes
    ----------
    params : its kernel parameters. model_rank, measured_rank : 1-based ranks among those run.
    model_cycles, measured_cycles : the model's and this CPU's core cycles per call.
    check : `kernels.verify.Check` of every buffer against the functional run (bytes).
    """

    params: dict
    model_rank: int
    model_cycles: float
    measured_cycles: float
    check: object
    measured_rank: int = 0

    @property
    def ratio(self) -> float:
        return self.measured_cycles / self.model_cycles if self.model_cycles else float("nan")

    def to_json(self) -> dict:
        return {"params": dict(self.params), "model_rank": self.model_rank, "measured_rank": self.measured_rank,
                "model_cycles": self.model_cycles, "measured_cycles": self.measured_cycles, "ratio": self.ratio,
                "check": self.check.to_json()}


@dataclass
class NativeRanking:
    """The top configurations run natively: records in model order, and where and how."""

    records: list[NativeRecord]
    setup: str
    info: dict = field(default_factory=dict)

    @property
    def tau(self) -> float | None:
        """Kendall's tau-b between the model's and the measured cycles."""
        return kendall_tau([r.model_cycles for r in self.records], [r.measured_cycles for r in self.records])

    @property
    def agreement(self) -> str:
        return order_note([r.measured_rank for r in self.records], model_cycles=[r.model_cycles for r in self.records])

    @property
    def all_equal(self) -> bool:
        return all(r.check.status == "VERIFIED" for r in self.records)

    def to_json(self) -> dict:
        return {"setup": self.setup, **self.info, "kendall_tau": self.tau, "agreement": self.agreement,
                "outputs_equal": self.all_equal, "records": [r.to_json() for r in self.records]}


def kendall_tau(model: list[float], measured: list[float]) -> float | None:
    """Kendall's tau-b between two orderings of the same configurations (`model` and `measured`
    cycles, or ranks): +1 same order, -1 reversed; ties count as neither (tau-b's correction).
    None for fewer than two configurations or when either side is all ties."""
    n = len(model)
    if n < 2:
        return None
    concordant = discordant = ties_model = ties_measured = 0
    for i in range(n):
        for j in range(i + 1, n):
            a = (model[j] > model[i]) - (model[j] < model[i])
            b = (measured[j] > measured[i]) - (measured[j] < measured[i])
            ties_model += a == 0
            ties_measured += b == 0
            if a and b:
                concordant += a == b
                discordant += a != b
    pairs = n * (n - 1) // 2
    denominator = ((pairs - ties_model) * (pairs - ties_measured)) ** 0.5
    return (concordant - discordant) / denominator if denominator else None


def order_note(measured_ranks: list[int], *, model_cycles: list[float] | None = None) -> str:
    """How the measured order (`measured_ranks`: the measured rank of the model's 1st, 2nd, ...)
    compares with the model's: "same order", "swapped 2 and 3" (one exchange), else the measured
    order of the model's ranks ("measured order 3, 1, 2"); with `model_cycles`, model ranks whose
    cycles are equal are named ("model ties 1 and 2")."""
    n = len(measured_ranks)
    if n < 2:
        return "one configuration: no order to compare"
    if list(measured_ranks) == list(range(1, n + 1)):
        note = "same order"
    else:
        wrong = [i + 1 for i, r in enumerate(measured_ranks) if r != i + 1]
        if len(wrong) == 2:
            note = f"swapped {wrong[0]} and {wrong[1]}"
        else:
            by_measured = sorted(range(n), key=lambda i: measured_ranks[i])
            note = "measured order " + ", ".join(str(i + 1) for i in by_measured) + " (model ranks, fastest first)"
    if model_cycles is not None:
        groups = {}
        for i, c in enumerate(model_cycles):
            groups.setdefault(c, []).append(i + 1)
        ties = [g for g in groups.values() if len(g) > 1]
        if ties:
            note += "; model ties " + ", ".join(" and ".join(map(str, g)) for g in ties)
    return note


def native_problem(isa: str, machine, programs=()) -> str | None:
    """Why the top configurations cannot be run natively against `machine`'s model, or None
    (`workbench.flow.crosscheck.native.native_refusal`, as ``simulate --native`` refuses)."""
    from workbench.flow.crosscheck.native import native_refusal

    return native_refusal(isa, machine.name, programs)


def native_ranking(spec, M: int, K: int, rows: list[dict], *, extra_params: dict | None = None,
                   seed: int = 0) -> NativeRanking:
    """Compile, check and time `rows` (best first) on this CPU.

    Each configuration's Program runs on the same seeded inputs through the functional executor
    and natively; every buffer is compared byte for byte (`kernels.verify.compare_buffers`). The
    timing interleaves the configurations: `PASSES` rounds, each a median of `REPEATS` warm calls
    per configuration; the least median counts (as `simulate --native`).
    """
    from isa_models.core.execute import execute
    from kernels.codegen import NativeKernel
    from kernels.codegen.targets import target_for_isa
    from kernels.verify import compare_buffers
    from workbench.flow.crosscheck.native import PASSES, REPEATS, native_setup

    target = target_for_isa(spec.isa)
    compiler = target.measurement_compiler()
    runs = []
    for row in rows:
        params = spec.resolve(**{**row_params(row), **dict(extra_params or {})})
        program = spec.build(M, K, **params)
        tokens = int(params[spec.tokens_param]) if spec.batched else 1
        _kind, codes, q = point_inputs(spec, M, K, seed, tokens)[0]
        inputs = spec.prepare(codes, q, **params)
        kernel = NativeKernel(program, compiler=compiler, target=target)
        check = compare_buffers(execute(program, inputs), kernel(inputs))
        runs.append((row, kernel, inputs, check))
    best = [float("inf")] * len(runs)
    for _ in range(PASSES):
        for i, (_, kernel, inputs, _) in enumerate(runs):
            best[i] = min(best[i], kernel.time(inputs, repeats=REPEATS, warmup=3).cycles)
    records = [NativeRecord({k: v for k, v in row_params(row).items() if k != spec.machine_param}, i + 1,
                            float(row["cycles"]), cycles, check)
               for i, ((row, _, _, check), cycles) in enumerate(zip(runs, best))]
    for rank, i in enumerate(sorted(range(len(records)), key=lambda i: records[i].measured_cycles), start=1):
        records[i].measured_rank = rank
    setup, info = native_setup(target, compiler, interleaved=True)
    return NativeRanking(records, setup, info)


# --- the result ----------------------------------------------------------------------------------

@dataclass
class TuneResult:
    """What `tune` found.

    Attributes
    ----------
    spec, machine : the kernel and the machine. M, K : the shape.
    space : candidate values per parameter (`param_space.parameter_space`).
    grid : the supported combinations and the refused ones (`param_space.ParamGrid`).
    folded : (point, the evaluated point it equals): identical Program and inputs.
    rows : the evaluated rows (`kernel_point.evaluate_kernel_point`), in evaluation order.
    ranked : the VERIFIED (LOSSY) rows, best first (`rank_rows`).
    broken : FAILED rows; unsupported : UNSUPPORTED rows (refused at build or timing).
    cached, computed : points read from the cache and evaluated now.
    native : the native ranking of the top rows, or None; native_note : why it was skipped.
    """

    spec: object
    machine: object
    M: int
    K: int
    space: dict
    grid: ParamGrid
    folded: list
    rows: list[dict]
    ranked: list[dict]
    broken: list[dict]
    unsupported: list[dict]
    cached: int = 0
    computed: int = 0
    top: int = 3
    native: NativeRanking | None = None
    native_note: str | None = None

    @property
    def best(self) -> dict | None:
        return self.ranked[0] if self.ranked else None

    @property
    def default_row(self) -> dict | None:
        """The row of the default configuration (or of the point it was folded into), or None."""
        default = self.grid.default
        target = next((same for point, same in self.folded if point == default), default)
        return next((r for r in self.rows if all(row_params(r).get(k) == v for k, v in target.items())), None)

    def vs_default(self, row: dict) -> float | None:
        """Default's cycles per token over the row's (above 1: faster than the default), or None."""
        d = self.default_row
        if d is None or d.get("cycles") is None or d.get("verdict") not in RANKED:
            return None
        return _per_token(d) / _per_token(row)

    def flags(self, row: dict | None = None) -> str:
        """The ``--param`` flags of `row` (default: the best) for `workbench simulate`."""
        row = row if row is not None else self.best
        return param_flags(self.spec, row_params(row)) if row else ""

    def to_json(self) -> dict:
        def params(p):
            return {k: v for k, v in p.items() if k != self.spec.machine_param}

        best = self.best
        return {"isa": self.spec.isa, "kernel": self.spec.name, "machine": self.machine.name, "M": self.M, "K": self.K,
                "exactness": self.spec.exactness, "space": {k: list(v) for k, v in self.space.items()},
                "default": params(self.grid.default),
                "points": {"grid": len(self.grid.points) + len(self.grid.refused), "refused": len(self.grid.refused),
                           "folded": len(self.folded), "evaluated": len(self.rows), "cached": self.cached,
                           "computed": self.computed, "ranked": len(self.ranked), "broken": len(self.broken),
                           "unsupported": len(self.unsupported)},
                "best": None if best is None else {"params": params(row_params(best)), "flags": self.flags(best),
                                                   "cycles": best["cycles"], "vs_default": self.vs_default(best)},
                "ranked": [{**r, "vs_default": self.vs_default(r)} for r in self.ranked],
                "broken": self.broken, "unsupported": self.unsupported,
                "refused": [{"params": params(p), "reason": why} for p, why in self.grid.refused],
                "folded": [{"params": params(p), "same_as": params(s)} for p, s in self.folded],
                "native": None if self.native is None else self.native.to_json(),
                "native_skipped": self.native_note}


def tune(*, kernel: str, isa: str | None, machine: str, M: int, K: int, fixed: dict | None = None,
         values: dict | None = None, top: int = 3, scheduler: str | None = None, workers: int = 2,
         cache_dir: Path | None = None, native: bool | None = None, progress: bool = True,
         seed: int = 0) -> TuneResult:
    """Evaluate a kernel's parameter space on one machine and shape and rank it.

    Parameters
    ----------
    kernel, isa : the kernel (`isa` may be None when only one ISA has it).
    machine : a machine of the ISA, or "host" (the one modelling this CPU).
    M, K : the shape.
    fixed : parameter -> value (``--param``); values : parameter -> candidate list (``--values``).
    top : configurations run natively (and the runners-up a report shows).
    scheduler, workers, cache_dir, progress : `execute.run_points`'s.
    native : None: run the top natively when the machine models this CPU; True: required (a
        UserError saying why not); False: off.
    seed : seed of the weights and activations.

    Raises
    ------
    UserError (UnknownNameError for names) naming the culprit: an unknown kernel, ISA or machine,
    a machine of another ISA, a parameter the kernel does not take, a shape no configuration
    supports, a machine lacking the kernel's ISA extensions, ``native=True`` where impossible.
    """
    from workbench.sweep.execute import RunStats, run_points

    if top < 1:
        raise UserError(f"--top {top}: must be at least 1")
    spec = resolve_kernel(kernel, isa)
    mach = resolve_machine(spec.isa, machine)
    for name, value in (("M", M), ("K", K)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"shape: {name}={value!r} must be a positive integer")
    space = parameter_space(spec, mach, M, K, fixed=fixed, values=values)
    g = grid(spec, space, M, K)
    if not g.points:
        why = next((reason for p, reason in g.refused if p == g.default), g.refused[0][1] if g.refused else "")
        raise UserError(f"kernel {spec.name}/{spec.isa} cannot take shape {M}x{K} with any configuration: {why}")
    machine_params = {spec.machine_param: mach.name} if spec.machine_param else {}
    first = spec.build(M, K, **spec.resolve(**{**g.points[0], **machine_params}))
    mach.check_program(first)
    if native is True:
        problem = native_problem(spec.isa, mach, [first])
        if problem is not None:
            raise UserError(f"--native: {problem}")
    points, folded = fold_identical(spec, M, K, g.points, machine_params=machine_params, seed=seed)
    configs = [{"isa": spec.isa, "kernel": spec.name, "machine": mach.name, "M": M, "K": K, "params": p, "seed": seed}
               for p in points]
    stats = RunStats()
    rows = run_points(configs, evaluate_kernel_point, scheduler=scheduler, workers=workers, cache_dir=cache_dir,
                      progress=progress, stats=stats)
    default = {k: v for k, v in g.default.items()}
    ranked_verdicts = RANKED if spec.exactness == "lossy" else ("VERIFIED",)
    ranked = rank_rows(rows, default=default, ranked_verdicts=ranked_verdicts)
    result = TuneResult(spec, mach, M, K, space, g, folded, rows, ranked,
                        broken=[r for r in rows if r.get("verdict") == "FAILED"
                                or (r.get("verdict") == "LOSSY" and spec.exactness != "lossy")],
                        unsupported=[r for r in rows if r.get("verdict") == "UNSUPPORTED"],
                        cached=stats.cached, computed=stats.computed, top=top)
    if native is False:
        result.native_note = "off (--no-native)"
    elif ranked:
        leaders = ranked[:top]
        programs = [spec.build(M, K, **spec.resolve(**{**row_params(r), **machine_params})) for r in leaders]
        problem = native_problem(spec.isa, mach, programs)
        if problem is not None and native is True:
            raise UserError(f"--native: {problem}")
        if problem is None:
            result.native = native_ranking(spec, M, K, leaders, extra_params=machine_params, seed=seed)
        else:
            result.native_note = problem
    else:
        result.native_note = "no configuration verified: nothing to run natively"
    return result
