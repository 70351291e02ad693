"""The kernel registry: every kernel, per ISA, with its format, parameters, exactness and functions.

Kernel layer (DESIGN.md §3-§4, §8). Kernels are discovered, never listed: every module
``kernels/<family>/<isa>.py`` whose ``<isa>`` is a registered ISA (`isa_models.registry`) and that
defines ``KERNEL`` (or a list ``KERNELS``) of `KernelSpec`s is registered on first use; tests and
plug-ins add more with `register`. A `KernelSpec` names a kernel for one ISA and carries three
functions:
``build(M, K, **params) -> Program``, ``prepare(codes, q, **params) -> buffers`` (weights packed
with `workbench.formats` or the NPU word encoding, activation-side inputs) and
``result(buffers) -> int32 [M]`` (`read_result` for kernels whose read-back needs the shape). `run`
executes one kernel functionally (or natively) on ternary codes and int8 activations.
`kernels.verify` sweeps kernels against `workbench.reference.ternary_matvec`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from isa_models.core.execute import execute
from isa_models.registry import isa_names
from workbench.errors import UnknownNameError, UserError

__all__ = ["KernelSpec", "register", "unregister", "get", "kernels", "run", "read_result", "kernel_modules",
           "EXACTNESS"]

EXACTNESS = ("exact", "bounded", "lossy")

#: folders of kernels/ that are not kernel families
_NOT_FAMILIES = ("codegen", "search", "__pycache__")


@dataclass(frozen=True)
class KernelSpec:
    """One kernel for one ISA.

    Attributes
    ----------
    name, isa : str
        Registry key, e.g. ("i2s", "avx2").
    weight_format : str
        The `workbench.formats.FORMATS` name its weights are packed with ("npu_tile" for the NPU:
        `isa_models.npu.encoding.pack_matrix_tiles`, 2-bit or base-3 words by machine).
    description : str
        One paragraph: what it does and where it comes from (research notes by section).
    params : Mapping[str, object]
        Default parameters (tile sizes); `build`/`prepare` accept them as keywords.
    exactness : "exact", "bounded" or "lossy"
    bound : str
        For "bounded": the proven condition under which the result is exact, in words.
    bound_holds : callable ``(codes, q, **params) -> bool [M]`` or None
        For "bounded": the bound as a predicate over the inputs, per row (True: that row is exact).
    error : Mapping[str, float]
        For "lossy": the measured error against the exact accumulators and how it was measured.
    build : ``(M, K, **params) -> Program``
    prepare : ``(codes int8 [M, K], q int8 [K], **params) -> dict[str, np.ndarray]`` (uint8 buffers)
    result : ``(buffers) -> np.ndarray`` int32 [M] accumulators (lossy kernels: rounded approximation);
        with `result_needs_shape`, ``(buffers, *, M, K, **params)`` (call it through `read_result`).
    check_shape : ``(M, K, **params) -> None``; raises ValueError naming the violated constraint.
    diagnose : optional ``(codes, q, row, expected, got, **params) -> str``: why a row is wrong.
    result_needs_shape : bool
        True when the read-back depends on the shape and parameters (the NPU's padded row tiles
        and host-summed K segments).
    machine_param : the parameter that takes the machine's name, for kernels whose Program
        depends on the machine (an array's size); the simulate flow fills it from ``--machine``
        unless ``--param`` sets it.
    tokens_param : for a batched (prefill) kernel, the parameter holding N, the tokens per call:
        `prepare` then takes q int8 [N, K] and `result` returns int32 [N, M] (`batched` is True).
    param_values : optional candidate values of a parameter for a tuner (`workbench.sweep.param_space`),
        for a parameter whose useful values the generic rule (powers of two and divisors around the
        default) misses; each tuple is filtered by `supports` for the shape at hand.
    """

    name: str
    isa: str
    weight_format: str
    description: str
    params: Mapping[str, object]
    exactness: str
    build: Callable
    prepare: Callable
    result: Callable
    check_shape: Callable
    bound: str = ""
    bound_holds: Callable | None = None
    error: Mapping[str, object] = field(default_factory=dict)
    diagnose: Callable | None = None
    result_needs_shape: bool = False
    machine_param: str | None = None
    tokens_param: str | None = None
    param_values: Mapping[str, tuple] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.exactness not in EXACTNESS:
            raise ValueError(f"kernel {self.name}/{self.isa}: exactness {self.exactness!r} is not one of "
                             f"{', '.join(EXACTNESS)}")
        if self.exactness == "bounded" and (not self.bound or self.bound_holds is None):
            raise ValueError(f"kernel {self.name}/{self.isa}: a bounded kernel needs bound and bound_holds")
        if self.tokens_param is not None and self.tokens_param not in self.params:
            raise ValueError(f"kernel {self.name}/{self.isa}: tokens_param {self.tokens_param!r} is not one of "
                             f"its params")
        unknown = sorted(set(self.param_values) - set(self.params))
        if unknown:
            raise ValueError(f"kernel {self.name}/{self.isa}: param_values names {unknown[0]!r}, not one of "
                             f"its params")

    @property
    def batched(self) -> bool:
        """True for a batched (prefill) kernel: q [N, K] in, int32 [N, M] out."""
        return self.tokens_param is not None

    def resolve(self, **params) -> dict:
        """Defaults overridden by `params`; an unknown parameter raises ValueError."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise UserError(f"kernel {self.name}/{self.isa}: unknown parameter {unknown[0]!r}; valid: "
                            f"{', '.join(self.params) or '(none)'}")
        for key, value in params.items():
            default = self.params[key]
            if isinstance(value, str) and not isinstance(default, str):
                raise UserError(f"kernel {self.name}/{self.isa}: parameter {key!r} takes an integer, "
                                f"got {value!r}")
        return {**self.params, **params}

    def info(self) -> dict:
        """The registered facts, JSON-ready (name, ISA, format, params, exactness, bound or error)."""
        info = {"name": self.name, "isa": self.isa, "format": self.weight_format, "params": dict(self.params),
                "exactness": self.exactness, "description": self.description}
        if self.bound:
            info["bound"] = self.bound
        if self.error:
            info["error"] = dict(self.error)
        if self.tokens_param:
            info["tokens_param"] = self.tokens_param
        return info

    def require_shape(self, M: int, K: int, **params) -> None:
        """`check_shape` for a shape the user chose: a violated constraint is a UserError naming
        the kernel and the constraint."""
        try:
            self.check_shape(M, K, **params)
        except UserError:
            raise
        except ValueError as exc:
            raise UserError(f"kernel {self.name}/{self.isa} cannot take shape {M}x{K}: {exc}") from None

    def supports(self, M: int, K: int, **params) -> bool:
        """Whether shape (M, K) satisfies the kernel's constraints."""
        try:
            self.check_shape(M, K, **self.resolve(**params))
        except ValueError:
            return False
        return True


_REGISTRY: dict[tuple[str, str], KernelSpec] = {}
_loaded = False


def register(spec: KernelSpec) -> KernelSpec:
    """Add `spec`; registering the same (name, isa) twice is an error."""
    key = (spec.name, spec.isa)
    if key in _REGISTRY and _REGISTRY[key] is not spec:
        raise ValueError(f"kernel {spec.name}/{spec.isa} registered twice")
    _REGISTRY[key] = spec
    return spec


def unregister(name: str, isa: str) -> None:
    """Remove a kernel added with `register` (tests' toy kernels)."""
    _REGISTRY.pop((name, isa), None)


def kernel_modules() -> list[str]:
    """The modules ``kernels.<family>.<isa>`` present for every registered ISA, sorted."""
    root = Path(__file__).resolve().parent
    isas = set(isa_names())
    return sorted(f"kernels.{family.name}.{path.stem}"
                  for family in root.iterdir() if family.is_dir() and family.name not in _NOT_FAMILIES
                  for path in family.glob("*.py") if path.stem in isas)


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in kernel_modules():
            module = importlib.import_module(name)
            specs = getattr(module, "KERNELS", None) or [getattr(module, "KERNEL", None)]
            for spec in specs:
                if isinstance(spec, KernelSpec):
                    register(spec)


def kernels(isa: str | None = None) -> list[KernelSpec]:
    """All registered kernels (of one ISA if given), sorted by (isa, name)."""
    _load_builtin()
    return [s for k, s in sorted(_REGISTRY.items()) if isa is None or s.isa == isa]


def get(name: str, isa: str | None = None) -> KernelSpec:
    """The kernel `name` for `isa` (or the only kernel of that name when `isa` is None).

    Raises UnknownNameError listing the ISA's kernels (or every kernel) for an unknown or, without
    `isa`, ambiguous name.
    """
    _load_builtin()
    if isa is None:
        hits = [s for (n, _), s in sorted(_REGISTRY.items()) if n == name]
        if len(hits) == 1:
            return hits[0]
        valid = ", ".join(f"{n}/{i}" for n, i in sorted(_REGISTRY)) or "(none)"
        what = "ambiguous" if hits else "unknown"
        raise UnknownNameError(f"{what} kernel {name!r} (name an ISA); valid: {valid}")
    try:
        return _REGISTRY[(name, isa)]
    except KeyError:
        valid = ", ".join(n for n, i in sorted(_REGISTRY) if i == isa)
        if not valid:
            others = ", ".join(f"{n}/{i}" for n, i in sorted(_REGISTRY)) or "(none)"
            raise UnknownNameError(f"unknown kernel {name!r}: no kernel is registered for ISA {isa!r}; "
                                   f"valid: {others}") from None
        raise UnknownNameError(f"unknown kernel {name!r} for ISA {isa}; valid: {valid}") from None


def read_result(spec: KernelSpec, buffers, *, M: int, K: int, **params) -> np.ndarray:
    """``spec.result`` on the buffers after a run of shape (M, K), passing the shape if it needs it.

    Parameters
    ----------
    buffers : every buffer after the run (`isa_models.core.execute.execute`'s return value).
    M, K : the shape the Program was built for.
    params : resolved kernel parameters.
    """
    if spec.result_needs_shape:
        return spec.result(buffers, M=M, K=K, **params)
    return spec.result(buffers)


def run(spec: KernelSpec, codes: np.ndarray, q: np.ndarray, *, runner: Callable | None = None,
        program=None, **params) -> np.ndarray:
    """Build, prepare and run `spec` on codes int8 [M, K] and q int8 [K]; return its int32 [M].

    A batched kernel (`KernelSpec.batched`) takes q int8 [N, K], N its tokens parameter, and
    returns int32 [N, M].

    Parameters
    ----------
    runner : ``(program, buffers) -> buffers`` that runs the Program; default the functional
        executor (`isa_models.core.execute.execute`). `kernels.codegen.run_inprocess` runs the
        emitted C on this CPU, `run_standalone` a standalone executable (under an emulator).
    program : a Program already built for this shape and these params (saves rebuilding).
    """
    codes = np.asarray(codes)
    q = np.asarray(q)
    want = "q [N, K]" if spec.batched else "q [K]"
    if codes.ndim != 2 or q.ndim != (2 if spec.batched else 1) or q.shape[-1] != codes.shape[1]:
        raise UserError(f"kernel {spec.name}: need codes [M, K] and {want}, got {codes.shape} and {q.shape}")
    if q.dtype != np.int8:
        raise UserError(f"kernel {spec.name}: q must be int8, got {q.dtype}")
    p = spec.resolve(**params)
    if spec.batched and q.shape[0] != p[spec.tokens_param]:
        raise UserError(f"kernel {spec.name}/{spec.isa}: q has {q.shape[0]} token rows but "
                        f"{spec.tokens_param}={p[spec.tokens_param]}")
    m, k = codes.shape
    spec.require_shape(m, k, **p)
    prog = program if program is not None else spec.build(m, k, **p)
    buffers = spec.prepare(codes, q, **p)
    out = (runner or execute)(prog, buffers)
    return read_result(spec, out, M=m, K=k, **p)
