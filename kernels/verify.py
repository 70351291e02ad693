"""The one result checker: a kernel's int32 accumulators against the reference, and buffer cross-checks.

Kernel layer (DESIGN.md §4, §8). Every verdict in the workbench comes from here, with one set of
status words (`STATUSES`): `workbench simulate` (each projection, and the native, emulator and RTL
cross-checks through `compare_buffers`), `workbench verify` (the sweep below) and the kernel tests.

- `check_accumulators`: integer equality of every row with `workbench.reference.ternary_matvec`.
  One rule for bounded kernels: any differing row is FAILED, whether or not its inputs lie inside
  the kernel's proven bound; the count of rows outside the bound is reported beside it. A lossy
  kernel is LOSSY with its measured error, never compared for equality.
- `compare_buffers`: byte-level equality of two runs' buffers, naming the first differing byte.
- `verify`: a sweep over a preset's projection shapes (deterministic `random_linear` weights) and
  three activation kinds: "realistic" (Student-t, 4 d.o.f., quantized per token with
  `workbench.quant.quantize_activations`), "extreme" (-128/127 only, random signs) and "max" (every
  activation 127); for the last two, rows 0 and 1 are set to all +1 and all -1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

from kernels.codegen import run_inprocess
from kernels.registry import KernelSpec, get, run
from workbench.errors import UserError
from workbench.quant import quantize_activations
from workbench.reference import get_preset, random_linear, ternary_matvec

__all__ = ["measure_error", "STATUSES", "Check", "check_accumulators", "compare_buffers", "unsupported", "verify",
           "VerifyResult", "CaseResult", "activation_cases", "overall_status", "DEFAULT_PROJECTIONS",
           "INPUT_KINDS", "COMPARED_AGAINST"]

#: The status words of every check, in every command and test.
STATUSES = ("VERIFIED", "FAILED", "LOSSY", "UNSUPPORTED")

#: What VERIFIED means, in words, for reports.
COMPARED_AGAINST = ("every int32 accumulator against workbench.reference.ternary_matvec by integer "
                    "equality (lossy kernels: error measured)")

#: One projection per distinct 2B-4T shape: q (2560x2560), k (640x2560), gate (6912x2560),
#: down (2560x6912).
DEFAULT_PROJECTIONS = ("q", "k", "gate", "down")
INPUT_KINDS = ("realistic", "extreme", "max")


@dataclass(frozen=True)
class Check:
    """The verdict of one comparison.

    Attributes
    ----------
    status : one of `STATUSES`. VERIFIED: every row (or byte) equal. FAILED: at least one differs,
        or the result has the wrong number of rows or is not integers (`first_mismatch` says
        which). LOSSY: a lossy kernel, `error` holds its measured error. UNSUPPORTED: the shape
        violates the kernel's constraints (`reason` names the constraint).
    compared : rows (accumulator checks) or bytes (`compare_buffers`) expected.
    unit : "rows" or "bytes".
    mismatches : rows (bytes) that differ.
    outside_bound : rows whose inputs violate a bounded kernel's bound, differing or not.
    mismatches_outside_bound : of the differing rows, how many lie outside the bound.
    first_mismatch : for FAILED, ``"row r: expected e, got g"`` with the kernel's diagnosis and,
        for a bounded kernel, ``"[inputs outside the kernel's bound: <bound>]"`` or ``"[inputs
        within the kernel's bound: a kernel bug]"``; or the reason the result cannot be compared.
    error : for LOSSY, ``{"rel_rms": ..., "max_abs": ...}`` against the exact accumulators.
    reason : for UNSUPPORTED, the violated shape constraint.
    """

    status: str
    compared: int
    unit: str = "rows"
    mismatches: int = 0
    outside_bound: int = 0
    mismatches_outside_bound: int = 0
    first_mismatch: str | None = None
    error: Mapping[str, float] | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Check: status {self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def ok(self) -> bool:
        """True for VERIFIED and LOSSY."""
        return self.status in ("VERIFIED", "LOSSY")

    def describe(self) -> str:
        """One line: the status word and what it rests on."""
        if self.status == "LOSSY":
            e = self.error or {}
            return f"LOSSY (rel RMS {e.get('rel_rms', float('nan')):.2e}, max |err| {e.get('max_abs', 0.0):.4g})"
        if self.status == "UNSUPPORTED":
            return f"UNSUPPORTED: {self.reason}"
        if self.status == "VERIFIED":
            text = f"VERIFIED ({_count(self.compared, self.unit[:-1])} equal"
            if self.outside_bound:
                text += f"; {_count(self.outside_bound, 'row')} outside the kernel's bound, equal anyway"
            return text + ")"
        text = f"FAILED: {self.mismatches} of {self.compared} {self.unit} differ"
        if self.outside_bound:
            text += (f", {self.mismatches_outside_bound} of them outside the kernel's bound "
                     f"({_count(self.outside_bound, 'row')} outside it in all)")
        return text + (f"; {self.first_mismatch}" if self.first_mismatch else "")

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["error"] = dict(self.error) if self.error is not None else None
        out["ok"] = self.ok
        return out


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def unsupported(reason: str, *, rows: int = 0) -> Check:
    """The UNSUPPORTED check of a shape the kernel refuses (`reason`: its constraint)."""
    return Check("UNSUPPORTED", rows, reason=reason)


def _lossy(expected: np.ndarray, got: np.ndarray) -> Check:
    e = expected.astype(np.float64)
    g = got.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return Check("FAILED", e.size, mismatches=int((~np.isfinite(g)).sum()),
                     first_mismatch=f"row {int(np.flatnonzero(~np.isfinite(g))[0])}: kernel returned a "
                                    f"non-finite value")
    rms = float(np.sqrt(np.mean(e * e))) or 1.0
    diff = g - e
    error = {"rel_rms": float(np.sqrt(np.mean(diff * diff))) / rms,
             "max_abs": float(np.abs(diff).max()) if diff.size else 0.0}
    return Check("LOSSY", e.size, error=error)


def check_accumulators(spec: KernelSpec, codes: np.ndarray, q: np.ndarray, got, expected, *,
                       params: Mapping | None = None) -> Check:
    """Check a kernel's accumulators `got` against the reference's `expected` for one activation row.

    Parameters
    ----------
    spec : the kernel; its exactness decides equality (exact, bounded) or measured error (lossy),
        its ``bound_holds`` and ``diagnose`` explain a bounded kernel's rows.
    codes : int8 [M, K] ternary weights the kernel ran on.
    q : int8 [K] activations (a batched kernel: [N, K], one row per token).
    got : the kernel's result, [M] (batched: [N, M]).
    expected : the reference int32 [M] (`workbench.reference.ternary_matvec`; batched: [N, M]).
    params : the kernel parameters of the run (default: the kernel's defaults).

    Returns
    -------
    Check : VERIFIED, FAILED (any differing row, a wrong row count, non-integers) or LOSSY.
        A batched kernel's rows are counted over every token and a failure names the first
        failing token ("token t row r: ..."). When several rows differ, `first_mismatch` shows the first one whose inputs lie within
        the bound (a kernel bug) if any, else the first differing row.
    """
    p = dict(params) if params is not None else spec.resolve()
    if spec.batched:
        return _check_tokens(spec, codes, q, got, expected, p)
    return _check_rows(spec, codes, q, got, expected, p)


def _check_tokens(spec: KernelSpec, codes, q, got, expected, p: Mapping) -> Check:
    """`check_accumulators` of a batched kernel: got and expected [N, M], q [N, K]; each token's
    row checked on its own, the counts summed, a failure naming the first failing token."""
    q, got, expected = np.asarray(q), np.asarray(got), np.asarray(expected)
    n, m = expected.shape
    if got.shape != (n, m):
        return Check("FAILED", n * m, mismatches=n * m,
                     first_mismatch=f"kernel returned accumulators of shape {got.shape}, expected [{n}, {m}] "
                                    f"(tokens, rows)")
    if spec.exactness == "lossy":
        return _lossy(expected.reshape(-1), got.reshape(-1))
    checks = [_check_rows(spec, codes, q[t], got[t], expected[t], p) for t in range(n)]
    outside = sum(c.outside_bound for c in checks)
    failed = [(t, c) for t, c in enumerate(checks) if c.status == "FAILED"]
    if not failed:
        return Check("VERIFIED", n * m, outside_bound=outside)
    t, first = failed[0]
    return Check("FAILED", n * m, mismatches=sum(c.mismatches for c in checks), outside_bound=outside,
                 mismatches_outside_bound=sum(c.mismatches_outside_bound for c in checks),
                 first_mismatch=f"token {t} {first.first_mismatch}")


def _check_rows(spec: KernelSpec, codes, q, got, expected, p: Mapping) -> Check:
    """`check_accumulators` of one activation row: got and expected [M], q [K]."""
    expected = np.asarray(expected).reshape(-1)
    got = np.asarray(got)
    m = expected.size
    if got.ndim != 1 or got.size != m:
        return Check("FAILED", m, mismatches=m,
                     first_mismatch=f"kernel returned {got.size} accumulators of shape {got.shape}, "
                                    f"expected {m} rows")
    if spec.exactness == "lossy":
        return _lossy(expected, got)
    if not (np.issubdtype(got.dtype, np.integer) or got.dtype == np.bool_):
        return Check("FAILED", m, mismatches=m, first_mismatch=f"kernel returned {got.dtype}, not integers")
    differ = got.astype(np.int64) != expected.astype(np.int64)
    inside = np.ones(m, dtype=bool)
    if spec.exactness == "bounded":
        inside = np.broadcast_to(np.asarray(spec.bound_holds(codes, q, **p), dtype=bool), (m,))
    outside = int((~inside).sum())
    if not differ.any():
        return Check("VERIFIED", m, outside_bound=outside)
    in_bug = np.flatnonzero(differ & inside)
    row = int(in_bug[0] if in_bug.size else np.flatnonzero(differ)[0])
    text = f"row {row}: expected {int(expected[row])}, got {int(got[row])}"
    if spec.diagnose is not None:
        text += f" ({spec.diagnose(codes, q, row, int(expected[row]), int(got[row]), **p)})"
    if spec.exactness == "bounded":
        text += (" [inputs within the kernel's bound: a kernel bug]" if inside[row]
                 else f" [inputs outside the kernel's bound: {spec.bound}]")
    return Check("FAILED", m, mismatches=int(differ.sum()), outside_bound=outside,
                 mismatches_outside_bound=int((differ & ~inside).sum()), first_mismatch=text)


def _bytes(a) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def compare_buffers(expected: Mapping[str, np.ndarray], got: Mapping[str, np.ndarray], *,
                    names: Iterable[str] | None = None) -> Check:
    """Byte-level equality of two runs' buffers (functional against native, emulator or RTL).

    Parameters
    ----------
    expected : buffer name -> array, the run taken as reference (the functional executor's).
    got : buffer name -> array, the run under test; buffers it has beyond `names` are ignored.
    names : the buffers to compare (default: every buffer of `expected`, in its order).

    Returns
    -------
    Check with unit "bytes": VERIFIED, or FAILED naming the first differing buffer and byte
    (``"buffer 'y' byte 12: expected 0x1f, got 0x20"``), a missing buffer or a size difference;
    `mismatches` counts the differing bytes over all buffers.
    """
    names = list(expected) if names is None else list(names)
    total = differing = 0
    first = None
    for name in names:
        if name not in expected:
            raise KeyError(f"compare_buffers: no buffer {name!r} in the reference run; it has "
                           f"{', '.join(expected) or '(none)'}")
        e = _bytes(expected[name])
        total += e.size
        if name not in got:
            differing += e.size
            first = first or f"buffer {name!r}: missing from the run under test"
            continue
        g = _bytes(got[name])
        if g.size != e.size:
            differing += max(e.size, g.size)
            first = first or f"buffer {name!r}: expected {e.size} bytes, got {g.size}"
            continue
        bad = np.flatnonzero(e != g)
        if bad.size:
            differing += int(bad.size)
            b = int(bad[0])
            first = first or f"buffer {name!r} byte {b}: expected {int(e[b]):#04x}, got {int(g[b]):#04x}"
    if first is None:
        return Check("VERIFIED", total, unit="bytes")
    return Check("FAILED", total, unit="bytes", mismatches=differing, first_mismatch=first)


def overall_status(checks: Iterable[Check]) -> str:
    """One word for many checks: FAILED if any failed, else LOSSY if any is lossy, else VERIFIED
    if any verified, else UNSUPPORTED (nothing could be compared)."""
    statuses = {c.status for c in checks}
    for word in ("FAILED", "LOSSY", "VERIFIED"):
        if word in statuses:
            return word
    return "UNSUPPORTED"


@dataclass(frozen=True)
class CaseResult:
    """One (layer, projection, activation kind) run of the sweep and its `Check`."""

    layer: int
    projection: str
    shape: tuple[int, int]
    inputs: str
    check: Check

    @property
    def status(self) -> str:
        return self.check.status

    @property
    def ok(self) -> bool:
        return self.check.ok

    def describe(self) -> str:
        return (f"layer {self.layer} {self.projection} {self.shape[0]}x{self.shape[1]} {self.inputs}: "
                f"{self.check.describe()}")

    def to_json(self) -> dict:
        return {"layer": self.layer, "projection": self.projection, "shape": list(self.shape),
                "inputs": self.inputs, **self.check.to_json()}


@dataclass
class VerifyResult:
    """All cases of one sweep; `ok` is False when any case is FAILED."""

    kernel: str
    isa: str
    model: str
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        return overall_status(c.check for c in self.cases)

    @property
    def ok(self) -> bool:
        return all(c.status != "FAILED" for c in self.cases)

    def describe(self) -> str:
        counts = {s: sum(c.status == s for c in self.cases) for s in STATUSES}
        tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        lines = [f"kernel {self.kernel}/{self.isa} on {self.model}: {self.status} ({tally or 'no cases'})"]
        lines += ["  " + c.describe() for c in self.cases]
        lines.append(f"compared: {COMPARED_AGAINST}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"kernel": self.kernel, "isa": self.isa, "model": self.model, "status": self.status,
                "ok": self.ok, "compared_against": COMPARED_AGAINST,
                "cases": [c.to_json() for c in self.cases]}


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
            raise UserError(f"verify: unknown input kind {kind!r}; valid: {', '.join(INPUT_KINDS)}")
    return out


def verify(kernel, *, isa: str | None = None, model: str = "bitnet-b1.58-2B-4T", layers=(0,),
           projections=DEFAULT_PROJECTIONS, inputs=INPUT_KINDS, seed: int = 0, native: bool = False,
           progress: Callable[[str], None] | None = None, **params) -> VerifyResult:
    """Sweep `kernel` over a preset's projection shapes, each case checked by `check_accumulators`.

    Parameters
    ----------
    kernel : a `KernelSpec`, or the name of a kernel registered for `isa`.
    isa : the ISA of a kernel given by name (ignored for a `KernelSpec`).
    layers : layer numbers whose weights (`random_linear(config, layer, proj, seed=seed)`) are used.
    projections : projection names ("q", "k", "v", "o", "gate", "up", "down").
    inputs : activation kinds, see `activation_cases`.
    native : run the emitted C on this CPU instead of the functional executor.
    progress : optional callable(str) told about each case before it runs.
    params : kernel parameters (tile sizes); defaults otherwise.

    Returns
    -------
    VerifyResult; ``.ok`` is False if any case is FAILED. A shape the kernel refuses is an
    UNSUPPORTED case.
    """
    if isinstance(kernel, KernelSpec):
        spec = kernel
    elif isa is None:
        raise TypeError(f"verify({kernel!r}): a kernel given by name needs isa=")
    else:
        spec = get(kernel, isa)
    p = spec.resolve(**params)
    config = get_preset(model)
    result = VerifyResult(spec.name, spec.isa, model)
    for layer in layers:
        for proj in projections:
            m, k = config.projection_shape(proj)
            try:
                spec.check_shape(m, k, **p)
            except ValueError as exc:
                result.cases.append(CaseResult(layer, proj, (m, k), "-", unsupported(str(exc), rows=m)))
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
                if spec.batched:           # the case's row, then N-1 further seeded rows of its kind
                    q = np.stack([q] + [activation_cases(k, seed=seed * 7919 + layer * 31 + k + t, kinds=(kind,))[kind]
                                        for t in range(1, p[spec.tokens_param])])
                got = run(spec, codes, q, runner=run_inprocess if native else None, program=program, **p)
                expected = ternary_matvec(q, codes) if spec.batched else ternary_matvec(q[None], codes)[0]
                check = check_accumulators(spec, codes, q, got, expected, params=p)
                result.cases.append(CaseResult(layer, proj, (m, k), kind, check))
    return result


def measure_error(spec: KernelSpec, *, model: str = "bitnet-b1.58-2B-4T", seed: int = 0, tokens: int = 4,
                  **params) -> dict[str, object]:
    """Relative RMS and max |error| of a lossy kernel's result against the exact accumulators, on
    layer 0 of the model's `DEFAULT_PROJECTIONS`, with `tokens` Student-t(4) activation rows each,
    quantized per token (the functional run). The figure a lossy kernel registers as its `error`."""
    p = spec.resolve(**params)
    config = get_preset(model)
    rng = np.random.default_rng(seed)
    sq_err = sq_ref = max_abs = 0.0
    for proj in DEFAULT_PROJECTIONS:
        lin = random_linear(config, 0, proj, seed=seed)
        m, k = lin.shape
        program = spec.build(m, k, **p)
        for _ in range(tokens):
            q = quantize_activations(rng.standard_t(4, size=(1, k)).astype(np.float32))[0][0]
            got = run(spec, lin.codes, q, program=program, **p).astype(np.float64)
            exp = ternary_matvec(q[None], lin.codes)[0].astype(np.float64)
            sq_err += float(((got - exp) ** 2).sum())
            sq_ref += float((exp ** 2).sum())
            max_abs = max(max_abs, float(np.abs(got - exp).max()))
    shown = ", ".join(f"{key} {value}" for key, value in p.items())
    return {"relative_rms_error": (sq_err / sq_ref) ** 0.5, "max_abs_error": max_abs,
            "measured_on": f"{model} layer 0 projections {', '.join(DEFAULT_PROJECTIONS)}, {tokens} "
                           f"Student-t(4) tokens each, seed {seed}" + (f", {shown}" if shown else "")}
