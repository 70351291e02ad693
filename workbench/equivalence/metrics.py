"""Per-step metrics of an equivalence run: the kernel model's logits against the reference's.

Top of the flow (`workbench.equivalence`), used by `run`. Both models saw the same tokens, so
each step compares like with like: exact equality of the float32 logits (`np.array_equal`), the
max |logit difference|, KL(reference || kernel) of the two softmaxes in float64, and whether
both pick the same greedy token (ties to the lowest id, as `workbench.reference.generate`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["StepMetrics", "log_softmax", "kl_divergence", "compare_logits"]


@dataclass(frozen=True)
class StepMetrics:
    """One step (0: the prompt's last position after prefill; then each decode step).

    Attributes
    ----------
    step : the step number.
    position : the position whose logits are compared.
    input_token : the token fed at this step (the prompt's last one at step 0).
    kernel_token, reference_token : each model's greedy pick from these logits.
    logits_equal : the float32 logits are equal element for element.
    accumulators_equal : every projection's kernel accumulators equalled the reference's.
    max_abs_logit_diff : max |kernel - reference| over the vocabulary (float64 of float32 values).
    kl : KL(reference || kernel) of the softmaxes, float64, in nats.
    acc_errors : ``{"<layer>.<proj>": max |kernel - exact| accumulator}`` of this step.
    """

    step: int
    position: int
    input_token: int
    kernel_token: int
    reference_token: int
    logits_equal: bool
    accumulators_equal: bool
    max_abs_logit_diff: float
    kl: float
    acc_errors: dict = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        """Bitwise-identical logits and every accumulator equal."""
        return self.logits_equal and self.accumulators_equal

    @property
    def top1(self) -> bool:
        """Both models pick the same next token."""
        return self.kernel_token == self.reference_token

    @property
    def max_acc_error(self) -> int:
        return max(self.acc_errors.values(), default=0)

    def to_json(self) -> dict:
        out = asdict(self)
        out.update(identical=self.identical, top1=self.top1, max_acc_error=self.max_acc_error)
        return out


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax of a 1-D array, in float64, shifted by the max for stability."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def kl_divergence(reference: np.ndarray, kernel: np.ndarray) -> float:
    """KL(softmax(reference) || softmax(kernel)) in nats (float64); 0.0 for equal inputs.

    Rounding can leave a sum a few ulps below zero for nearly equal inputs; it is reported as 0.
    """
    lp, lq = log_softmax(reference), log_softmax(kernel)
    return max(0.0, float(np.sum(np.exp(lp) * (lp - lq))))


def compare_logits(step: int, position: int, input_token: int, reference: np.ndarray, kernel: np.ndarray,
                   acc_errors: dict) -> StepMetrics:
    """The `StepMetrics` of one step from the two models' float32 logits [V] and the step's
    per-projection accumulator errors."""
    reference = np.asarray(reference).reshape(-1)
    kernel = np.asarray(kernel).reshape(-1)
    equal = bool(np.array_equal(reference, kernel))
    diff = 0.0 if equal else float(np.max(np.abs(kernel.astype(np.float64) - reference.astype(np.float64))))
    return StepMetrics(step=step, position=position, input_token=int(input_token),
                       kernel_token=int(np.argmax(kernel)), reference_token=int(np.argmax(reference)),
                       logits_equal=equal, accumulators_equal=not any(acc_errors.values()),
                       max_abs_logit_diff=diff, kl=0.0 if equal else kl_divergence(reference, kernel),
                       acc_errors=dict(acc_errors))
