"""The accumulator hook of an equivalence run: every projection's int32 accumulators from a kernel,
each call checked against the exact reference on the same input.

Top of the flow (`workbench.equivalence`), between the reference forward pass
(`workbench.reference.model.forward`, whose ``acc_hook`` this is) and the registered kernel
(`kernels.registry.run`, functional or behind a `runners` runner). Every call runs the kernel on
the projection's int8 rows, computes `workbench.reference.ternary_matvec` on the same rows, and
records per step the max |accumulator error| of each projection, the first call that broke an
exact or bounded kernel's contract (`ContractBreak`), and a lossy kernel's error statistics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from kernels.registry import run as run_kernel
from kernels.verify import check_accumulators
from workbench.reference import ternary_matvec

__all__ = ["KernelHook", "ContractBreak", "ErrorStats", "TOKEN_CANDIDATES"]

#: token counts probed for a batched kernel that cannot take a call's exact row count
TOKEN_CANDIDATES = (1, 2, 4, 8, 16, 32, 64)


@dataclass(frozen=True)
class ContractBreak:
    """The first call whose accumulators differed from the exact reference (exact, bounded kernels).

    Attributes
    ----------
    step, layer, proj : where: the decode step (0: the prompt's prefill), layer, projection.
    rows : accumulators (tokens x rows) that differ in that call.
    outside_bound : of them, rows whose inputs lie outside a bounded kernel's bound (0 otherwise).
    within_bound : differing rows whose inputs lie within the bound (a kernel bug when > 0).
    detail : `kernels.verify.check_accumulators`' description of the first differing row.
    """

    step: int
    layer: int
    proj: str
    rows: int
    outside_bound: int
    within_bound: int
    detail: str

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        text = f"step {self.step} layer {self.layer} {self.proj}: {self.rows} accumulator(s) differ"
        if self.outside_bound or self.within_bound:
            text += f" ({self.outside_bound} outside the kernel's bound, {self.within_bound} within it)"
        return f"{text}; {self.detail}"


@dataclass
class ErrorStats:
    """Accumulator error of one projection over a run: sums for the relative RMS, and the max."""

    calls: int = 0
    values: int = 0
    sq_err: float = 0.0
    sq_ref: float = 0.0
    max_abs: int = 0
    differing: int = 0

    def add(self, exact: np.ndarray, diff: np.ndarray) -> None:
        e = exact.astype(np.float64)
        d = diff.astype(np.float64)
        self.calls += 1
        self.values += int(diff.size)
        self.sq_err += float(np.dot(d.ravel(), d.ravel()))
        self.sq_ref += float(np.dot(e.ravel(), e.ravel()))
        self.max_abs = max(self.max_abs, int(np.abs(diff).max()) if diff.size else 0)
        self.differing += int(np.count_nonzero(diff))

    @property
    def rel_rms(self) -> float:
        """sqrt(sum err^2 / sum ref^2) over every accumulator of every call."""
        return float(np.sqrt(self.sq_err / self.sq_ref)) if self.sq_ref else 0.0

    def to_json(self) -> dict:
        return {"calls": self.calls, "values": self.values, "differing": self.differing,
                "rel_rms": self.rel_rms, "max_abs": self.max_abs}


class KernelHook:
    """``acc_hook(layer, proj, q, linear) -> int32 [T, M]`` running one registered kernel.

    Parameters
    ----------
    spec : the `kernels.registry.KernelSpec`.
    params : its resolved parameters (machine filled in); a batched kernel's tokens parameter
        is only kept when `fixed_tokens` is True.
    runner : ``(program, buffers) -> buffers`` (`workbench.equivalence.runners`), None for the
        functional executor.
    fixed_tokens : the user set a batched kernel's tokens parameter: every call uses it (rows
        padded with zeros). Otherwise each call takes N = its own row count when the kernel
        supports that N, else the smallest N it supports, in chunks padded with zero rows.
    programs : optional ``(M, K) -> Program`` built with exactly `params` (a
        `workbench.flow.checks.KernelRunner`'s cached `program`), reused instead of rebuilding.

    Attributes
    ----------
    step : the decode step the next calls belong to (set by the run loop).
    step_errors : per step, ``{"<layer>.<proj>": max |kernel - exact|}``.
    first_break : the first `ContractBreak` (exact and bounded kernels), or None.
    errors : ``{"<layer>.<proj>": ErrorStats}`` over the run.
    calls : kernel calls made.
    """

    def __init__(self, spec, params: dict, *, runner=None, fixed_tokens: bool = False, programs=None):
        self.spec, self.params, self.runner = spec, dict(params), runner
        self._prebuilt = programs
        self.fixed_tokens = fixed_tokens
        self.step = 0
        self.step_errors: list[dict[str, int]] = []
        self.first_break: ContractBreak | None = None
        self.errors: dict[str, ErrorStats] = {}
        self.calls = 0
        self._programs: dict[tuple, object] = {}
        self._tokens: dict[tuple, int] = {}

    # -- running the kernel ---------------------------------------------------------------------
    def _with_tokens(self, n: int) -> dict:
        return {**self.params, self.spec.tokens_param: n} if self.spec.batched else self.params

    def program(self, M: int, K: int, n: int = 1):
        """The kernel's Program for shape (M, K) (and N = n tokens), built once."""
        key = (M, K, n if self.spec.batched else 1)
        if key not in self._programs:
            same = not self.spec.batched or n == self.params[self.spec.tokens_param]
            self._programs[key] = (self._prebuilt(M, K) if same and self._prebuilt is not None
                                   else self.spec.build(M, K, **self._with_tokens(n)))
        return self._programs[key]

    def tokens_per_call(self, M: int, K: int, rows: int) -> int:
        """N for a call of `rows` activation rows on a batched kernel (see the class docstring)."""
        if self.fixed_tokens:
            return int(self.params[self.spec.tokens_param])
        key = (M, K, rows)
        if key not in self._tokens:
            candidates = (rows, *sorted(set(TOKEN_CANDIDATES) | {int(self.params[self.spec.tokens_param])}))
            for n in candidates:
                if self.spec.supports(M, K, **self._with_tokens(n)):
                    self._tokens[key] = n
                    break
            else:
                # the resolved parameters passed resolution for this shape, so this is a bug
                raise RuntimeError(f"kernel {self.spec.name}/{self.spec.isa}: no token count fits {M}x{K}")
        return self._tokens[key]

    def kernel_accumulators(self, codes: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The kernel's int32 [T, M] for codes [M, K] and q int8 [T, K]."""
        M, K = codes.shape
        T = q.shape[0]
        if not self.spec.batched:
            out = [run_kernel(self.spec, codes, q[t], runner=self.runner, program=self.program(M, K),
                              **self.params) for t in range(T)]
            self.calls += T
            return np.stack([np.asarray(o) for o in out]).astype(np.int32)
        n = self.tokens_per_call(M, K, T)
        p = self._with_tokens(n)
        out = []
        for start in range(0, T, n):
            chunk = q[start:start + n]
            if chunk.shape[0] < n:                      # zero rows fill the last call
                chunk = np.concatenate([chunk, np.zeros((n - chunk.shape[0], K), np.int8)])
            got = run_kernel(self.spec, codes, np.ascontiguousarray(chunk), runner=self.runner,
                             program=self.program(M, K, n), **p)
            out.append(np.asarray(got)[:min(n, T - start)])
            self.calls += 1
        return np.concatenate(out).astype(np.int32)

    # -- the hook -------------------------------------------------------------------------------
    def __call__(self, layer: int, proj: str, q: np.ndarray, linear) -> np.ndarray:
        codes = np.ascontiguousarray(linear.codes)
        q = np.ascontiguousarray(q)
        got = self.kernel_accumulators(codes, q)
        exact = ternary_matvec(q, codes)
        diff = got.astype(np.int64) - exact.astype(np.int64)
        key = f"{layer}.{proj}"
        while len(self.step_errors) <= self.step:
            self.step_errors.append({})
        err = int(np.abs(diff).max()) if diff.size else 0
        self.step_errors[self.step][key] = max(err, self.step_errors[self.step].get(key, 0))
        self.errors.setdefault(key, ErrorStats()).add(exact, diff)
        if err and self.first_break is None and self.spec.exactness != "lossy":
            self.first_break = self._break(layer, proj, codes, q, got, exact, diff)
        return got

    def _break(self, layer, proj, codes, q, got, exact, diff) -> ContractBreak:
        differ = diff != 0
        outside = within = 0
        if self.spec.exactness == "bounded":
            inside = np.stack([np.broadcast_to(np.asarray(self.spec.bound_holds(codes, q[t], **self.params), bool),
                                               (codes.shape[0],)) for t in range(q.shape[0])])
            outside = int((differ & ~inside).sum())
            within = int((differ & inside).sum())
        if self.spec.batched:                           # names the token itself ("token t row r: ...")
            check = check_accumulators(self.spec, codes, q, got, exact, params=self._with_tokens(q.shape[0]))
            detail = check.first_mismatch or check.describe()
        else:
            t = int(np.flatnonzero(differ.any(axis=1))[0])
            check = check_accumulators(self.spec, codes, q[t], got[t], exact[t], params=self.params)
            detail = check.first_mismatch or check.describe()
            if q.shape[0] > 1:
                detail = f"token {t} {detail}"
        return ContractBreak(self.step, layer, proj, int(differ.sum()), outside, within, detail)
