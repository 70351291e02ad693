"""Equivalence sweep: a kernel's int32 accumulators against the reference on a model's real shapes.

Kernel layer, the check behind ``workbench verify --kernel K --isa avx2`` (DESIGN.md §4). For each
chosen projection of each chosen layer of a preset (deterministic `random_linear` weights), it
runs the kernel on several activation vectors and compares every row with
`workbench.reference.ternary_matvec` by integer equality:

- "realistic": heavy-tailed float activations (Student-t, 4 d.o.f.) quantized per token with
  `workbench.quant.quantize_activations`;
- "extreme": activations of -128/127 only (random signs), with row 0 set to all +1 and row 1 to
  all -1;
- "max": every activation 127, rows 0/1 all +1/all -1 again (the worst case for I2_S's lanes).

Exact kernels must match everywhere; a bounded kernel must match on every row where its bound holds
(rows outside it are listed with the kernel's diagnosis); a lossy kernel gets its error measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kernels.registry import KernelSpec, get, run
from workbench.quant import quantize_activations
from workbench.reference import get_preset, random_linear, ternary_matvec

__all__ = ["verify", "VerifyResult", "CaseResult", "activation_cases", "compare", "DEFAULT_PROJECTIONS",
           "INPUT_KINDS"]

#: One projection per distinct 2B-4T shape: q (2560x2560), k (640x2560), gate (6912x2560),
#: down (2560x6912).
DEFAULT_PROJECTIONS = ("q", "k", "gate", "down")
INPUT_KINDS = ("realistic", "extreme", "max")


@dataclass
class CaseResult:
    """One (layer, projection, input) run.

    status : "exact"; "within bound" (bounded kernel: every row inside its bound matched, rows
        outside it are counted in `outside_bound`); "mismatch" (a row that must be exact is not);
        "lossy" (error measured in `error`); "unsupported" (the shape violates the kernel's
        constraints; `message` says which).
    """

    layer: int
    projection: str
    shape: tuple[int, int]
    inputs: str
    status: str
    mismatches: int = 0
    outside_bound: int = 0
    message: str = ""
    error: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in ("exact", "within bound", "lossy", "unsupported")

    def describe(self) -> str:
        head = f"layer {self.layer} {self.projection} {self.shape[0]}x{self.shape[1]} {self.inputs}: {self.status}"
        if self.status == "within bound" and self.outside_bound:
            head += f" ({self.outside_bound} rows outside the bound)"
        if self.status == "lossy":
            head += " (" + ", ".join(f"{k} {v:.4g}" for k, v in self.error.items()) + ")"
        return head + (f"; {self.message}" if self.message else "")


@dataclass
class VerifyResult:
    """All cases of one sweep; `ok` is True when no case is a mismatch."""

    kernel: str
    isa: str
    model: str
    cases: list[CaseResult]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    def describe(self) -> str:
        lines = [f"kernel {self.kernel}/{self.isa} on {self.model}: {'OK' if self.ok else 'FAILED'}"]
        lines += ["  " + c.describe() for c in self.cases]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"kernel": self.kernel, "isa": self.isa, "model": self.model, "ok": self.ok,
                "cases": [c.__dict__ | {"shape": list(c.shape)} for c in self.cases]}


def activation_cases(K: int, *, seed: int, kinds=INPUT_KINDS) -> dict[str, np.ndarray]:
    """Named int8 activation vectors of length K (see the module docstring)."""
    rng = np.random.default_rng(seed)
    out = {}
    for kind in kinds:
        if kind == "realistic":
            x = rng.standard_t(4, size=(1, K)).astype(np.float32)
            out[kind] = quantize_activations(x)[0][0]
        elif kind == "extreme":
            out[kind] = rng.choice(np.array([-128, 127], dtype=np.int8), size=K)
        elif kind == "max":
            out[kind] = np.full(K, 127, dtype=np.int8)
        else:
            raise ValueError(f"verify: unknown input kind {kind!r}; valid: {', '.join(INPUT_KINDS)}")
    return out


def compare(spec: KernelSpec, codes: np.ndarray, q: np.ndarray, got: np.ndarray, expected: np.ndarray,
            params: dict) -> tuple[str, int, int, str, dict]:
    """(status, mismatches, outside_bound, message, error) for one run (see `CaseResult`)."""
    got = np.asarray(got)
    if spec.exactness == "lossy":
        diff = got.astype(np.float64) - expected
        rms_ref = float(np.sqrt(np.mean(expected.astype(np.float64) ** 2))) or 1.0
        return "lossy", 0, 0, "", {"relative_rms_error": float(np.sqrt(np.mean(diff ** 2))) / rms_ref,
                                   "max_abs_error": float(np.abs(diff).max())}
    wrong = got != expected
    inside = np.ones(len(expected), bool)
    if spec.exactness == "bounded":
        inside = np.asarray(spec.bound_holds(codes, q, **params), dtype=bool)
    must_fail = wrong & inside
    rows = np.flatnonzero(must_fail if must_fail.any() else wrong)
    message = ""
    if len(rows):
        r = int(rows[0])
        message = f"row {r}: expected {int(expected[r])}, got {int(got[r])}"
        if spec.diagnose is not None:
            message += f" ({spec.diagnose(codes, q, r, int(expected[r]), int(got[r]), **params)})"
    outside = int((~inside).sum())
    if must_fail.any():
        return "mismatch", int(must_fail.sum()), outside, message, {}
    if spec.exactness == "bounded":
        return "within bound", 0, outside, message, {}
    return "exact", 0, 0, "", {}


def verify(kernel, *, isa: str = "avx2", model: str = "bitnet-b1.58-2B-4T", layers=(0,),
           projections=DEFAULT_PROJECTIONS, inputs=INPUT_KINDS, seed: int = 0, native: bool = False,
           progress=None, **params) -> VerifyResult:
    """Sweep `kernel` (a name or `KernelSpec`) over a preset's projection shapes.

    Parameters
    ----------
    layers : layer numbers whose weights (`random_linear(config, layer, proj, seed=seed)`) are used.
    projections : projection names ("q", "k", "v", "o", "gate", "up", "down").
    inputs : activation kinds, see `activation_cases`.
    native : run the emitted C on this CPU instead of the functional executor.
    progress : optional callable(str) told about each case before it runs.
    params : kernel parameters (tile sizes); defaults otherwise.

    Returns
    -------
    VerifyResult; ``.ok`` is False if any row that must be exact differs.
    """
    spec = kernel if isinstance(kernel, KernelSpec) else get(kernel, isa)
    p = spec.resolve(**params)
    config = get_preset(model)
    cases: list[CaseResult] = []
    for layer in layers:
        for proj in projections:
            m, k = config.projection_shape(proj)
            try:
                spec.check_shape(m, k, **p)
            except ValueError as exc:
                cases.append(CaseResult(layer, proj, (m, k), "-", "unsupported", message=str(exc)))
                continue
            lin = random_linear(config, layer, proj, seed=seed)
            program = spec.build(m, k, **p)
            for kind, q in activation_cases(k, seed=seed * 7919 + layer * 31 + k, kinds=inputs).items():
                codes = lin.codes
                if kind in ("extreme", "max"):
                    codes = codes.copy()
                    codes[0] = 1
                    codes[1] = -1
                if progress is not None:
                    progress(f"{spec.name}/{spec.isa} layer {layer} {proj} {m}x{k} {kind}")
                got = run(spec, codes, q, native=native, program=program, **p)
                expected = ternary_matvec(q[None], codes)[0]
                status, bad, outside, msg, err = compare(spec, codes, q, got, expected, p)
                cases.append(CaseResult(layer, proj, (m, k), kind, status, bad, outside, msg, err))
    return VerifyResult(spec.name, spec.isa, model, cases)
