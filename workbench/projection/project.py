"""`project`: one model on one SoC with one engine -> decode tok/s, time to first token, J/token.

Top of the projection (`workbench.projection`). Resolves the inputs (SoC, model or model file and
its formats, engine, threads, kernel) with every default recorded and why; lists the ops of a
decode token and of a prefill (`ops`); times each on the units the engine uses (`engines`:
ternary projections simulated by the ISA engines, everything else a roofline); prices each op's
events with the energy model (`workbench.soc.energy`); sums them into a `Projection` with the
per-class breakdown, the memory footprint and the binding bound. ``engine="auto"`` projects every
engine the SoC has and keeps the fastest decode; ``threads=None`` tries every cluster boundary
(1, the first cluster, the first two, ...) and keeps the fastest decode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from kernels import registry
from workbench.errors import UserError
from workbench.flow.defaults import DEFAULT_MODEL, choose_kernel
from workbench.formats import FORMATS, get_format
from workbench.projection import engines as eng
from workbench.projection.assumptions import load_assumptions
from workbench.projection.dense_formats import get_dense_format
from workbench.projection.ops import OP_CLASSES, activation_bytes, decode_ops, kv_cache_bytes, prefill_ops
from workbench.reference import PROJECTIONS, get_preset

__all__ = ["project", "Projection", "OpResult", "EnergyFigure", "CPU_ENGINE", "AUTO_ENGINE", "engine_names"]

CPU_ENGINE = "cpu"
AUTO_ENGINE = "auto"
#: default KV-cache positions of a decode token and default prompt length (llama-bench's pp128)
DEFAULT_CONTEXT = 1024
DEFAULT_PROMPT = 128


def engine_names(soc=None) -> list[str]:
    """Engines a projection can use: "auto", "cpu" and the accelerator kinds of `soc` (or of
    every registered ISA with no CPU machine role when `soc` is None: all ISA names)."""
    if soc is not None:
        return [AUTO_ENGINE, CPU_ENGINE, *dict.fromkeys(a.kind for a in soc.accelerators)]
    from isa_models.registry import isa_names
    return [AUTO_ENGINE, CPU_ENGINE, *isa_names()]


@dataclass(frozen=True)
class EnergyFigure:
    """Joules (central, low, high) and the breakdown by event kind (incl. "static")."""

    joules: float = 0.0
    low: float = 0.0
    high: float = 0.0
    breakdown: dict = field(default_factory=dict)

    @classmethod
    def of(cls, estimate) -> "EnergyFigure":
        return cls(float(estimate.joules), float(estimate.low), float(estimate.high),
                   {k: float(v) for k, v in estimate.breakdown.items()})

    def __add__(self, other: "EnergyFigure") -> "EnergyFigure":
        keys = set(self.breakdown) | set(other.breakdown)
        return EnergyFigure(self.joules + other.joules, self.low + other.low, self.high + other.high,
                            {k: self.breakdown.get(k, 0.0) + other.breakdown.get(k, 0.0) for k in sorted(keys)})

    def to_json(self) -> dict:
        return {"joules": self.joules, "low": self.low, "high": self.high, "breakdown": dict(self.breakdown)}

    @classmethod
    def from_json(cls, d: dict) -> "EnergyFigure":
        return cls(d["joules"], d["low"], d["high"], dict(d["breakdown"]))


@dataclass(frozen=True)
class OpResult:
    """One op of the token, all its instances (`count`) together.

    seconds : total time; bound : what binds one instance, in words; bound_kind : "compute",
    "kernel", "DRAM" or "cache"; engine : the units it ran on; dram_bytes, onchip_bytes, ops,
    instructions : totals; energy : an `EnergyFigure`; detail : timing extras of one instance.
    """

    name: str
    cls: str
    engine: str
    count: int
    seconds: float
    bound: str
    bound_kind: str
    dram_bytes: float
    onchip_bytes: float
    ops: float
    instructions: float
    energy: EnergyFigure
    detail: dict = field(default_factory=dict)

    @property
    def joules(self) -> float:
        return self.energy.joules

    def to_json(self) -> dict:
        return {"name": self.name, "cls": self.cls, "engine": self.engine, "count": self.count,
                "seconds": self.seconds, "bound": self.bound, "bound_kind": self.bound_kind,
                "dram_bytes": self.dram_bytes, "onchip_bytes": self.onchip_bytes, "ops": self.ops,
                "instructions": self.instructions, "energy": self.energy.to_json(), "detail": self.detail}

    @classmethod
    def from_json(cls, d: dict) -> "OpResult":
        return cls(d["name"], d["cls"], d["engine"], d["count"], d["seconds"], d["bound"], d["bound_kind"],
                   d["dram_bytes"], d["onchip_bytes"], d["ops"], d["instructions"],
                   EnergyFigure.from_json(d["energy"]), d["detail"])


def _by_class(ops: list[OpResult]) -> dict:
    total = sum(o.seconds for o in ops) or 1.0
    out: dict[str, dict] = {}
    for cls in OP_CLASSES:
        members = [o for o in ops if o.cls == cls]
        if not members:
            continue
        secs = sum(o.seconds for o in members)
        by_kind: dict[str, float] = {}
        for o in members:
            by_kind[o.bound_kind] = by_kind.get(o.bound_kind, 0.0) + o.seconds
        main = max(members, key=lambda o: o.seconds)
        out[cls] = {"seconds": secs, "share": secs / total, "bound_kind": max(by_kind, key=by_kind.get),
                    "bound": main.bound, "dram_bytes": sum(o.dram_bytes for o in members),
                    "onchip_bytes": sum(o.onchip_bytes for o in members), "ops": sum(o.ops for o in members),
                    "joules": sum(o.joules for o in members), "engine": main.engine,
                    "ops_in_class": [o.name for o in members]}
    return out


@dataclass
class Projection:
    """The projection of one model on one SoC with one engine (see `project`).

    decode_seconds : one decode token at `context`; decode_tokens_per_s = 1 / that;
    ttft_s : the prefill of `prompt_tokens` (time to first token); prefill_tokens_per_s;
    energy : an `EnergyFigure` per decoded token; prefill_energy : of the whole prefill;
    memory : bytes by part (weights, norms, embedding, lm_head, kv_cache, activations, total);
    ops, prefill : `OpResult` lists; config : resolved inputs and `defaults` (one line each, why);
    warnings : e.g. the footprint does not fit the device's RAM; alternatives : the decode tok/s of
    every engine and thread count tried.
    """

    decode_seconds: float
    ttft_s: float
    prompt_tokens: int
    memory: dict
    dram_bytes_per_token: float
    ops: list
    prefill: list
    energy: EnergyFigure
    prefill_energy: EnergyFigure
    config: dict
    warnings: list = field(default_factory=list)
    alternatives: list = field(default_factory=list)

    @property
    def decode_tokens_per_s(self) -> float:
        return 1.0 / self.decode_seconds

    @property
    def prefill_tokens_per_s(self) -> float:
        return self.prompt_tokens / self.ttft_s

    @property
    def joules_per_token(self) -> float:
        return self.energy.joules

    def by_class(self, *, phase: str = "decode") -> dict:
        """Op class -> seconds, share, bound_kind, bound, dram_bytes, onchip_bytes, ops, joules."""
        return _by_class(self.ops if phase == "decode" else self.prefill)

    @property
    def bound(self) -> str:
        """What binds the decode token: the bound kind with the largest share of its time, and the
        op classes that contribute most to it."""
        shares: dict[str, float] = {}
        for o in self.ops:
            shares[o.bound_kind] = shares.get(o.bound_kind, 0.0) + o.seconds
        kind = max(shares, key=shares.get)
        classes: dict[str, float] = {}
        for o in self.ops:
            if o.bound_kind == kind:
                classes[o.cls] = classes.get(o.cls, 0.0) + o.seconds
        top = sorted(classes, key=classes.get, reverse=True)[:2]
        words = {"DRAM": "DRAM bandwidth", "kernel": "the ternary kernel's compute",
                 "compute": "compute", "cache": "cache bandwidth"}.get(kind, kind)
        return (f"{words}: {100 * shares[kind] / self.decode_seconds:.0f}% of the token time "
                f"({', '.join(top)})")

    def to_json(self) -> dict:
        return {"decode_tokens_per_s": self.decode_tokens_per_s, "decode_seconds": self.decode_seconds,
                "ttft_s": self.ttft_s, "prefill_tokens_per_s": self.prefill_tokens_per_s,
                "prompt_tokens": self.prompt_tokens, "energy_per_token": self.energy.to_json(),
                "prefill_energy": self.prefill_energy.to_json(), "memory": dict(self.memory),
                "dram_bytes_per_token": self.dram_bytes_per_token, "bound": self.bound,
                "by_class": self.by_class(), "prefill_by_class": self.by_class(phase="prefill"),
                "ops": [o.to_json() for o in self.ops], "prefill_ops": [o.to_json() for o in self.prefill],
                "config": self.config, "warnings": list(self.warnings), "alternatives": list(self.alternatives)}

    @classmethod
    def from_json(cls, d: dict) -> "Projection":
        return cls(d["decode_seconds"], d["ttft_s"], d["prompt_tokens"], dict(d["memory"]),
                   d["dram_bytes_per_token"], [OpResult.from_json(o) for o in d["ops"]],
                   [OpResult.from_json(o) for o in d["prefill_ops"]], EnergyFigure.from_json(d["energy_per_token"]),
                   EnergyFigure.from_json(d["prefill_energy"]), d["config"], list(d["warnings"]),
                   list(d["alternatives"]))


# --- resolving the inputs -------------------------------------------------------------------------

@dataclass
class _Model:
    config: object
    embed_format: str
    head_format: str
    tied: bool
    source: str
    file_ternary: str | None = None


def _resolve_model(model, model_file, embed_format, head_format, assumptions, defaults) -> _Model:
    if model_file is not None:
        from workbench.formats.model_io import file_formats

        info = file_formats(model_file)
        config = info["config"]
        file_embed, file_head, file_ternary = info.get("embedding"), info.get("lm_head"), info.get("ternary")
        source = f"model file {model_file}"
        if embed_format is None and file_embed:
            embed_format = file_embed
            defaults.append(f"--embed-format {embed_format}: the embedding's format in {model_file}")
        if head_format is None and file_head:
            head_format = file_head
            defaults.append(f"--head-format {head_format}: the lm_head's format in {model_file}")
    else:
        if model is None:
            model = DEFAULT_MODEL
            defaults.append(f"--model {model}: the default model")
        config = get_preset(model)
        source, file_ternary = config.source, None
    if embed_format is None:
        embed_format = assumptions.embedding_format
        defaults.append(f"--embed-format {embed_format}: {assumptions.source_of('formats.embedding')}")
    if head_format is None:
        head_format = embed_format
        why = ("tied to the embedding (one tensor)" if config.tie_embeddings
               else "assumption: an untied lm_head ships in the embedding's format")
        defaults.append(f"--head-format {head_format}: {why}")
    for flag, name in (("--embed-format", embed_format), ("--head-format", head_format)):
        try:
            get_dense_format(name)
        except UserError as exc:
            raise UserError(f"{flag}: {exc}") from None
    return _Model(config, embed_format, head_format, config.tie_embeddings and head_format == embed_format, source,
                  file_ternary)


def _load_soc(soc):
    if isinstance(soc, (str, Path)):
        from workbench.soc import load_soc

        return load_soc(soc)
    return soc


def _kernel_params(spec, machine) -> dict:
    return {spec.machine_param: machine.name} if spec.machine_param else {}


def _choose_decode_kernel(units, config, kernel_name, defaults) -> eng.KernelChoice:
    """The GEMV kernel of the ternary units' ISA: `kernel_name`, or the ISA's preference that every
    unit's machine runs on the model's shapes (`workbench.flow.defaults.choose_kernel`)."""
    plugin = units[0].plugin
    if kernel_name is not None:
        spec = registry.get(kernel_name, plugin.name)
        if getattr(spec, "tokens_param", None):
            raise UserError(f"--kernel {kernel_name}: a batched (prefill) kernel; decode needs a GEMV kernel of "
                            f"ISA {plugin.name}")
        params = spec.resolve(**_kernel_params(spec, units[0].machine))
        for u in units:
            for proj in PROJECTIONS:
                M, K = config.projection_shape(proj)
                spec.require_shape(M, K, **params)
                u.machine.check_program(spec.build(M, K, **params))
        return eng.KernelChoice(spec, params)
    chosen = None
    for u in units:
        runner, why = choose_kernel(plugin, u.machine, config, {})
        order = list(plugin.kernel_preference)
        if chosen is None or (runner.spec.name in order and chosen[0].spec.name in order
                              and order.index(runner.spec.name) > order.index(chosen[0].spec.name)):
            chosen = (runner, why)
    runner, why = chosen
    for u in units:
        for proj in PROJECTIONS:
            u.machine.check_program(runner.program(*config.projection_shape(proj)))
    defaults.append(why + (f" (on every cluster used: {', '.join(u.machine.name for u in units)})"
                           if len(units) > 1 else ""))
    return eng.KernelChoice(runner.spec, dict(runner.params), why=why)


def _batched_candidates(plugin, units, config):
    """Exact batched kernels of the ISA every unit's machine runs on the model's shapes."""
    out = []
    for spec in registry.kernels(plugin.name):
        if not getattr(spec, "tokens_param", None) or spec.exactness != "exact":
            continue
        params = spec.resolve(**_kernel_params(spec, units[0].machine))
        try:
            for u in units:
                for proj in PROJECTIONS:
                    M, K = config.projection_shape(proj)
                    spec.check_shape(M, K, **params)
                    if u.machine.missing_extensions(spec.build(M, K, **params)):
                        raise ValueError("missing extension")
        except (ValueError, UserError):
            continue
        out.append(eng.KernelChoice(spec, params, tokens=int(params[spec.tokens_param])))
    return out


def _choose_prefill_kernel(units, config, decode_kernel, defaults) -> eng.KernelChoice:
    """The fastest exact batched kernel of the ISA (cycles per token over the model's projections on
    the first unit), else the decode kernel run once per prompt token."""
    plugin = units[0].plugin
    cands = _batched_candidates(plugin, units, config)
    if not cands:
        defaults.append(f"prefill: no batched {plugin.name} kernel runs on {units[0].machine.name}: the GEMV "
                        f"kernel {decode_kernel.name} once per prompt token (weights streamed per token)")
        return decode_kernel

    def per_token(k):
        return sum(eng.kernel_timing(k, units[0].machine, *config.projection_shape(p), tokens=k.tokens).cycles
                   for p in PROJECTIONS) / k.tokens

    best = min(cands, key=per_token)
    defaults.append(f"prefill kernel {best.name} (N={best.tokens}): the fastest exact batched {plugin.name} kernel "
                    f"on {units[0].machine.name} ({per_token(best):,.0f} cycles per token per layer; "
                    f"tried {', '.join(c.name for c in cands)})")
    return best


# --- timing and energy of a list of ops -----------------------------------------------------------

@lru_cache(maxsize=1)
def _energy_model():
    from workbench.soc.energy import EnergyModel

    return EnergyModel.load()


def _events(op, timing, accelerator: bool):
    from workbench.soc.energy import EnergyEvents

    w = op.work
    onchip, dram = op.onchip_bytes, op.dram_bytes * timing.detail.get("calls", 1)
    common = dict(int8_ops=w.get("int8_mac", 0.0) + w.get("int8_op", 0.0),
                  fp16_ops=w.get("fp16_convert", 0.0) + w.get("fp16_fma", 0.0),
                  fp32_ops=w.get("fp32_fma", 0.0) + w.get("fp32_op", 0.0),
                  vector_instructions=timing.instructions, dram_bytes=dram)
    if accelerator:
        return EnergyEvents(**common, bytes_vtcm=onchip + dram)
    return EnergyEvents(**common, bytes_l1=onchip + dram, bytes_l2=dram)


def _static_w(units, plan) -> float:
    """Power while an op runs on `units`: their cores at active power, the run's other units at idle
    power, the uncore and the DRAM background (the SoC file's figures)."""
    running = {u.name for u in units}
    others = [u for u in plan.cpu + ([plan.accel] if plan.accel is not None else []) if u.name not in running]
    return (sum(u.active_power_w * u.count for u in units) + sum(u.idle_power_w * u.count for u in others)
            + float(plan.soc.uncore_power_w) + float(plan.soc.dram.background_power_w))


@dataclass
class _Plan:
    soc: object
    model: _Model
    engine: str
    cpu: list
    accel: object
    decode_kernel: eng.KernelChoice | None
    prefill_kernel: eng.KernelChoice | None
    weight_format: str | None
    assumptions: object

    @property
    def ternary_units(self) -> list:
        return [self.accel] if self.accel is not None and self.engine != CPU_ENGINE else self.cpu

    def units_for(self, op) -> list:
        if op.cls == "ternary":
            return self.ternary_units
        if self.accel is not None and self.engine != CPU_ENGINE and eng.can_run(op, self.accel):
            return [self.accel]
        return self.cpu


def _time_ops(plan: _Plan, ops, *, prefill_tokens: int | None) -> list[OpResult]:
    out = []
    for op in ops:
        units = plan.units_for(op)
        if op.cls == "ternary":
            kernel = plan.prefill_kernel if prefill_tokens else plan.decode_kernel
            if prefill_tokens:
                calls = math.ceil(prefill_tokens / kernel.tokens) if kernel.tokens else prefill_tokens
            else:
                calls = 1
            t = eng.time_ternary(op, units, kernel, soc=plan.soc, assumptions=plan.assumptions, calls=calls,
                                 tokens=kernel.tokens if prefill_tokens else None)
        else:
            t = eng.time_roofline(op, units, soc=plan.soc, assumptions=plan.assumptions)
        accelerator = any(u.accelerator for u in units)
        seconds = t.seconds * op.count
        static_w = _static_w(units, plan)
        estimate = _energy_model().estimate(_events(op, t, accelerator) * op.count, node_nm=float(plan.soc.node_nm),
                                            dram_type=plan.soc.dram.type, static_w=static_w, seconds=seconds)
        dram = op.dram_bytes * t.detail.get("calls", 1) * op.count
        out.append(OpResult(op.name, op.cls, " + ".join(u.describe() for u in units), op.count, seconds, t.bound,
                            t.bound_kind, dram, op.onchip_bytes * op.count, op.ops * op.count,
                            t.instructions * op.count, EnergyFigure.of(estimate),
                            {**t.detail, "instance_seconds": t.seconds, "compute_s": t.compute_s,
                             "dram_s": t.dram_s, "cache_s": t.cache_s, "cache_level": t.cache_level,
                             "static_w": static_w,
                             "shape": list(op.shape) if op.shape else None, "tokens": op.tokens,
                             "weight_format": op.weight_format}))
    return out


def _ternary_bytes(plan: _Plan):
    spec = plan.decode_kernel.spec if plan.decode_kernel else None

    def nbytes(M: int, K: int) -> float:
        if spec is not None and spec.weight_format in FORMATS:
            fmt = get_format(spec.weight_format)
            return float(fmt.nbytes(M, K, **fmt.default_layout(M, K)))
        return float(eng.kernel_timing(plan.decode_kernel, plan.ternary_units[0].machine, M, K).bytes_moved)
    return nbytes


def _memory(plan: _Plan, context: int, ternary_bytes) -> dict:
    cfg, m = plan.model.config, plan.model
    if plan.weight_format is not None:
        fmt = get_dense_format(plan.weight_format)
        per_layer = sum(fmt.matrix_bytes(*cfg.projection_shape(p)) for p in PROJECTIONS)
    else:
        per_layer = sum(ternary_bytes(*cfg.projection_shape(p)) for p in PROJECTIONS)
    embed = get_dense_format(m.embed_format).matrix_bytes(cfg.vocab_size, cfg.hidden_size)
    head = 0 if m.tied else get_dense_format(m.head_format).matrix_bytes(cfg.vocab_size, cfg.hidden_size)
    norms = 4 * (cfg.num_layers * (2 * cfg.hidden_size + cfg.q_size + cfg.intermediate_size) + cfg.hidden_size)
    mem = {"weights": int(per_layer * cfg.num_layers), "norms": norms, "embedding": int(embed),
           "lm_head": int(head), "kv_cache": kv_cache_bytes(cfg, context),
           "activations": activation_bytes(cfg, context)}
    mem["total"] = sum(mem.values())
    return mem


def _kw(plan: _Plan) -> dict:
    m = plan.model
    return dict(ternary_bytes=_ternary_bytes(plan), embed_format=m.embed_format, head_format=m.head_format,
                weight_format=plan.weight_format)


def _decode(plan: _Plan, *, context: int) -> list[OpResult]:
    """The timed ops of one decode token."""
    return _time_ops(plan, decode_ops(plan.model.config, context=context, **_kw(plan)), prefill_tokens=None)


def _finish(plan: _Plan, decode: list[OpResult], *, context: int, prompt_tokens: int, defaults) -> Projection:
    """Choose the prefill kernel, time the prefill, and sum everything into a `Projection`."""
    cfg = plan.model.config
    if plan.weight_format is None:
        plan.prefill_kernel = _choose_prefill_kernel(plan.ternary_units, cfg, plan.decode_kernel, defaults)
    kw = _kw(plan)
    prefill = _time_ops(plan, prefill_ops(cfg, prompt_tokens=prompt_tokens, **kw), prefill_tokens=prompt_tokens)
    energy = EnergyFigure()
    for o in decode:
        energy = energy + o.energy
    penergy = EnergyFigure()
    for o in prefill:
        penergy = penergy + o.energy
    memory = _memory(plan, context, kw["ternary_bytes"])
    warnings = []
    cap = float(plan.soc.dram.capacity_gb) * 1e9
    if memory["total"] > cap:
        warnings.append(f"the footprint {memory['total'] / 1e9:.2f} GB does not fit the {cap / 1e9:g} GB of RAM "
                        f"of {getattr(plan.soc, 'device', '') or plan.soc.name}")
    return Projection(sum(o.seconds for o in decode), sum(o.seconds for o in prefill), prompt_tokens, memory,
                      sum(o.dram_bytes for o in decode), decode, prefill, energy, penergy, {}, warnings)


def _plan(soc, model: _Model, engine: str, threads: int, kernel, weight_format, assumptions, defaults) -> _Plan:
    cpu = eng.cpu_units(soc, threads)
    accel = eng.accelerator_unit(soc, engine) if engine != CPU_ENGINE else None
    plan = _Plan(soc, model, engine, cpu, accel, None, None, weight_format, assumptions)
    if weight_format is None:
        plan.decode_kernel = _choose_decode_kernel(plan.ternary_units, model.config, kernel, defaults)
    return plan


def _thread_candidates(soc) -> list[int]:
    out, n = [1], 0
    for c in soc.clusters:
        n += c.count
        out.append(n)
    return sorted(set(out))


def project(*, soc, model: str | None = None, engine: str = AUTO_ENGINE, threads: int | None = None,
            context: int | None = None, prompt_tokens: int | None = None, kernel: str | None = None,
            head_format: str | None = None, embed_format: str | None = None, weight_format: str | None = None,
            model_file: str | None = None) -> Projection:
    """Project one model on one SoC (see the module docstring).

    Parameters
    ----------
    soc : a SoC name (`workbench.soc.soc_names`), a SoC TOML path, or a loaded `SoC`.
    model : a preset (default bitnet-b1.58-2B-4T); model_file : a GGUF/safetensors file instead
        (its config and formats: `workbench.formats.model_io.file_formats`).
    engine : "cpu", an accelerator kind of the SoC ("hvx", "npu": the ternary projections there,
        other ops there when its ISA has rates for them, else on the CPU), or "auto" (the fastest
        decode of those).
    threads : CPU threads, biggest cores first (None: the fastest decode among cluster boundaries).
    context : KV-cache positions a decode token attends to (None: 1024, at most the model's maximum);
        prompt_tokens : the prefill's length (None: 128, at most the model's maximum).
    kernel : the ternary GEMV kernel of the engine's ISA (None: its fastest exact one the machines run).
    head_format, embed_format : dense formats of the lm_head and embedding (None: the file's, else
        the official 2B-4T GGUF's f16; the lm_head tied to the embedding).
    weight_format : a dense format for the projections (the FP16 baseline), or None (ternary).

    Raises
    ------
    UserError : an unknown SoC, model, engine, kernel or format; threads beyond the SoC's cores;
        a context or prompt beyond the model's positions; an engine the SoC lacks; a kernel that
        cannot take a shape or that a machine cannot run.
    """
    soc = _load_soc(soc)
    assumptions = load_assumptions()
    defaults: list[str] = []
    mdl = _resolve_model(model, model_file, embed_format, head_format, assumptions, defaults)
    cfg = mdl.config
    if weight_format is not None:
        try:
            get_dense_format(weight_format)
        except UserError as exc:
            raise UserError(f"--weight-format: {exc}") from None
    if context is None:
        context = min(DEFAULT_CONTEXT, cfg.max_position)
        defaults.append(f"--context {context}: the default ({DEFAULT_CONTEXT} positions, at most the model's "
                        f"{cfg.max_position})")
    if prompt_tokens is None:
        prompt_tokens = min(DEFAULT_PROMPT, cfg.max_position)
        defaults.append(f"--prompt-tokens {prompt_tokens}: the default ({DEFAULT_PROMPT}, llama-bench's pp128)")
    if not 1 <= context <= cfg.max_position:
        raise UserError(f"--context {context}: model {cfg.name} takes 1..{cfg.max_position} positions")
    if not 1 <= prompt_tokens <= cfg.max_position:
        raise UserError(f"--prompt-tokens {prompt_tokens}: model {cfg.name} takes 1..{cfg.max_position} positions")
    valid = engine_names(soc)
    if engine not in valid:
        known = engine_names()
        if engine in known:
            raise UserError(f"--engine {engine}: SoC {soc.name} has no {engine} engine; valid: {', '.join(valid)}")
        raise UserError(f"unknown engine {engine!r}; valid for SoC {soc.name}: {', '.join(valid)}")
    if threads is not None:
        eng.cpu_units(soc, threads)                       # range check first
    if kernel is not None and engine == AUTO_ENGINE:
        raise UserError(f"--kernel {kernel}: name the engine too (--engine {CPU_ENGINE} or an accelerator); "
                        f"a kernel belongs to one engine's ISA")
    engines = [e for e in valid if e != AUTO_ENGINE] if engine == AUTO_ENGINE else [engine]
    tried, best = [], None
    refusals = []
    for e in engines:
        for t in ([threads] if threads is not None else _thread_candidates(soc)):
            run_defaults: list[str] = []
            try:
                plan = _plan(soc, mdl, e, t, kernel, weight_format, assumptions, run_defaults)
            except UserError as exc:
                if engine != AUTO_ENGINE:
                    raise
                refusals.append(f"{e}: {exc}")
                tried.append({"engine": e, "threads": t, "refused": str(exc)})
                break
            decode = _decode(plan, context=context)
            seconds = sum(o.seconds for o in decode)
            tried.append({"engine": e, "threads": t, "decode_tokens_per_s": 1.0 / seconds})
            if best is None or seconds < best[0]:
                best = (seconds, decode, plan, run_defaults)
    if best is None:
        raise UserError(f"no engine of SoC {soc.name} runs model {cfg.name}: {'; '.join(refusals)}")
    _, decode, plan, run_defaults = best
    result = _finish(plan, decode, context=context, prompt_tokens=prompt_tokens, defaults=run_defaults)
    if threads is None:
        defaults.append(f"--threads {sum(u.count for u in plan.cpu)}: the fastest decode among "
                        f"{', '.join(str(t) for t in _thread_candidates(soc))} threads (cluster boundaries, "
                        f"biggest cores first)")
    if engine == AUTO_ENGINE:
        defaults.append(f"--engine {plan.engine}: the fastest decode of {', '.join(engines)}"
                        + "".join(f" (refused: {r})" for r in refusals))
    defaults.extend(run_defaults)
    result.alternatives = tried
    result.config = _config(soc, mdl, plan, context, prompt_tokens, defaults)
    return result


def _config(soc, mdl: _Model, plan: _Plan, context: int, prompt_tokens: int, defaults: list[str]) -> dict:
    import workbench

    cfg = mdl.config

    def kinfo(k):
        if k is None:
            return None
        return {"name": k.name, "isa": k.spec.isa, "format": k.spec.weight_format, "params": dict(k.params),
                "tokens_per_call": k.tokens, "exactness": k.spec.exactness}
    return {"workbench_version": workbench.__version__,
            "soc": {"name": soc.name, "description": soc.description, "device": getattr(soc, "device", ""),
                    "node_nm": soc.node_nm, "dram": soc.dram.to_json(), "ram_gb": soc.dram.capacity_gb,
                    "published": [p.to_json() for p in soc.published]},
            "model": {**cfg.to_dict(), "source": mdl.source},
            "engine": plan.engine, "threads": sum(u.count for u in plan.cpu),
            "cpu_units": [u.to_json() for u in plan.cpu],
            "accelerator": plan.accel.to_json() if plan.accel is not None and plan.engine != CPU_ENGINE else None,
            "kernel": kinfo(plan.decode_kernel), "prefill_kernel": kinfo(plan.prefill_kernel),
            "formats": {"ternary": plan.decode_kernel.spec.weight_format if plan.decode_kernel else None,
                        "weights": plan.weight_format or "ternary", "model_file_ternary": mdl.file_ternary,
                        "embedding": mdl.embed_format,
                        "lm_head": mdl.head_format, "lm_head_tied": mdl.tied, "kv_cache": "f16"},
            "context": context, "prompt_tokens": prompt_tokens,
            "assumptions": dict(plan.assumptions.sources),
            "energy_model": ("per op: its events (operations by kind, vector instructions, bytes by cache level, "
                             "DRAM bytes) priced by workbench.soc.energy at the SoC's node and DRAM type, plus "
                             "(active power of the units running it + idle power of the run's other units + "
                             "uncore + DRAM background) x its seconds"),
            "defaults": list(defaults)}
