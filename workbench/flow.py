"""The simulate flow: a registered kernel, a machine and a model -> checked integers and cycles.

Top of the flow (DESIGN.md §3, §6). For each projection of a layer (or of the whole token) the
flow builds the kernel's Program for the projection's shape, feeds it the layer's real weights
and a realistic int8 activation row (the reference forward pass's own trace, or seeded Gaussian
activations through `workbench.quant`), runs the functional executor, and compares the int32
accumulators with `workbench.reference.ternary_matvec` by equality. Timing runs once per unique
shape on the machine model; views (summary, pressure, timeline, bottleneck) listen to it. The
text/JSON reports live in `workbench.report`, plots in `workbench.plots`.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

__all__ = ["VIEW_NAMES", "ACTIVATION_SOURCES", "CheckResult", "ShapeTiming", "ProjectionResult",
           "NativeMeasurement", "measure_native", "resolve_machine_name", "check_native_host",
           "TokenProjection", "SimulationRun", "first_mismatch", "check_projection", "make_views",
           "time_shape", "kernel_info", "KernelRunner", "Activations", "activation_rows", "run_checks", "load_model_weights",
           "simulate", "project_token", "resolved_config"]

VIEW_NAMES = ("summary", "pressure", "timeline", "bottleneck")
ACTIVATION_SOURCES = ("trace", "gaussian")


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class CheckResult:
    """The functional check of one projection.

    status : "VERIFIED" (every accumulator equal), "FAILED" (first mismatch in `mismatch`), or
        "LOSSY" (a kernel registered as lossy: `error` holds its measured error, no equality).
    """

    layer: int
    proj: str
    M: int
    K: int
    status: str
    mismatch: str | None = None
    mismatches: int = 0
    error: dict | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("VERIFIED", "LOSSY")

    def to_json(self) -> dict:
        return {"layer": self.layer, "proj": self.proj, "M": self.M, "K": self.K, "status": self.status,
                "mismatch": self.mismatch, "mismatches": self.mismatches, "error": self.error}


@dataclass
class ShapeTiming:
    """The timing of one kernel Program shape (M, K) on one machine."""

    M: int
    K: int
    timing: object                       # isa_models.core.timing.TimingResult
    views: dict = field(default_factory=dict)
    native: "NativeMeasurement | None" = None    # --native: the emitted C on this host

    @property
    def cycles(self) -> float:
        return self.timing.cycles

    @property
    def seconds(self) -> float:
        return self.timing.seconds

    @property
    def ops(self) -> int:
        """Multiply-adds counted as 2 operations each: 2 M K."""
        return 2 * self.M * self.K

    @property
    def gops(self) -> float:
        return self.ops / self.seconds / 1e9 if self.seconds else 0.0

    @property
    def bytes_moved(self) -> int:
        return self.timing.loops[0].footprint_bytes

    @property
    def binding(self) -> str:
        return self.timing.binding

    def to_json(self) -> dict:
        return {"M": self.M, "K": self.K, "cycles": self.cycles, "seconds": self.seconds,
                "gops": self.gops, "bytes_moved": self.bytes_moved, "binding": self.binding,
                "memory_level": self.timing.memory_level, "compute_cycles": self.timing.compute_cycles,
                "memory_cycles": self.timing.memory_cycles, "instructions": self.timing.instructions,
                "ipc": self.timing.ipc,
                "native": None if self.native is None else self.native.to_json(),
                "views": {name: v.to_json() for name, v in self.views.items()}}


@dataclass
class ProjectionResult:
    check: CheckResult
    timing: ShapeTiming

    def to_json(self) -> dict:
        t = self.timing
        return {**self.check.to_json(), "cycles": t.cycles, "seconds": t.seconds, "gops": t.gops,
                "bytes_moved": t.bytes_moved, "binding": t.binding}


@dataclass(frozen=True)
class TokenProjection:
    """Whole-token figures: kernel time per token on one core and tokens/s for 1..N cores.

    tokens_per_s[n-1] = 1 / max(kernel_seconds / n, weight_bytes / DRAM bandwidth of n cores),
    the DRAM bandwidth of n cores being min(n * per-core, chip). Only the ternary projections are
    modelled (attention, norms and the lm_head are not).
    """

    kernel_cycles: float
    kernel_seconds: float
    weight_bytes: int
    dram_gbps_core: float
    dram_gbps_chip: float
    cores: int

    def dram_gbps(self, n: int) -> float:
        return min(n * self.dram_gbps_core, self.dram_gbps_chip)

    def roofline_tokens_per_s(self, n: int) -> float:
        return self.dram_gbps(n) * 1e9 / self.weight_bytes

    def compute_tokens_per_s(self, n: int) -> float:
        return n / self.kernel_seconds

    def tokens_per_s(self, n: int) -> float:
        return min(self.compute_tokens_per_s(n), self.roofline_tokens_per_s(n))

    def bound(self, n: int) -> str:
        return "DRAM" if self.roofline_tokens_per_s(n) < self.compute_tokens_per_s(n) else "compute"

    def to_json(self) -> dict:
        return {"kernel_cycles_per_token": self.kernel_cycles, "kernel_seconds_per_token": self.kernel_seconds,
                "weight_bytes_per_token": self.weight_bytes, "dram_gbps_core": self.dram_gbps_core,
                "dram_gbps_chip": self.dram_gbps_chip,
                "by_cores": [{"cores": n, "tokens_per_s": self.tokens_per_s(n),
                              "compute_tokens_per_s": self.compute_tokens_per_s(n),
                              "roofline_tokens_per_s": self.roofline_tokens_per_s(n),
                              "dram_gbps": self.dram_gbps(n), "bound": self.bound(n)}
                             for n in range(1, self.cores + 1)]}


@dataclass
class SimulationRun:
    """Everything one `simulate` call produced, with the configuration that produced it."""

    config: dict
    projections: list[ProjectionResult]
    shapes: dict                                   # (M, K) -> ShapeTiming
    token: TokenProjection | None = None

    @property
    def verified(self) -> bool:
        return all(p.check.ok for p in self.projections) and not self.native_mismatches

    @property
    def native_mismatches(self) -> list[tuple[int, int]]:
        """Shapes whose native run (`--native`) differs from the functional run."""
        return [key for key, s in self.shapes.items() if s.native is not None and not s.native.equal]

    @property
    def failures(self) -> list[CheckResult]:
        return [p.check for p in self.projections if not p.check.ok]

    def to_json(self) -> dict:
        return {"config": self.config,
                "verified": self.verified,
                "projections": [p.to_json() for p in self.projections],
                "shapes": [s.to_json() for s in self.shapes.values()],
                "token": self.token.to_json() if self.token else None}


# --------------------------------------------------------------------------------------------
# checking


def first_mismatch(expected: np.ndarray, got: np.ndarray) -> tuple[str | None, int]:
    """("row r: expected e, got g", number of differing rows) or (None, 0) when equal."""
    expected = np.asarray(expected).reshape(-1)
    got = np.asarray(got).reshape(-1)
    if expected.shape != got.shape:
        return f"shape: expected {expected.size} accumulators, got {got.size}", max(expected.size, got.size)
    bad = np.flatnonzero(expected.astype(np.int64) != got.astype(np.int64))
    if bad.size == 0:
        return None, 0
    r = int(bad[0])
    return f"row {r}: expected {int(expected[r])}, got {int(got[r])}", int(bad.size)


def lossy_error(expected: np.ndarray, got: np.ndarray) -> dict:
    """Relative RMS error and max abs error of an approximate result against exact accumulators."""
    e = np.asarray(expected, dtype=np.float64).reshape(-1)
    g = np.asarray(got, dtype=np.float64).reshape(-1)
    rms = float(np.sqrt(np.mean(e * e))) or 1.0
    return {"rel_rms": float(np.sqrt(np.mean((g - e) ** 2)) / rms), "max_abs": float(np.max(np.abs(g - e)))}


def check_projection(layer: int, proj: str, expected: np.ndarray, got: np.ndarray, *,
                     exactness: str, K: int = 0) -> CheckResult:
    """Compare a kernel's accumulators with the reference's: equality, or error if lossy.

    `K` (the reduction length) is recorded in the result only.
    """
    M = int(np.asarray(expected).size)
    if exactness == "lossy":
        return CheckResult(layer, proj, M, K, "LOSSY", error=lossy_error(expected, got))
    got = np.asarray(got)
    if not np.issubdtype(got.dtype, np.integer):
        return CheckResult(layer, proj, M, K, "FAILED", mismatch=f"kernel returned {got.dtype}, not integers",
                           mismatches=M)
    text, count = first_mismatch(expected, got)
    return CheckResult(layer, proj, M, K, "FAILED" if text else "VERIFIED", mismatch=text, mismatches=count)


# --------------------------------------------------------------------------------------------
# kernels


def kernel_info(spec) -> dict:
    """The registered facts of a kernel, JSON-ready (name, ISA, format, params, exactness, bound)."""
    info = {"name": spec.name, "isa": spec.isa, "format": spec.weight_format,
            "params": dict(spec.params), "exactness": spec.exactness, "description": spec.description}
    if spec.bound:
        info["bound"] = spec.bound
    if spec.error:
        info["error"] = dict(spec.error)
    return info


class KernelRunner:
    """One registered kernel (`kernels.registry.KernelSpec`): Programs built once per shape,
    functional runs on real buffers through `kernels.registry.run`."""

    def __init__(self, spec, **params):
        self.spec = spec
        self.params = spec.resolve(**params)
        self._programs: dict[tuple[int, int], object] = {}

    @property
    def exactness(self) -> str:
        return self.spec.exactness

    def program(self, M: int, K: int):
        """The kernel's Program for shape (M, K) (ValueError naming a violated shape constraint)."""
        key = (M, K)
        if key not in self._programs:
            self.spec.check_shape(M, K, **self.params)
            self._programs[key] = self.spec.build(M, K, **self.params)
        return self._programs[key]

    def run(self, codes: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The kernel's accumulators for weight codes [M, K] and one int8 activation row [K]."""
        from kernels.registry import run

        M, K = codes.shape
        return np.asarray(run(self.spec, codes, q, program=self.program(M, K), **self.params))

    def check(self, layer: int, proj: str, codes: np.ndarray, q: np.ndarray, *,
              expected: np.ndarray | None = None) -> CheckResult:
        """Run and compare with `workbench.reference.ternary_matvec` (equality unless lossy).

        `expected` : the reference accumulators when already computed (the forward pass's trace
        holds ternary_matvec's output for exactly this q and these codes).
        """
        if expected is None:
            from workbench.reference import ternary_matvec
            expected = ternary_matvec(q[None, :], codes)[0]
        got = self.run(codes, q)
        c = check_projection(layer, proj, expected, got, exactness=self.exactness, K=codes.shape[1])
        if c.status == "FAILED" and got.shape == expected.shape:
            c = dataclasses.replace(c, mismatch=self._explain(codes, q, expected, got, c.mismatch))
        return c

    def _explain(self, codes, q, expected, got, mismatch: str) -> str:
        spec = self.spec
        row = int(np.flatnonzero(expected != got)[0])
        if spec.diagnose is not None:
            mismatch = spec.diagnose(codes, q, row, int(expected[row]), int(got[row]), **self.params)
        if spec.exactness == "bounded" and spec.bound_holds is not None:
            holds = np.asarray(spec.bound_holds(codes, q, **self.params), dtype=bool)
            inside = bool(holds[row]) if holds.ndim else bool(holds)
            mismatch += (" [inputs within the kernel's bound: a kernel bug]" if inside
                         else f" [inputs outside the kernel's bound: {spec.bound}]")
        return mismatch


# --------------------------------------------------------------------------------------------
# timing


def make_views(names: Iterable[str]) -> dict:
    """Fresh view listeners by name (summary, pressure, timeline, bottleneck)."""
    from isa_models.core.views import BottleneckView, PortPressureView, SummaryView, TimelineView

    classes = {"summary": SummaryView, "pressure": PortPressureView, "timeline": TimelineView,
               "bottleneck": BottleneckView}
    views = {}
    for name in names:
        if name not in classes:
            raise ValueError(f"unknown view {name!r}; valid: {', '.join(VIEW_NAMES)}")
        views[name] = classes[name]()
    return views


@dataclass(frozen=True)
class NativeMeasurement:
    """One shape's emitted C run on this host (`simulate --native`).

    cycles : least of `passes` medians of `repeats` calls, in core cycles (rdtsc calibrated).
    equal : the native output buffers equal the functional run's byte for byte.
    """

    cycles: float
    equal: bool
    compiler: str
    repeats: int
    passes: int
    host: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


#: calls per timed median and medians per shape for `simulate --native`
NATIVE_REPEATS, NATIVE_PASSES = 21, 3


def resolve_machine_name(machine: str, isa: str) -> str:
    """`machine`, or for "host" the machine of `isa` whose [host] table matches this CPU."""
    if machine != "host":
        return machine
    from kernels.codegen.build import host_check

    found, reason = host_check(None, isa)
    if found is None:
        raise LookupError(f"--machine host: {reason}")
    return found.name


def check_native_host(machine, isa: str) -> str:
    """The host description when `machine` models this CPU, else a ValueError: native cycles of
    another core would not check the model."""
    from kernels.codegen.build import describe_host, host_check

    if isa != "avx2":
        raise ValueError(f"--native: native runs exist for --isa avx2 only, not {isa}")
    _, reason = host_check(machine.name, isa)
    if reason is not None:
        raise ValueError(f"--native: {reason}, not {machine.name}: its cycles cannot check that model "
                         f"(use --machine host)")
    return describe_host()


def measure_native(runner: "KernelRunner", program, codes: np.ndarray, q: np.ndarray, *,
                   host: str) -> NativeMeasurement:
    """Compile `program` (`kernels.codegen.build.measurement_compiler`), run it natively on the
    kernel's buffers for `codes` and `q`, compare with the functional run, and time it."""
    from kernels.codegen import NativeKernel
    from kernels.codegen.build import measurement_compiler

    compiler = measurement_compiler()
    buffers = runner.spec.prepare(codes, q, **runner.params)
    native = NativeKernel(program, compiler=compiler)
    equal = native.equals_functional(buffers)
    cycles = min(native.time(buffers, repeats=NATIVE_REPEATS, warmup=3).cycles for _ in range(NATIVE_PASSES))
    return NativeMeasurement(cycles, equal, compiler, NATIVE_REPEATS, NATIVE_PASSES, host)


def time_shape(program, machine, *, M: int, K: int, views: Iterable[str] = (),
               cold: bool = False) -> ShapeTiming:
    """Time the (M, K) Program on `machine`, with the named views listening."""
    from isa_models.core.timing import time_program

    listeners = make_views(views)
    result = time_program(program, machine, listeners=list(listeners.values()), cold=cold)
    return ShapeTiming(M, K, result, listeners)


# --------------------------------------------------------------------------------------------
# model, weights and activations


def load_model_weights(model: str, *, seed: int, progress: Callable | None = None):
    """The preset's deterministic random weights (disk-cached for large presets)."""
    from workbench.reference import get_preset, random_weights

    config = get_preset(model)
    return random_weights(config, seed=seed, progress=progress)


class Activations:
    """The int8 activation row each projection sees, and the reference accumulators for it.

    source "trace": one decode step of the reference forward pass (`token_id`, default BOS, at
    position 0); every projection gets exactly the q the reference quantized for it, and the
    expected accumulators are the ones `workbench.reference.ternary_matvec` computed inside that
    forward pass for the same q and codes.
    source "gaussian": a standard-normal row per (layer, proj) from its own seeded generator,
    quantized with `workbench.quant.quantize_activations`; expected = `ternary_matvec`.
    """

    def __init__(self, weights, *, source: str, token_id: int | None, seed: int):
        if source not in ACTIVATION_SOURCES:
            raise ValueError(f"unknown activation source {source!r}; valid: {', '.join(ACTIVATION_SOURCES)}")
        self.weights, self.source, self.seed = weights, source, seed
        self.trace = None
        if source == "trace":
            from workbench.reference import Trace, forward

            config = weights.config
            self.trace = Trace()
            token = config.bos_token_id if token_id is None else token_id
            forward(weights, [token], trace=self.trace, last_only=True)

    def row(self, layer: int, proj: str) -> np.ndarray:
        """int8 [K] activation row of projection `proj` of `layer`."""
        if self.trace is not None:
            return np.ascontiguousarray(self.trace[(layer, proj)].q[0])
        from workbench.quant import quantize_activations
        from workbench.reference import PROJECTIONS

        _, K = self.weights.config.projection_shape(proj)
        rng = np.random.default_rng((self.seed, layer, PROJECTIONS.index(proj)))
        q, _ = quantize_activations(rng.standard_normal(K, dtype=np.float32))
        return q

    def expected(self, layer: int, proj: str) -> np.ndarray:
        """The reference int32 [M] accumulators for `row(layer, proj)` and the layer's codes."""
        if self.trace is not None:
            return self.trace[(layer, proj)].acc[0]
        from workbench.reference import ternary_matvec

        return ternary_matvec(self.row(layer, proj)[None, :], self.weights.layers[layer].projection(proj).codes)[0]


def activation_rows(weights, *, source: str, token_id: int | None, seed: int) -> Callable:
    """``(layer, proj) -> int8 [K]``: the rows of an `Activations` (see there)."""
    return Activations(weights, source=source, token_id=token_id, seed=seed).row


_JOB_STATE: dict = {}


def _check_job(job) -> CheckResult:
    """One functional check (runs in a forked worker or inline; state in `_JOB_STATE`)."""
    layer, proj, expected = job
    st = _JOB_STATE
    codes = np.ascontiguousarray(st["weights"].layers[layer].projection(proj).codes)
    return st["runner"].check(layer, proj, codes, st["activations"].row(layer, proj), expected=expected)


def run_checks(runner: KernelRunner, weights, activations: Activations, jobs: list[tuple[int, str]], *,
               workers: int, on_done: Callable = lambda: None) -> list[CheckResult]:
    """Functional checks of `jobs` [(layer, proj)], in forked worker processes when workers > 1.

    The reference accumulators are computed here first (Numba's threads stay in this process);
    the workers inherit weights, activations and the built Programs by fork.
    """
    import multiprocessing as mp

    tasks = [(li, p, activations.expected(li, p)) for li, p in jobs]
    _JOB_STATE.update(runner=runner, weights=weights, activations=activations)
    out: list[CheckResult] = []
    try:
        if workers > 1 and len(tasks) > 1 and "fork" in mp.get_all_start_methods():
            with mp.get_context("fork").Pool(min(workers, len(tasks))) as pool:
                for c in pool.imap(_check_job, tasks):
                    out.append(c)
                    on_done()
        else:
            for t in tasks:
                out.append(_check_job(t))
                on_done()
    finally:
        _JOB_STATE.clear()
    return out


# --------------------------------------------------------------------------------------------
# the flow


def resolved_config(*, spec, params: dict, machine, weights, layers: list[int], activations: str,
                    token_id: int | None, seed: int, views, cold: bool) -> dict:
    """The resolved machine, kernel and model configuration written beside every result."""
    import workbench

    return {"workbench_version": workbench.__version__, "command": " ".join(sys.argv),
            "kernel": {**kernel_info(spec), "build_params": params},
            "machine": machine.to_json(),
            "model": {**weights.config.to_dict(), "weights_seed": seed,
                      "weights": {k: v for k, v in weights.meta.items() if isinstance(v, (str, int, float))}},
            "layers": layers, "activations": activations, "token_id": token_id,
            "memory": "cold (working set from DRAM)" if cold else "warm (smallest level holding it)",
            "views": list(views)}


def simulate(*, kernel: str, isa: str, machine: str, model: str, layer: int | None = None,
             views: Iterable[str] = ("summary",), seed: int = 0, activations: str = "trace",
             token_id: int | None = None, cold: bool = False, params: dict | None = None,
             progress: bool = False, workers: int = 2, native: bool = False) -> SimulationRun:
    """Run the simulate flow for one layer (`layer`) or the whole token (`layer=None`).

    Parameters
    ----------
    kernel, isa : a kernel registered in `kernels.registry` for that ISA.
    machine : a machine name of that ISA (`isa_models/machines/<isa>/<name>.toml`).
    model : a model preset (`workbench models`); its random weights come from `seed`.
    views : views attached to each unique shape's timing run.
    activations : "trace" (the reference forward pass's q) or "gaussian" (seeded).
    cold : time with the working set streamed from DRAM instead of the level holding it.
    params : build parameters passed to the kernel (tile sizes).
    progress : show tqdm progress bars on stderr.
    workers : processes running the functional checks in parallel (forked; 1 = inline).
    native : also compile each unique shape's Program, run it on this CPU (outputs compared with
        the functional run) and time it; `machine` must be the one modelling this CPU ("host").

    Raises
    ------
    LookupError / ValueError naming the unknown kernel, ISA, machine, model, layer or view.
    """
    from isa_models.core.machine import load_machine
    from kernels import registry
    from workbench.reference import PROJECTIONS, get_preset

    views = tuple(views)
    make_views(views)                                   # unknown view names fail before any work
    spec = registry.get(kernel, isa)
    mach = load_machine(resolve_machine_name(machine, isa), isa=isa)
    if native and cold:
        raise ValueError("--native times repeated (warm) calls; it cannot check a --cold prediction")
    host = check_native_host(mach, isa) if native else None
    config = get_preset(model)
    if layer is not None and not 0 <= layer < config.num_layers:
        raise ValueError(f"--layer {layer}: model {model!r} has layers 0..{config.num_layers - 1}")
    if activations not in ACTIVATION_SOURCES:
        raise ValueError(f"unknown activation source {activations!r}; valid: {', '.join(ACTIVATION_SOURCES)}")
    params = dict(params or {})
    runner = KernelRunner(spec, **params)
    layers = list(range(config.num_layers)) if layer is None else [layer]

    bar = _progress(progress, total=config.num_layers, desc=f"weights {model}", unit="layer")
    weights = load_model_weights(model, seed=seed, progress=lambda _: bar.update(1))
    bar.close()
    acts = Activations(weights, source=activations, token_id=token_id, seed=seed)

    # timing: once per unique shape
    shapes: dict[tuple[int, int], ShapeTiming] = {}
    for proj in PROJECTIONS:
        M, K = config.projection_shape(proj)
        if (M, K) not in shapes:
            shapes[(M, K)] = time_shape(runner.program(M, K), mach, M=M, K=K, views=views, cold=cold)

    # function: every projection of every selected layer, with its own weights
    jobs = [(li, p) for li in layers for p in PROJECTIONS]
    bar = _progress(progress, total=len(jobs), desc=f"verify {kernel}", unit="proj")
    checks = run_checks(runner, weights, acts, jobs, workers=workers, on_done=lambda: bar.update(1))
    bar.close()

    if native:
        bar = _progress(progress, total=len(shapes), desc="native", unit="shape")
        for (M, K), shape in shapes.items():
            proj = next(p for p in PROJECTIONS if config.projection_shape(p) == (M, K))
            codes = np.ascontiguousarray(weights.layers[layers[0]].projection(proj).codes)
            shape.native = measure_native(runner, runner.program(M, K), codes, acts.row(layers[0], proj),
                                          host=host)
            bar.update(1)
        bar.close()

    results = [ProjectionResult(c, shapes[(c.M, c.K)]) for c in checks]
    cfg = resolved_config(spec=spec, params=params, machine=mach, weights=weights, layers=layers,
                          activations=activations, token_id=token_id, seed=seed, views=views, cold=cold)
    run = SimulationRun(cfg, results, shapes)
    if layer is None:
        run.token = project_token(run, machine=mach, weight_bytes=_weight_bytes(spec, config))
    return run


def _weight_bytes(spec, config) -> int:
    """Packed weight bytes of one token's projections in the kernel's format."""
    from workbench.formats import get_format
    from workbench.reference import PROJECTIONS

    fmt = get_format(spec.weight_format)
    per_layer = 0
    for proj in PROJECTIONS:
        M, K = config.projection_shape(proj)
        per_layer += int(fmt.nbytes(M, K, **fmt.default_layout(M, K)))
    return per_layer * config.num_layers


def project_token(run: SimulationRun, *, machine, weight_bytes: int) -> TokenProjection:
    """Sum the per-projection kernel cycles of a whole-token run into a per-token projection."""
    cycles = sum(p.timing.cycles for p in run.projections)
    return TokenProjection(kernel_cycles=cycles, kernel_seconds=cycles / (machine.clock_ghz * 1e9),
                           weight_bytes=weight_bytes, dram_gbps_core=machine.dram_gbps_core,
                           dram_gbps_chip=machine.dram_gbps_chip, cores=machine.cores)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, **kw):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(file=sys.stderr, **kw)
