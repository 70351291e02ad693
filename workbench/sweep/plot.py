"""The Pareto plot of a sweep: every point on the two objectives, the front drawn and labelled.

Sweep layer (`workbench.sweep`), matplotlib with the non-interactive Agg backend. Points that
verified (or were projected) are circles, lossy kernels triangles, failed kernels red crosses
(never on the front); unsupported points have no numbers and are left out, counted in the title.
The front (`pareto.pareto_front`) is a step line through its points, each labelled with
`pareto.point_label`. An axis spanning more than two decades is drawn on a log scale.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import UserError
from workbench.plots import PLOT_SUFFIXES
from workbench.sweep.pareto import _number, pareto_front, point_label

__all__ = ["plot_pareto", "PLOT_SUFFIXES", "MAX_LABELS"]

#: front points labelled at most (the rest of the front is drawn unlabelled)
MAX_LABELS = 12

_STYLES = {"VERIFIED": dict(marker="o", color="tab:blue", label="verified"),
           "PROJECTED": dict(marker="o", color="tab:blue", label="projected"),
           "LOSSY": dict(marker="^", color="tab:orange", label="lossy (error measured)"),
           "FAILED": dict(marker="x", color="tab:red", label="FAILED (wrong result)")}


def _direction_word(direction: str) -> str:
    return "lower is better" if direction == "min" else "higher is better"


def plot_pareto(rows: list[dict], objectives, directions, path, *, title: str = "sweep") -> Path:
    """Write the Pareto scatter of `rows` on `objectives` (x, y) to `path` (PNG, SVG or PDF)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {path}: must end in {', '.join(PLOT_SUFFIXES)}")
    xo, yo = objectives
    fig, ax = plt.subplots(figsize=(9, 6))
    plotted = 0
    for verdict, style in _STYLES.items():
        pts = [(_number(r.get(xo)), _number(r.get(yo))) for r in rows if r.get("verdict") == verdict]
        pts = [(x, y) for x, y in pts if x is not None and y is not None]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=28, alpha=0.75, zorder=2, **style)
            plotted += len(pts)
    front = pareto_front(rows, objectives, directions)
    if front:
        fx = [float(rows[i][xo]) for i in front]
        fy = [float(rows[i][yo]) for i in front]
        ax.step(fx, fy, where="post", color="black", linewidth=1.2, zorder=3, label=f"Pareto front ({len(front)})")
        ax.scatter(fx, fy, s=70, facecolors="none", edgecolors="black", zorder=4)
        groups: dict = {}                     # points at the same place share one label
        for k, i in enumerate(front):
            groups.setdefault((fx[k], fy[k]), []).append(i)
        for n, ((x, y), members) in enumerate(list(groups.items())[:MAX_LABELS]):
            text = point_label(rows[members[0]]) + (f" (+{len(members) - 1} tied)" if len(members) > 1 else "")
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(6, 6 + 11 * (n % 3)), fontsize=7,
                        zorder=5)
    for axis, name in ((ax.xaxis, xo), (ax.yaxis, yo)):
        vals = [v for v in (_number(r.get(name)) for r in rows) if v is not None and v > 0]
        if vals and max(vals) / min(vals) > 100:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
    ax.set_xlabel(f"{xo} ({_direction_word(directions[0])})")
    ax.set_ylabel(f"{yo} ({_direction_word(directions[1])})")
    left_out = sum(1 for r in rows if r.get("verdict") == "UNSUPPORTED")
    ax.set_title(f"{title}: {plotted} points" + (f", {left_out} unsupported left out" if left_out else ""))
    ax.grid(True, alpha=0.3, zorder=0)
    if plotted:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
