"""The plot of an equivalence run over its steps (matplotlib, Agg backend).

Top of the flow (`workbench.equivalence`), ``workbench equivalence --plot``. Upper panel, log
scale: max |logit difference| and KL(reference || kernel) per step; a step where both are 0
(bitwise-identical logits) is drawn on the panel's floor as a hollow marker, since a log axis has
no 0. Lower panel: top-1 agreement per step (filled: same greedy token, cross: different). A
dashed vertical line marks the first divergence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.errors import UserError

__all__ = ["plot_equivalence", "PLOT_SUFFIXES"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_equivalence(result, path: str | Path) -> Path:
    """Write the figure of `result` (an `EquivalenceResult`) to `path` (.png, .svg or .pdf)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {path}: must end in {', '.join(PLOT_SUFFIXES)}")
    steps = np.array([s.step for s in result.steps])
    diff = np.array([s.max_abs_logit_diff for s in result.steps])
    kl = np.array([s.kl for s in result.steps])
    top1 = np.array([s.top1 for s in result.steps])
    positive = np.concatenate([diff[diff > 0], kl[kl > 0]])
    floor = 10 ** np.floor(np.log10(positive.min())) / 10 if positive.size else 1e-12

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for values, label, color, marker in ((diff, "max |logit diff|", "tab:blue", "o"),
                                         (kl, "KL(ref || kernel), nats", "tab:orange", "s")):
        shown = np.where(values > 0, values, floor)
        ax1.plot(steps, shown, color=color, lw=1, alpha=0.6)
        nz = values > 0
        ax1.scatter(steps[nz], values[nz], color=color, marker=marker, label=label, zorder=3)
        if (~nz).any():
            ax1.scatter(steps[~nz], np.full((~nz).sum(), floor), facecolors="none", edgecolors=color,
                        marker=marker, zorder=3)
    ax1.set_yscale("log")
    ax1.set_ylabel("per step (log)")
    title = (f"{result.kernel}/{result.isa} ({result.exactness}) vs exact reference, {result.model}, "
             f"{result.mode}: {result.verdict().status}")
    ax1.set_title(title, fontsize=10)
    if result.identical:
        ax1.text(0.5, 0.5, "bitwise-identical logits at every step", transform=ax1.transAxes, ha="center")
    ax1.legend(fontsize=8, loc="best")
    ax2.scatter(steps[top1], np.ones(top1.sum()), color="tab:green", marker="o", label="same top-1")
    ax2.scatter(steps[~top1], np.zeros((~top1).sum()), color="tab:red", marker="x", label="different top-1")
    ax2.set_yticks([0, 1], ["differ", "agree"])
    ax2.set_ylim(-0.5, 1.5)
    ax2.set_xlabel("step (0: prefill's last position)")
    first = result.first_divergence
    if first is not None:
        for ax in (ax1, ax2):
            ax.axvline(first, color="tab:red", ls="--", lw=1)
        ax1.annotate(f" first divergence: step {first}", (first, 0.03), xycoords=("data", "axes fraction"),
                     fontsize=8, color="tab:red", ha="left", va="bottom")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
