"""One kernel design point: resolve, build, verify functionally and time, as one flat JSON row.

Sweep layer (`workbench.sweep`), the unit of work `execute.run_points` sends to a Dask worker and
`workbench tune` ranks. A point is a plain dict (ISA, kernel, machine, shape, kernel parameters,
seed); `evaluate_kernel_point` resolves it against the registries (`isa_models.registry`,
`kernels.registry`), runs the kernel's Program on seeded weights and activations with the
functional executor, judges every row with `kernels.verify.check_accumulators` (integer equality)
and times the Program with `isa_models.core.timing.time_program`. It is a pure function of the
dict: a point the kernel or machine cannot run is a row with verdict UNSUPPORTED and the reason.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry
from kernels.registry import KernelSpec
from kernels.verify import activation_cases, check_accumulators, overall_status
from workbench.errors import UserError
from workbench.quant import quantize_weights
from workbench.reference import ternary_matvec

__all__ = ["evaluate_kernel_point", "point_inputs", "CONFIG_KEYS", "RESULT_KEYS", "INPUT_KINDS", "param_column"]

#: keys a point's config may have ("params", "seed", "machine" and "cold" are optional)
CONFIG_KEYS = ("isa", "kernel", "machine", "M", "K", "params", "seed", "cold")

#: the activation kinds every point is checked on (`kernels.verify.activation_cases`); for
#: "extreme", weight rows 0 and 1 are all +1 and all -1 (the largest sums a row can reach)
INPUT_KINDS = ("realistic", "extreme")

#: result columns every row has, in order (None where they do not apply)
RESULT_KEYS = ("verdict", "reason", "cycles", "ns", "cycles_per_weight", "bound", "memory_level", "bytes",
               "instructions", "ipc", "compared", "mismatches", "first_mismatch", "error_rel_rms",
               "error_max_abs")


def param_column(name: str) -> str:
    """The table column of kernel parameter `name` ("param.<name>")."""
    return f"param.{name}"


def _scalar(value):
    """`value` as a JSON scalar (numpy numbers to Python; anything else to its text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _check_config(config: Mapping) -> None:
    if not isinstance(config, Mapping):
        raise UserError(f"kernel point: config must be a dict, got {type(config).__name__}")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise UserError(f"kernel point: unknown key {unknown[0]!r}; valid: {', '.join(CONFIG_KEYS)}")
    for key in ("isa", "kernel"):
        if not isinstance(config.get(key), str):
            raise UserError(f"kernel point: {key!r} must be a name (str), got {config.get(key)!r}")
    if config.get("machine") is not None and not isinstance(config["machine"], str):
        raise UserError(f"kernel point: 'machine' must be a name (str), got {config['machine']!r}")
    for key in ("M", "K"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UserError(f"kernel point: {key!r} must be a positive integer, got {value!r}")
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"kernel point: 'seed' must be a non-negative integer, got {seed!r}")
    if not isinstance(config.get("params", {}), Mapping):
        raise UserError(f"kernel point: 'params' must be a table of kernel parameters, got {config['params']!r}")
    if not isinstance(config.get("cold", False), bool):
        raise UserError(f"kernel point: 'cold' must be true or false, got {config['cold']!r}")


def _weights(M: int, K: int, seed: int) -> np.ndarray:
    """Seeded Gaussian weights [M, K], absmean-quantized to ternary codes (as `random_linear`)."""
    w = np.random.default_rng([seed, M, K]).standard_normal((M, K), dtype=np.float32)
    w *= np.float32(1.0 / np.sqrt(K))
    return quantize_weights(w)[0]


def _activations(spec: KernelSpec, K: int, seed: int, tokens: int) -> dict[str, np.ndarray]:
    """kind -> int8 activations: [K], or [tokens, K] for a batched kernel (one seeded row per token)."""
    rows = [activation_cases(K, seed=seed * 7919 + K + t, kinds=INPUT_KINDS) for t in range(tokens)]
    if spec.batched:
        return {kind: np.stack([r[kind] for r in rows]) for kind in INPUT_KINDS}
    return rows[0]


def point_inputs(spec: KernelSpec, M: int, K: int, seed: int, tokens: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The inputs a point is checked on: (kind, codes [M, K], activations) for each `INPUT_KINDS`;
    for "extreme", weight rows 0 and 1 are all +1 and all -1 (the largest sums a row can reach)."""
    codes = _weights(M, K, seed)
    inputs = []
    for kind, q in _activations(spec, K, seed, tokens).items():
        w = codes
        if kind == "extreme" and M >= 2:
            w = codes.copy()
            w[0], w[1] = 1, -1
        inputs.append((kind, w, q))
    return inputs


def _row(base: dict, params: Mapping, **results) -> dict:
    """The row: isa, kernel, machine, M, K, the ``param.<name>`` columns sorted, the rest of `base`,
    then every `RESULT_KEYS` column (None unless given)."""
    head = ("isa", "kernel", "machine", "M", "K")
    row = {key: base[key] for key in head}
    row.update({param_column(k): _scalar(v) for k, v in sorted(params.items())})
    row.update({key: value for key, value in base.items() if key not in head})
    row.update({key: None for key in RESULT_KEYS})
    row.update({key: _scalar(value) for key, value in results.items()})
    return row


def evaluate_kernel_point(config: dict) -> dict:
    """Verify and time one kernel configuration; one flat row of JSON scalars.

    Parameters
    ----------
    config : {"isa", "kernel", "machine" (None: the ISA's default machine), "M", "K",
        "params" (kernel parameters; the machine parameter of a machine-sized kernel is filled
        from the machine), "seed" (default 0), "cold" (time with the working set streamed from
        DRAM; default False)}.

    Returns
    -------
    dict : the resolved configuration (isa, kernel, machine, M, K, ``param.<name>`` for every
        resolved kernel parameter, seed, cold, exactness, tokens) and the results
        (`RESULT_KEYS`): verdict (VERIFIED, FAILED, LOSSY or UNSUPPORTED), reason (why
        UNSUPPORTED), cycles, ns (cycles at the machine clock), cycles_per_weight (per weight
        and token), bound (the binding bound in words), memory_level, bytes (moved from that
        level), instructions, ipc, compared and mismatches (rows over every input kind),
        first_mismatch (FAILED), error_rel_rms and error_max_abs (LOSSY, the worst input kind).

    Raises
    ------
    UserError : a malformed config (unknown key, wrong type). A point the kernel or machine
        cannot run (unknown name, parameter or parameter value, shape constraint, missing ISA
        extension) is not an error but an UNSUPPORTED row.
    """
    _check_config(config)
    M, K, seed = config["M"], config["K"], config.get("seed", 0)
    params = dict(config.get("params") or {})
    base = {"isa": config["isa"], "kernel": config["kernel"], "machine": config.get("machine"), "M": M, "K": K,
            "seed": seed, "cold": bool(config.get("cold", False)), "exactness": None, "tokens": None}
    try:
        plugin = get_isa(config["isa"])
        machine = plugin.load_machine(config.get("machine") or plugin.default_machine)
        base["machine"] = machine.name
        spec = registry.get(config["kernel"], plugin.name)
        base["exactness"] = spec.exactness
        if spec.machine_param:
            given = params.get(spec.machine_param)
            if given is not None and given != machine.name:
                return _row(base, params, verdict="UNSUPPORTED",
                            reason=f"parameter {spec.machine_param}={given} conflicts with machine {machine.name}")
            params[spec.machine_param] = machine.name
        p = spec.resolve(**params)
        params = p
        tokens = int(p[spec.tokens_param]) if spec.batched else 1
        base["tokens"] = tokens
        spec.check_shape(M, K, **p)
        program = spec.build(M, K, **p)
    except (UserError, ValueError) as exc:
        return _row(base, params, verdict="UNSUPPORTED", reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    try:
        timing = time_program(program, machine, cold=base["cold"])
    except UserError as exc:
        return _row(base, params, verdict="UNSUPPORTED", reason=str(exc).splitlines()[0])

    checks = []
    for _kind, w, q in point_inputs(spec, M, K, seed, tokens):
        got = registry.run(spec, w, q, program=program, **p)
        expected = ternary_matvec(q, w) if spec.batched else ternary_matvec(q[None], w)[0]
        checks.append(check_accumulators(spec, w, q, got, expected, params=p))
    verdict = overall_status(checks)
    failed = [c for c in checks if c.status == "FAILED"]
    lossy = [c.error for c in checks if c.status == "LOSSY" and c.error]
    weights = M * K * tokens
    return _row(base, params, verdict=verdict, cycles=float(timing.cycles),
                ns=float(timing.cycles) / machine.clock_ghz, cycles_per_weight=float(timing.cycles) / weights,
                bound=timing.binding, memory_level=timing.memory_level, bytes=int(timing.bytes_moved),
                instructions=int(timing.instructions), ipc=float(timing.ipc),
                compared=sum(c.compared for c in checks), mismatches=sum(c.mismatches for c in checks),
                first_mismatch=failed[0].first_mismatch if failed else None,
                error_rel_rms=max((e["rel_rms"] for e in lossy), default=None),
                error_max_abs=max((e["max_abs"] for e in lossy), default=None))
