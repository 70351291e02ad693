"""The parameter space of one registered kernel for one shape: candidate values and the grid.

Sweep layer (`workbench.sweep`), under `workbench tune` (`workbench.sweep.tune`): before any point
is simulated, each tunable parameter of a `kernels.registry.KernelSpec` gets candidate values,
derived generically from its default (powers of two and divisors of M and K around it; 0 and
powers of two for a default of 0; None plus power-of-two divisors for a block size the kernel
chooses by itself) unless the kernel declares them (``KernelSpec.param_values``); the machine
parameter is left to the machine and the tokens parameter stays fixed unless asked. `grid` forms
every combination, keeps those the kernel `supports` for the shape and counts the refused ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from workbench.errors import UserError

__all__ = ["parameter_space", "candidates", "grid", "ParamGrid", "tunable"]

#: powers of two tried each side of a positive default: default / SPAN .. default * SPAN
SPAN = 4
#: divisors of M or K tried each side of a positive default: default / 2 .. default * 2
DIVISOR_SPAN = 2
#: powers of two tried for a default of 0 (0 = automatic or off, e.g. a tile count or a flag)
ZERO_ALTERNATIVES = (1, 2, 4)
#: smallest power-of-two block tried for a parameter whose default is None (the kernel chooses)
MIN_BLOCK = 4


def _powers_of_two(lo: float, hi: float) -> list[int]:
    out, p = [], 1
    while p <= hi:
        if p >= lo:
            out.append(p)
        p *= 2
    return out


def _divisors(n: int, lo: float, hi: float) -> list[int]:
    return [d for d in range(max(1, int(lo)), int(hi) + 1) if n % d == 0 and d >= lo]


def candidates(default, M: int, K: int) -> list:
    """Candidate values of a parameter with this default for shape (M, K), default first.

    Parameters
    ----------
    default : the registered default value (bool, int, None; a string is not tuned).
    M, K : the shape.

    Returns
    -------
    list : bool -> [default, not default]; None -> [None, power-of-two divisors of M or K from
    `MIN_BLOCK`]; 0 -> [0, *ZERO_ALTERNATIVES]; a positive int d -> [d, powers of two in
    d/SPAN..d*SPAN, divisors of M or K in d/2..d*2], sorted after the default; anything else
    -> [default].
    """
    if isinstance(default, bool):
        return [default, not default]
    if default is None:
        blocks = sorted({p for n in (M, K) for p in _powers_of_two(MIN_BLOCK, n) if n % p == 0})
        return [None, *blocks]
    if isinstance(default, int):
        if default == 0:
            return [0, *ZERO_ALTERNATIVES]
        if default > 0:
            near = set(_powers_of_two(max(1, default / SPAN), default * SPAN))
            near |= {d for n in (M, K) for d in _divisors(n, default / DIVISOR_SPAN, default * DIVISOR_SPAN)}
            return [default, *sorted(near - {default})]
    return [default]


def tunable(spec) -> list[str]:
    """The parameters a tuner varies by default: all but the machine and tokens parameters and
    those whose default is a string (a name, not a size)."""
    return [k for k, v in spec.params.items()
            if k not in (spec.machine_param, spec.tokens_param) and not isinstance(v, str)]


def _check_names(spec, given: dict, flag: str) -> None:
    """UserError naming `flag` for a parameter `spec` lacks, its machine parameter, or a value of
    the wrong type (a string where the kernel takes an integer)."""
    for name, value in given.items():
        if name not in spec.params:
            raise UserError(f"{flag} {name}: kernel {spec.name}/{spec.isa} has no parameter {name!r}; valid: "
                            f"{', '.join(spec.params) or '(none)'}")
        if name == spec.machine_param:
            raise UserError(f"{flag} {name}: kernel {spec.name}/{spec.isa} takes {name!r} from --machine")
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            try:
                spec.resolve(**{name: v})
            except UserError as exc:
                raise UserError(f"{flag} {name}: {exc}") from None


def parameter_space(spec, machine, M: int, K: int, *, fixed: dict | None = None,
                    values: dict | None = None) -> dict[str, list]:
    """Candidate values of every parameter of `spec` for shape (M, K) on `machine`.

    Parameters
    ----------
    spec : a `kernels.registry.KernelSpec`.
    machine : the machine (its name fills the kernel's ``machine_param``, which is not listed).
    M, K : the shape.
    fixed : parameter -> value (``--param``): that one value only.
    values : parameter -> list of values (``--values``): these candidates instead of the derived
        ones (the tokens parameter is varied only this way).

    Returns
    -------
    dict : parameter -> candidate list, default (or fixed value) first, in ``spec.params`` order;
    every parameter but the machine parameter appears (untuned ones with one value).

    Raises
    ------
    UserError : a fixed or valued name the kernel does not take (or its machine parameter), a name
    both fixed and valued, an empty value list.
    """
    del machine  # the machine parameter is the machine's name, filled by the evaluation
    fixed, values = dict(fixed or {}), dict(values or {})
    _check_names(spec, fixed, "--param")
    _check_names(spec, values, "--values")
    both = sorted(set(fixed) & set(values))
    if both:
        raise UserError(f"--param {both[0]} and --values {both[0]}: give one")
    free = set(tunable(spec))
    space = {}
    for name, default in spec.params.items():
        if name == spec.machine_param:
            continue
        if name in fixed:
            space[name] = [fixed[name]]
        elif name in values:
            if not values[name]:
                raise UserError(f"--values {name}: empty list")
            space[name] = list(dict.fromkeys(values[name]))
        elif name in free:
            space[name] = list(spec.param_values.get(name) or candidates(default, M, K))
            if default not in space[name]:
                space[name].insert(0, default)
        else:
            space[name] = [default]
    return space


@dataclass
class ParamGrid:
    """The combinations of a parameter space for one shape.

    Attributes
    ----------
    points : every supported combination (a full parameter dict), the default first when
        supported, then in candidate order.
    refused : (combination, reason) for each combination the kernel refuses for the shape.
    space : the candidate lists, reduced to values some supported point uses.
    default : the registered defaults with the fixed values applied.
    """

    points: list[dict]
    refused: list[tuple[dict, str]] = field(default_factory=list)
    space: dict[str, list] = field(default_factory=dict)
    default: dict = field(default_factory=dict)


def _refusal(spec, M: int, K: int, params: dict) -> str | None:
    try:
        spec.check_shape(M, K, **spec.resolve(**params))
    except ValueError as exc:          # UserError included
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def grid(spec, space: dict[str, list], M: int, K: int) -> ParamGrid:
    """Every combination of `space` (`parameter_space`) the kernel supports for (M, K).

    Returns a `ParamGrid`; a combination the kernel's ``check_shape`` refuses is counted in
    ``refused`` with the kernel's reason, never returned as a point.
    """
    names = list(space)
    default = {n: space[n][0] if len(space[n]) == 1 else spec.params[n] for n in names}
    points, refused = [], []
    for combo in itertools.product(*(space[n] for n in names)):
        params = dict(zip(names, combo))
        reason = _refusal(spec, M, K, params)
        if reason is None:
            points.append(params)
        else:
            refused.append((params, reason))
    points.sort(key=lambda p: p != default)            # stable: the default first, else grid order
    used = {n: [v for v in space[n] if any(p[n] == v for p in points)] for n in names}
    return ParamGrid(points, refused, used, default)
