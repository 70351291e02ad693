"""The functional check of every projection: the kernel's Program run on real weights, judged by
`kernels.verify`.

Top of the flow (`workbench.flow`), between the inputs (`activations.py`) and the report. A
`KernelRunner` builds a registered kernel's Program once per shape and runs it with the
functional executor (`kernels.registry.run`); `run_checks` does so for every (layer, projection)
of a run, in forked worker processes that inherit the weights (memory-mapped from the weight
cache, so not copied), the activations and the built Programs. Every verdict is
`kernels.verify.check_accumulators`: integer equality with `workbench.reference.ternary_matvec`.
A batched (prefill) kernel runs each projection on a batch of `tokens` rows (the projection's row
plus seeded ones, `Activations.batch`) and is judged on all tokens x rows.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Callable

import numpy as np

from kernels.registry import run as run_kernel
from kernels.verify import Check, check_accumulators
from workbench.errors import UserError
from workbench.reference import ternary_matvec

__all__ = ["KernelRunner", "run_checks", "job_rows", "job_expected"]


class KernelRunner:
    """One registered kernel (`kernels.registry.KernelSpec`) with resolved parameters: Programs
    built once per shape, functional runs on real buffers.

    Parameters
    ----------
    spec : the kernel.
    params : build parameters; unknown keys raise UserError (`KernelSpec.resolve`).
    """

    def __init__(self, spec, **params):
        self.spec = spec
        self.params = spec.resolve(**params)
        self._programs: dict[tuple[int, int], object] = {}

    @property
    def exactness(self) -> str:
        return self.spec.exactness

    @property
    def tokens(self) -> int:
        """Activation rows per call: the batched kernel's tokens parameter, else 1."""
        return int(self.params[self.spec.tokens_param]) if self.spec.batched else 1

    def program(self, M: int, K: int):
        """The kernel's Program for shape (M, K); a shape the kernel does not support is a
        UserError naming the kernel, the shape and the violated constraint."""
        key = (M, K)
        if key not in self._programs:
            try:
                self.spec.check_shape(M, K, **self.params)
            except UserError:
                raise
            except ValueError as exc:
                raise UserError(f"kernel {self.spec.name}/{self.spec.isa} cannot run shape {M}x{K}: {exc}") from None
            self._programs[key] = self.spec.build(M, K, **self.params)
        return self._programs[key]

    def run(self, codes: np.ndarray, q: np.ndarray) -> np.ndarray:
        """The kernel's accumulators for weight codes [M, K] and one int8 activation row [K]
        (a batched kernel: q [tokens, K] -> [tokens, M])."""
        M, K = codes.shape
        return np.asarray(run_kernel(self.spec, codes, q, program=self.program(M, K), **self.params))

    def check(self, codes: np.ndarray, q: np.ndarray, *, expected: np.ndarray | None = None) -> Check:
        """Run and judge with `kernels.verify.check_accumulators`.

        `expected` : the reference accumulators when already computed (the forward pass's trace
        holds ternary_matvec's output for exactly this q and these codes); else computed here.
        A batched kernel takes q [tokens, K] and expected [tokens, M].
        """
        if expected is None:
            expected = ternary_matvec(q, codes) if q.ndim == 2 else ternary_matvec(q[None, :], codes)[0]
        return check_accumulators(self.spec, codes, q, self.run(codes, q), expected, params=self.params)


_JOB_STATE: dict = {}


def _check_job(job) -> Check:
    """One functional check (in a forked worker or inline; state in `_JOB_STATE`)."""
    layer, proj, expected = job
    st = _JOB_STATE
    codes = np.ascontiguousarray(st["weights"].layers[layer].projection(proj).codes)
    return st["runner"].check(codes, job_rows(st["runner"], st["activations"], layer, proj), expected=expected)


def job_rows(runner: KernelRunner, activations, layer: int, proj: str) -> np.ndarray:
    """The activations one check of (layer, proj) runs on: the projection's int8 row [K], or for a
    batched kernel the batch [tokens, K] (`Activations.batch`)."""
    if runner.spec.batched:
        return activations.batch(layer, proj, runner.tokens)
    return activations.row(layer, proj)


def job_expected(runner: KernelRunner, activations, layer: int, proj: str) -> np.ndarray:
    """The reference accumulators of `job_rows`: [M], or [tokens, M] for a batched kernel."""
    if runner.spec.batched:
        return activations.expected_batch(layer, proj, runner.tokens)
    return activations.expected(layer, proj)


def run_checks(runner: KernelRunner, weights, activations, jobs: list[tuple[int, str]], *,
               workers: int, on_done: Callable = lambda: None) -> list[Check]:
    """Functional checks of `jobs` [(layer, proj)], in forked worker processes when workers > 1.

    The reference accumulators are computed here first (Numba's threads stay in this process);
    the workers inherit weights, activations and the built Programs by fork. Returns one
    `kernels.verify.Check` per job, in order.
    """
    if workers < 1:
        raise UserError(f"--workers {workers}: must be at least 1")
    tasks = [(li, p, job_expected(runner, activations, li, p)) for li, p in jobs]
    for li, p in dict.fromkeys(jobs):                   # build every shape's Program before forking
        runner.program(*weights.config.projection_shape(p))
    _JOB_STATE.update(runner=runner, weights=weights, activations=activations)
    out: list[Check] = []
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
