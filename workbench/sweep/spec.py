"""A sweep's TOML spec: read, type-checked and every name resolved against the registries.

Sweep layer (`workbench.sweep`), the first step of `workbench sweep`. A spec has two tables:
``[sweep]`` (name, kind, search, samples, seed, objectives and per-kind options) and ``[axes]``
(lists of values crossed into points by `points.expand`). Every problem is a one-line
`workbench.errors.UserError` naming the spec and the key: an unknown table or key, a wrong type,
an empty axis, an unknown ISA, kernel, machine, SoC, model, engine or objective, a shape string
that is neither ``MxK`` nor ``<preset>:<projection>``. The reference is docs/sweeps.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import UserError

__all__ = ["SweepSpec", "load_spec", "parse_spec", "parse_shape", "KINDS", "SEARCHES", "OBJECTIVES",
           "AXES", "DEFAULT_OBJECTIVES", "ALL"]

KINDS = ("kernel", "projection", "equivalence")
SEARCHES = ("grid", "random")
ALL = "all"

#: result column -> "min" or "max", per kind: the objectives a spec may name
OBJECTIVES = {
    "kernel": {"cycles": "min", "ns": "min", "bytes": "min", "cycles_per_weight": "min", "instructions": "min",
               "ipc": "max", "error_rel_rms": "min", "error_max_abs": "min"},
    "projection": {"tok_s": "max", "j_per_token": "min", "ttft_s": "min", "prefill_tok_s": "max",
                   "footprint_bytes": "min", "dram_bytes_per_token": "min", "decode_s": "min"},
    "equivalence": {"max_kl": "min", "mean_kl": "min", "max_abs_logit_diff": "min", "top1_agreement": "max",
                    "cycles": "min", "ns": "min", "bytes": "min", "cycles_per_weight": "min"},
}
DEFAULT_OBJECTIVES = {"kernel": ("cycles", "bytes"), "projection": ("j_per_token", "tok_s"),
                      "equivalence": ("cycles", "max_kl")}

#: axis -> (kinds it belongs to, value type, "all" allowed); ``param.<name>`` axes are separate
AXES = {
    "isa": (("kernel", "equivalence"), str, True),
    "kernel": (("kernel", "equivalence", "projection"), str, True),
    "machine": (("kernel", "equivalence"), str, True),
    "shape": (("kernel", "equivalence"), str, False),
    "model": (("projection", "equivalence"), str, False),
    "soc": (("projection",), str, True),
    "engine": (("projection",), str, True),
    "threads": (("projection",), int, False),
    "context": (("projection",), int, False),
    "prompt_tokens": (("projection",), int, False),
    "weight_format": (("projection",), str, False),
}
#: axes a kind cannot do without
REQUIRED_AXES = {"kernel": ("isa", "shape"), "equivalence": ("isa", "shape"), "projection": ("soc",)}

#: [sweep] key -> (type, kinds it applies to)
SWEEP_KEYS = {"name": (str, KINDS), "kind": (str, KINDS), "search": (str, KINDS), "samples": (int, KINDS),
              "seed": (int, KINDS), "objectives": (list, KINDS), "cold": (bool, ("kernel", "equivalence")),
              "tokens": (int, ("equivalence",))}


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec.

    Attributes
    ----------
    path : the spec file (None for a spec given as a dict).
    name, kind, search : see docs/sweeps.md; samples : points drawn by a random search.
    seed : the random search's seed and the seed of every point's weights and activations.
    objectives : the two Pareto axes (result columns); directions : "min"/"max" for each.
    axes : axis name -> tuple of values, "all" already expanded (params apart).
    params : kernel parameter name -> tuple of values (``param.<name>`` axes).
    cold : kernel timing with the working set streamed from DRAM; tokens : decode steps of an
        equivalence point.
    """

    path: Path | None
    name: str
    kind: str
    search: str
    samples: int | None
    seed: int
    objectives: tuple[str, str]
    directions: tuple[str, str]
    axes: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    cold: bool = False
    tokens: int = 16


def _type_name(t) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list"}.get(t, t.__name__)


def _is(value, t) -> bool:
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, t)


def parse_shape(text: str, *, where: str = "shape") -> tuple[int, int]:
    """(M, K) of ``"MxK"`` (positive integers) or ``"<preset>:<projection>"`` (a model preset's
    projection shape, e.g. ``bitnet-b1.58-2B-4T:gate``); UserError naming `where` otherwise."""
    from workbench.reference import PRESETS, PROJECTIONS, get_preset

    text = str(text).strip()
    if ":" in text:
        preset, _, proj = text.rpartition(":")
        if preset not in PRESETS:
            raise UserError(f"{where}: unknown model preset {preset!r} in {text!r}; valid: {', '.join(PRESETS)}")
        if proj not in PROJECTIONS:
            raise UserError(f"{where}: unknown projection {proj!r} in {text!r}; valid: {', '.join(PROJECTIONS)}")
        return get_preset(preset).projection_shape(proj)
    m, sep, k = text.lower().partition("x")
    if not sep or not m.isdigit() or not k.isdigit() or int(m) < 1 or int(k) < 1:
        raise UserError(f"{where}: bad shape {text!r}; write MxK with positive integers (2560x2560) or "
                        f"<preset>:<projection> (bitnet-b1.58-2B-4T:gate)")
    return int(m), int(k)


def _axis_values(where: str, raw, t, allow_all: bool) -> tuple:
    values = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, str) and raw == ALL and allow_all:
        return (ALL,)
    if not values:
        raise UserError(f"{where}: empty axis; give at least one value")
    for v in values:
        if not _is(v, t):
            raise UserError(f"{where}: {v!r} is not {_type_name(t)}")
        if t is int and v < 1:
            raise UserError(f"{where}: {v} must be a positive integer")
        if v == ALL:
            raise UserError(f"{where}: write all as the whole value (\"all\"), not inside a list")
    if len(set(values)) != len(values):
        dup = next(v for v in values if values.count(v) > 1)
        raise UserError(f"{where}: value {dup!r} given twice")
    return tuple(values)


def _check_names(where: str, values: tuple, valid: list, what: str) -> None:
    for v in values:
        if v not in valid:
            raise UserError(f"{where}: unknown {what} {v!r}; valid: {', '.join(map(str, valid)) or '(none)'}")


def _resolve_axes(kind: str, axes: dict, params: dict, where: str) -> dict:
    """Expand "all" and check every name against the registries (isa, kernel, machine, soc,
    model, engine, weight_format, shapes, param names)."""
    from isa_models.registry import get_isa, isa_names
    from kernels import registry
    from workbench.reference import PRESETS

    out = dict(axes)
    if "isa" in out:
        out["isa"] = tuple(isa_names()) if out["isa"] == (ALL,) else out["isa"]
        _check_names(f"{where} isa", out["isa"], isa_names(), "ISA")
        isas = out["isa"]
        registered = {s.name for i in isas for s in registry.kernels(i)}
        if "kernel" in out:
            if out["kernel"] == (ALL,):
                out["kernel"] = tuple(dict.fromkeys(s.name for i in isas for s in registry.kernels(i)))
            _check_names(f"{where} kernel", out["kernel"], sorted(registered), f"kernel of ISA {', '.join(isas)}:")
        machines = [m for i in isas for m in get_isa(i).machine_names()]
        if "machine" in out:
            if out["machine"] == (ALL,):
                out["machine"] = tuple(machines)
            _check_names(f"{where} machine", out["machine"], machines, f"machine of ISA {', '.join(isas)}:")
    if "shape" in out:
        for s in out["shape"]:
            parse_shape(s, where=f"{where} shape")
    if "model" in out:
        _check_names(f"{where} model", out["model"], list(PRESETS), "model preset")
    if kind == "projection":
        from workbench.projection import engine_names
        from workbench.projection.dense_formats import get_dense_format
        from workbench.soc import load_soc, soc_names

        if out["soc"] == (ALL,):
            out["soc"] = tuple(soc_names())
        _check_names(f"{where} soc", out["soc"], soc_names(), "SoC")
        engines = list(dict.fromkeys(e for s in out["soc"] for e in engine_names(load_soc(s))))
        if out.get("engine") == (ALL,):
            out["engine"] = tuple(engines)
        _check_names(f"{where} engine", out.get("engine", ()), engines, "engine of these SoCs:")
        for fmt in out.get("weight_format", ()):
            try:
                get_dense_format(fmt)
            except UserError as exc:
                raise UserError(f"{where} weight_format: {exc}") from None
        if out.get("kernel") == (ALL,):
            raise UserError(f"{where} kernel: \"all\" is not defined for a projection sweep; list the kernels")
        if "kernel" in out:
            known = sorted({s.name for s in registry.kernels()})
            _check_names(f"{where} kernel", out["kernel"], known, "kernel")
    if params:
        kernels = [s for i in out.get("isa", ()) for s in registry.kernels(i)
                   if s.name in out.get("kernel", (s.name,))]
        for name in params:
            if not any(name in s.params for s in kernels):
                valid = sorted({p for s in kernels for p in s.params})
                raise UserError(f"{where} param.{name}: not a parameter of any kernel in the sweep; valid: "
                                f"{', '.join(valid) or '(none)'}")
            for spec in (s for s in kernels if name in s.params):
                for value in params[name]:
                    _check_param_value(f"{where} param.{name}", spec, name, value)
    return out


def _check_param_value(where: str, spec, name: str, value) -> None:
    """UserError naming `where` unless `value` has the type of kernel `spec`'s parameter `name`
    (its default's: an integer, a string or a boolean; an integer for a default of None)."""
    try:
        spec.resolve(**{name: value})
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
    default = spec.params[name]
    if default is not None and isinstance(value, bool) != isinstance(default, bool):
        wanted = "a boolean" if isinstance(default, bool) else "an integer"
        raise UserError(f"{where}: kernel {spec.name}/{spec.isa}: parameter {name!r} takes {wanted}, got {value!r}")


def parse_spec(data: dict, *, path: Path | None = None) -> SweepSpec:
    """Validate a spec already read from TOML (see the module docstring); UserError on any problem."""
    where = f"spec {path}" if path is not None else "spec"
    if not isinstance(data, dict):
        raise UserError(f"{where}: not a TOML table")
    unknown = sorted(set(data) - {"sweep", "axes"})
    if unknown:
        raise UserError(f"{where}: unknown table [{unknown[0]}]; valid: [sweep], [axes]")
    sweep = data.get("sweep", {})
    raw_axes = data.get("axes")
    if not isinstance(sweep, dict):
        raise UserError(f"{where}: sweep must be a table [sweep]")
    if not isinstance(raw_axes, dict) or not raw_axes:
        raise UserError(f"{where}: missing or empty table [axes]")
    kind = sweep.get("kind", "kernel")
    if kind not in KINDS:
        raise UserError(f"{where} [sweep] kind: {kind!r} is not one of {', '.join(KINDS)}")
    for key, value in sweep.items():
        if key not in SWEEP_KEYS:
            raise UserError(f"{where} [sweep]: unknown key {key!r}; valid: {', '.join(SWEEP_KEYS)}")
        t, kinds = SWEEP_KEYS[key]
        if kind not in kinds:
            raise UserError(f"{where} [sweep] {key}: only for kind {' or '.join(kinds)}, this sweep is {kind}")
        if not _is(value, t):
            raise UserError(f"{where} [sweep] {key}: {value!r} is not {_type_name(t)}")
    search = sweep.get("search", "grid")
    if search not in SEARCHES:
        raise UserError(f"{where} [sweep] search: {search!r} is not one of {', '.join(SEARCHES)}")
    samples = sweep.get("samples")
    if search == "random" and samples is None:
        raise UserError(f"{where} [sweep] samples: a random search needs samples = <points>")
    if samples is not None and (search != "random" or samples < 1):
        raise UserError(f"{where} [sweep] samples: {samples} (a positive integer, for search = \"random\" only)")
    seed = sweep.get("seed", 0)
    if seed < 0:
        raise UserError(f"{where} [sweep] seed: {seed} must be non-negative")
    tokens = sweep.get("tokens", 16)
    if tokens < 1:
        raise UserError(f"{where} [sweep] tokens: {tokens} must be a positive integer")
    objectives = tuple(sweep.get("objectives", DEFAULT_OBJECTIVES[kind]))
    valid_obj = OBJECTIVES[kind]
    if len(objectives) != 2 or len(set(objectives)) != 2:
        raise UserError(f"{where} [sweep] objectives: give two different result columns, got {list(objectives)}")
    for obj in objectives:
        if obj not in valid_obj:
            raise UserError(f"{where} [sweep] objectives: unknown objective {obj!r} for a {kind} sweep; valid: "
                            f"{', '.join(valid_obj)}")
    axes, params = {}, {}
    for key, raw in raw_axes.items():
        if key == "param":
            if not isinstance(raw, dict) or not raw:
                raise UserError(f"{where} [axes] param: write param.<name> = [values]")
            for name, values in raw.items():
                if kind == "projection":
                    raise UserError(f"{where} [axes] param.{name}: kernel parameters are not swept in a "
                                    f"projection sweep")
                vals = raw[name] if isinstance(raw[name], list) else [raw[name]]
                if isinstance(values, dict) or any(isinstance(v, (dict, list, float)) for v in vals):
                    raise UserError(f"{where} [axes] param.{name}: values must be integers, strings or booleans")
                params[name] = _axis_values(f"{where} [axes] param.{name}", values, object, False)
            continue
        if key not in AXES:
            raise UserError(f"{where} [axes]: unknown axis {key!r}; valid: {', '.join(AXES)}, param.<name>")
        kinds, t, allow_all = AXES[key]
        if kind not in kinds:
            raise UserError(f"{where} [axes] {key}: not an axis of a {kind} sweep (it is for "
                            f"{' and '.join(kinds)})")
        axes[key] = _axis_values(f"{where} [axes] {key}", raw, t, allow_all)
    for key in REQUIRED_AXES[kind]:
        if key not in axes:
            raise UserError(f"{where} [axes]: a {kind} sweep needs the axis {key!r}")
    if kind in ("kernel", "equivalence"):
        axes.setdefault("kernel", (ALL,))
    if kind == "equivalence":
        axes.setdefault("model", ("tiny",))
    axes = _resolve_axes(kind, axes, params, f"{where} [axes]")
    name = sweep.get("name") or (path.stem if path is not None else "sweep")
    return SweepSpec(path=path, name=name, kind=kind, search=search, samples=samples, seed=seed,
                     objectives=objectives, directions=tuple(valid_obj[o] for o in objectives), axes=axes,
                     params=params, cold=sweep.get("cold", False), tokens=tokens)


def load_spec(path) -> SweepSpec:
    """Read and validate the spec at `path`; UserError for a missing file, bad TOML or a bad spec."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"spec {path}: no such file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"spec {path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise UserError(f"spec {path}: not a text file") from None
    return parse_spec(data, path=path)
