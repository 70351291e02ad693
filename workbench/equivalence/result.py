"""The record of an equivalence run, its summary and its verdict.

Top of the flow (`workbench.equivalence`), filled by `run`, read by `report`, `plot`, the CLI
and sweeps (`summary()`). The verdict follows the kernel's exactness (`kernels.registry`):
an exact kernel must give bitwise-identical logits and accumulators (VERIFIED, else FAILED); a
bounded kernel must too, unless its accumulators differ only where its bound fails and the
user's tolerances (``--max-kl``, ``--min-top1``) are given and met (LOSSY); a row that differs
within the bound is a kernel bug (FAILED). A lossy kernel is LOSSY when it meets the tolerances
given or none is given ("no tolerance set"), FAILED when one is violated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.equivalence.hook import ContractBreak, ErrorStats
from workbench.equivalence.metrics import StepMetrics

__all__ = ["EquivalenceResult", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """status: VERIFIED, LOSSY or FAILED (`kernels.verify.STATUSES`); reason: one line."""

    status: str
    reason: str

    @property
    def ok(self) -> bool:
        return self.status != "FAILED"

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def line(self) -> str:
        return f"verdict: {self.status}: {self.reason}"


@dataclass
class EquivalenceResult:
    """Everything an equivalence run measured.

    Attributes
    ----------
    isa, kernel, machine, model, exactness, mode, convention : what ran and how.
    params : the kernel's resolved parameters.
    bound : a bounded kernel's proven condition, in words ("" otherwise).
    prompt_ids : the prompt; step 0 compares its last position's logits.
    steps : one `StepMetrics` per step (1 + decode steps).
    first_break : the first `ContractBreak` (exact, bounded kernels) or None.
    errors : ``{"<layer>.<proj>": ErrorStats}`` of the kernel's accumulators over the run.
    tolerance_kl, tolerance_top1 : the tolerances given, --max-kl and --min-top1 (None: not set).
    defaults : one line per default taken (machine, kernel) and why.
    kernel_calls : kernel runs made; seconds : wall time of the run.
    """

    isa: str
    kernel: str
    machine: str
    model: str
    exactness: str
    mode: str
    convention: str
    params: dict
    bound: str
    prompt_ids: list[int]
    steps: list[StepMetrics] = field(default_factory=list)
    first_break: ContractBreak | None = None
    errors: dict[str, ErrorStats] = field(default_factory=dict)
    tolerance_kl: float | None = None
    tolerance_top1: float | None = None
    defaults: tuple[str, ...] = ()
    seed: int = 0
    kernel_calls: int = 0
    seconds: float = 0.0

    # -- aggregates ------------------------------------------------------------------------------
    @property
    def identical(self) -> bool:
        """Every step's logits bitwise equal and every accumulator equal."""
        return bool(self.steps) and all(s.identical for s in self.steps)

    @property
    def first_divergence(self) -> int | None:
        """The first step whose greedy tokens differ (the sequences part there), or None."""
        return next((s.step for s in self.steps if not s.top1), None)

    @property
    def top1_agreement(self) -> float:
        return float(np.mean([s.top1 for s in self.steps])) if self.steps else 1.0

    @property
    def max_abs_logit_diff(self) -> float:
        return max((s.max_abs_logit_diff for s in self.steps), default=0.0)

    @property
    def max_kl(self) -> float:
        return max((s.kl for s in self.steps), default=0.0)

    @property
    def mean_kl(self) -> float:
        return float(np.mean([s.kl for s in self.steps])) if self.steps else 0.0

    @property
    def kernel_tokens(self) -> list[int]:
        """The kernel model's greedy pick at each step; all but the last were fed to both models."""
        return [s.kernel_token for s in self.steps]

    @property
    def reference_tokens(self) -> list[int]:
        """The reference model's greedy pick at each step (on the kernel model's prefix)."""
        return [s.reference_token for s in self.steps]

    def projection_errors(self) -> dict[str, dict]:
        """``{"<layer>.<proj>": {calls, values, differing, rel_rms, max_abs}}``."""
        return {k: v.to_json() for k, v in self.errors.items()}

    # -- verdict ---------------------------------------------------------------------------------
    def verdict(self) -> Verdict:
        """The verdict (see the module docstring)."""
        n = len(self.steps)
        if self.identical:
            return Verdict("VERIFIED", f"bitwise-identical logits over {n} steps, every accumulator of "
                                       f"every projection equal to the exact reference")
        broke = self.first_break
        where = (f"layer {broke.layer} {broke.proj} first broke the contract at step {broke.step} "
                 f"({broke.rows} accumulator(s) differ)") if broke else ""
        if self.exactness == "exact":
            return Verdict("FAILED", f"exact kernel, but {where or 'the logits differ'}")
        if self.exactness == "bounded" and broke is not None and broke.within_bound:
            return Verdict("FAILED", f"{where}, {broke.within_bound} within the kernel's bound: a kernel bug")
        judged = self._tolerances()
        if judged is None:
            if self.exactness == "bounded":
                return Verdict("FAILED", f"{where}, outside the kernel's bound; give --max-kl / --min-top1 "
                                         f"to judge the divergence instead")
            return Verdict("LOSSY", f"logits differ (max |diff| {self.max_abs_logit_diff:.4g}, max KL "
                                    f"{self.max_kl:.3g}, top-1 {self.top1_agreement:.0%}); no tolerance set")
        failed, text = judged
        prefix = f"{where}; " if where else ""
        return Verdict("FAILED" if failed else "LOSSY", prefix + text)

    def _tolerances(self) -> tuple[bool, str] | None:
        """(violated, text) against the tolerances given, or None when none is set."""
        tol_kl, tol_top1 = self.tolerance_kl, self.tolerance_top1
        if tol_kl is None and tol_top1 is None:
            return None
        parts, violated = [], False
        if tol_kl is not None:
            ok = self.max_kl <= tol_kl
            violated |= not ok
            parts.append(f"max KL {self.max_kl:.3g} {'<=' if ok else '>'} --max-kl {tol_kl:g}")
        if tol_top1 is not None:
            ok = self.top1_agreement >= tol_top1
            violated |= not ok
            parts.append(f"top-1 {self.top1_agreement:.3f} {'>=' if ok else '<'} --min-top1 {tol_top1:g}")
        return violated, ("tolerance violated: " if violated else "within tolerance: ") + ", ".join(parts)

    # -- output ----------------------------------------------------------------------------------
    def summary(self) -> dict:
        """The scalar results (JSON-ready): identical, max_abs_logit_diff, mean_kl, max_kl,
        top1_agreement, first_divergence, steps, exactness, first_broken, verdict, ..."""
        v = self.verdict()
        broke = self.first_break
        return {"isa": self.isa, "kernel": self.kernel, "machine": self.machine, "model": self.model,
                "mode": self.mode, "exactness": self.exactness, "steps": len(self.steps),
                "identical": self.identical, "max_abs_logit_diff": self.max_abs_logit_diff,
                "mean_kl": self.mean_kl, "max_kl": self.max_kl, "top1_agreement": self.top1_agreement,
                "first_divergence": self.first_divergence,
                "first_broken": None if broke is None else {"step": broke.step, "layer": broke.layer,
                                                            "proj": broke.proj, "rows": broke.rows,
                                                            "outside_bound": broke.outside_bound},
                "max_acc_error": max((s.max_acc_error for s in self.steps), default=0),
                "verdict": v.status, "reason": v.reason}

    def to_json(self) -> dict:
        """Everything: the summary, the run's settings, every step and every projection's errors."""
        return {"summary": self.summary(), "params": dict(self.params), "bound": self.bound,
                "convention": self.convention, "seed": self.seed, "prompt_ids": list(self.prompt_ids),
                "kernel_tokens": list(self.kernel_tokens), "reference_tokens": self.reference_tokens,
                "tolerances": {"max_kl": self.tolerance_kl, "min_top1": self.tolerance_top1},
                "defaults": list(self.defaults), "kernel_calls": self.kernel_calls, "seconds": self.seconds,
                "first_break": None if self.first_break is None else self.first_break.to_json(),
                "steps": [s.to_json() for s in self.steps], "projection_errors": self.projection_errors()}
