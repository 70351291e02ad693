"""The kernel registry: every kernel, per ISA, with its format, parameters, exactness and functions.

Kernel layer (DESIGN.md §3-§4). A `KernelSpec` names a kernel ("i2s", "tl2", ...) for one ISA
("avx2", "npu"; NEON/HVX kernels register the same way) and carries three functions:
``build(M, K, **params) -> Program``, ``prepare(codes, q, **params) -> buffers`` (weights packed
with `workbench.formats` or the NPU word encoding, activation-side inputs) and
``result(buffers) -> int32 [M]`` (`read_result` for kernels whose read-back needs the shape). `run`
executes one kernel functionally (or natively) on ternary codes and int8 activations.
`kernels.verify` sweeps kernels against `workbench.reference.ternary_matvec`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

__all__ = ["KernelSpec", "register", "get", "kernels", "run", "read_result", "KERNEL_MODULES", "EXACTNESS"]

EXACTNESS = ("exact", "bounded", "lossy")

#: Modules that define the built-in kernels (each exposes ``KERNEL``, a `KernelSpec`).
KERNEL_MODULES = ("kernels.i2s.avx2", "kernels.tl2.avx2", "kernels.tq2.avx2", "kernels.tmac.avx2",
                  "kernels.vnni.avx2", "kernels.vnni2.avx2", "kernels.npu")


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

    def __post_init__(self) -> None:
        if self.exactness not in EXACTNESS:
            raise ValueError(f"kernel {self.name}/{self.isa}: exactness {self.exactness!r} is not one of "
                             f"{', '.join(EXACTNESS)}")
        if self.exactness == "bounded" and (not self.bound or self.bound_holds is None):
            raise ValueError(f"kernel {self.name}/{self.isa}: a bounded kernel needs bound and bound_holds")

    def resolve(self, **params) -> dict:
        """Defaults overridden by `params`; an unknown parameter raises ValueError."""
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ValueError(f"kernel {self.name}/{self.isa}: unknown parameter {unknown[0]!r}; valid: "
                             f"{', '.join(self.params) or '(none)'}")
        for key, value in params.items():
            default = self.params[key]
            if isinstance(value, str) and not isinstance(default, str):
                raise ValueError(f"kernel {self.name}/{self.isa}: parameter {key!r} takes an integer, "
                                 f"got {value!r}")
        return {**self.params, **params}

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


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in KERNEL_MODULES:
            register(importlib.import_module(module).KERNEL)


def kernels(isa: str | None = None) -> list[KernelSpec]:
    """All registered kernels (of one ISA if given), sorted by (isa, name)."""
    _load_builtin()
    return [s for k, s in sorted(_REGISTRY.items()) if isa is None or s.isa == isa]


def get(name: str, isa: str = "avx2") -> KernelSpec:
    """The kernel `name` for `isa`; an unknown one raises LookupError listing the valid kernels."""
    _load_builtin()
    try:
        return _REGISTRY[(name, isa)]
    except KeyError:
        valid = ", ".join(f"{n}/{i}" for n, i in sorted(_REGISTRY)) or "(none)"
        raise LookupError(f"unknown kernel {name!r} for ISA {isa!r}; valid: {valid}") from None


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


def run(spec: KernelSpec, codes: np.ndarray, q: np.ndarray, *, native: bool = False,
        program=None, **params) -> np.ndarray:
    """Build, prepare and run `spec` on codes int8 [M, K] and q int8 [K]; return its int32 [M].

    Parameters
    ----------
    native : run the emitted C on this CPU (`kernels.codegen.NativeKernel`) instead of the
        functional executor.
    program : a Program already built for this shape and these params (saves rebuilding).
    """
    from isa_models.core.execute import execute

    codes = np.asarray(codes)
    q = np.asarray(q)
    if codes.ndim != 2 or q.ndim != 1 or q.shape[0] != codes.shape[1]:
        raise ValueError(f"kernel {spec.name}: need codes [M, K] and q [K], got {codes.shape} and {q.shape}")
    if q.dtype != np.int8:
        raise ValueError(f"kernel {spec.name}: q must be int8, got {q.dtype}")
    p = spec.resolve(**params)
    m, k = codes.shape
    spec.check_shape(m, k, **p)
    prog = program if program is not None else spec.build(m, k, **p)
    buffers = spec.prepare(codes, q, **p)
    if native:
        from kernels.codegen import NativeKernel
        out = NativeKernel(prog)(buffers)
    else:
        out = execute(prog, buffers)
    return read_result(spec, out, M=m, K=k, **p)
