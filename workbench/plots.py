"""Plots of a whole-token simulate run: per-projection cycle breakdown and the tokens/s roofline.

Top of the flow (DESIGN.md §6), matplotlib with the non-interactive Agg backend. Left panel: the
kernel cycles of one token split by projection (q, k, v, o, gate, up, down summed over layers).
Right panel: tokens/s against cores 1..N: the compute line (kernel time / n), the DRAM roofline
(weight bytes per token at the bandwidth of n cores) and the projection (the lower of the two).
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import UserError

__all__ = ["plot_token", "PLOT_SUFFIXES"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_token(run, path: str | Path) -> Path:
    """Write the breakdown + roofline figure of a whole-token `run` to `path` (PNG or SVG)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if run.token is None:
        raise UserError("--plot: needs a whole-token run (simulate without --layer)")
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {path}: must end in {', '.join(PLOT_SUFFIXES)}")
    tok = run.token
    cfg = run.config
    by_proj: dict[str, float] = {}
    for p in run.projections:
        by_proj[p.proj] = by_proj.get(p.proj, 0.0) + p.timing.cycles
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(by_proj)
    ms = [by_proj[n] / (cfg["machine"]["clock_ghz"] * 1e9) * 1e3 for n in names]
    ax1.bar(names, ms, color="tab:blue")
    ax1.set_ylabel("ms per token (1 core)")
    ax1.set_title(f"{cfg['kernel'].get('name')} on {cfg['machine']['name']}: kernel time by projection")
    cores = list(range(1, tok.cores + 1))
    ax2.plot(cores, [tok.compute_tokens_per_s(n) for n in cores], "o--", label="compute (kernel time / n)")
    ax2.plot(cores, [tok.roofline_tokens_per_s(n) for n in cores], "s--",
             label=f"DRAM roofline ({tok.weight_bytes / 1e6:.0f} MB/token)")
    ax2.plot(cores, [tok.tokens_per_s(n) for n in cores], "k^-", label="projection (min)")
    ax2.set_xlabel("cores")
    ax2.set_ylabel("tokens/s")
    ax2.set_xticks(cores)
    ax2.set_title(f"{cfg['model']['name']}: tokens/s vs cores")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
