"""One equivalence point: a kernel's end-to-end accuracy on a model, joined with its speed.

Sweep layer (`workbench.sweep`), the evaluate function of ``kind = "equivalence"`` sweeps. It runs
`workbench.equivalence.run_equivalence` (greedy decoding with the kernel's accumulators against the
exact reference) and `kernel_point.evaluate_kernel_point` on the point's machine and shape, so a
Pareto plot can put speed against the equivalence error of lossy and bounded kernels. A kernel
that cannot run the model or the shape is an UNSUPPORTED row with the reason.
"""

from __future__ import annotations

from workbench.errors import UserError
from workbench.sweep.kernel_point import CONFIG_KEYS as KERNEL_KEYS
from workbench.sweep.kernel_point import evaluate_kernel_point

__all__ = ["evaluate_equivalence_point", "CONFIG_KEYS", "EQUIVALENCE_KEYS"]

CONFIG_KEYS = KERNEL_KEYS + ("model", "tokens")

#: the summary fields of `EquivalenceResult.summary()` copied into the row
EQUIVALENCE_KEYS = ("identical", "max_abs_logit_diff", "mean_kl", "max_kl", "top1_agreement", "first_divergence",
                    "steps", "max_acc_error")


def evaluate_equivalence_point(config: dict) -> dict:
    """The kernel point's row (`evaluate_kernel_point` on machine and shape) plus model, tokens,
    the equivalence verdict (``equivalence``: VERIFIED, LOSSY, FAILED, or UNSUPPORTED with
    ``equivalence_reason``) and `EQUIVALENCE_KEYS` (None where the decode did not run).

    Raises
    ------
    UserError : a config key that is not in `CONFIG_KEYS`; a malformed kernel config.
    """
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise UserError(f"equivalence point: unknown key {unknown[0]!r}; valid: {', '.join(CONFIG_KEYS)}")
    from workbench.equivalence import run_equivalence

    model, tokens = config.get("model", "tiny"), int(config.get("tokens", 16))
    row = evaluate_kernel_point({k: v for k, v in config.items() if k in KERNEL_KEYS})
    row.update({"model": model, "tokens_decoded": tokens, "equivalence": None, "equivalence_reason": None})
    row.update({key: None for key in EQUIVALENCE_KEYS})
    if row["verdict"] == "UNSUPPORTED":
        row.update(equivalence="UNSUPPORTED", equivalence_reason="the kernel point is unsupported")
        return row
    try:
        result = run_equivalence(isa=config["isa"], kernel=config["kernel"], model=model,
                                 machine=config.get("machine"), params=dict(config.get("params") or {}),
                                 tokens=tokens, seed=int(config.get("seed", 0)))
    except UserError as exc:
        row.update(equivalence="UNSUPPORTED", equivalence_reason=str(exc).splitlines()[0])
        return row
    summary = result.summary()
    row.update(equivalence=summary.get("verdict"), equivalence_reason=summary.get("reason"))
    for key in EQUIVALENCE_KEYS:
        value = summary.get(key)
        row[key] = value if value is None or isinstance(value, (bool, int, float, str)) else str(value)
    return row
