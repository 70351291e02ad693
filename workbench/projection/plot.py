"""Plot of a `Projection`: a roofline with every op class placed, and the time/energy breakdown.

Top of the projection (`workbench.projection`), matplotlib with the Agg backend. Left: arithmetic
intensity (operations per DRAM byte) against attained operations per second, each op class of a
decode token one point, under the roofs of the units that ran it (the DRAM roof at the shared
bandwidth and one horizontal roof per work kind: int8 MACs, fp32 multiply-adds, over the cores
used). Right: each class's share of the token's time and of its energy.
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import UserError

__all__ = ["plot_projection", "PLOT_SUFFIXES", "roofline_points"]

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def roofline_points(r) -> list[dict]:
    """One point per op class of the decode token: arithmetic intensity (ops per DRAM byte; ops
    per on-chip byte for classes that read no DRAM) and attained ops/s."""
    out = []
    for cls, v in r.by_class().items():
        if not v["ops"] or not v["seconds"]:
            continue
        denom = v["dram_bytes"] or v["onchip_bytes"]
        if not denom:
            continue
        out.append({"cls": cls, "intensity": v["ops"] / denom, "ops_per_s": v["ops"] / v["seconds"],
                    "dram": bool(v["dram_bytes"]), "bound_kind": v["bound_kind"]})
    return out


def _roofs(r) -> tuple[float, dict]:
    """(shared DRAM GB/s, {label: ops/s}) of the units the decode token used."""
    c = r.config
    units = list(c["cpu_units"]) + ([c["accelerator"]] if c.get("accelerator") else [])
    bw = min(sum(u["dram_gbps"] * u["count"] for u in c["cpu_units"]), c["soc"]["dram"]["sustained_gbps"])
    roofs = {}
    for u in units:
        for kind in ("int8_mac", "fp32_fma"):
            rate = u["rates"].get(kind)
            if rate:
                label = f"{kind} {u['machine']}" + (f" x{u['count']}" if u["count"] > 1 else "")
                roofs[label] = rate["ops_per_s"] * u["count"]
    return bw, roofs


def plot_projection(r, path: str | Path) -> Path:
    """Write the roofline + breakdown figure of projection `r` to `path` (PNG, SVG or PDF)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {path}: must end in {', '.join(PLOT_SUFFIXES)}")
    points = roofline_points(r)
    bw, roofs = _roofs(r)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    xs = [p["intensity"] for p in points] or [1.0]
    lo, hi = min(xs + [0.01]) / 3, max(xs + [100.0]) * 3
    top = max(list(roofs.values()) + [p["ops_per_s"] for p in points] + [bw * 1e9 * hi])
    grid = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    ax1.plot(grid, [min(bw * 1e9 * x, top) for x in grid], "k-", label=f"DRAM {bw:.1f} GB/s")
    for (label, rate), style in zip(sorted(roofs.items(), key=lambda kv: -kv[1]), ("--", ":", "-.", "--", ":")):
        ax1.plot(grid, [min(bw * 1e9 * x, rate) for x in grid], style, label=f"{label}: {rate / 1e9:.0f} GOP/s")
    for p in points:
        ax1.scatter([p["intensity"]], [p["ops_per_s"]], marker="o" if p["dram"] else "s", zorder=3)
        ax1.annotate(p["cls"], (p["intensity"], p["ops_per_s"]), fontsize=8, xytext=(4, 3), textcoords="offset points")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("operations per DRAM byte (squares: per on-chip byte)")
    ax1.set_ylabel("attained operations/s")
    ax1.set_title(f"{r.config['model']['name']} on {r.config['soc']['name']} ({r.config['engine']}): roofline")
    ax1.legend(fontsize=7, loc="lower right")
    classes = r.by_class()
    names = list(classes)
    time_share = [100 * classes[n]["share"] for n in names]
    joules = sum(classes[n]["joules"] for n in names) or 1.0
    energy_share = [100 * classes[n]["joules"] / joules for n in names]
    ys = range(len(names))
    ax2.barh([y + 0.2 for y in ys], time_share, height=0.4, label=f"time ({r.decode_seconds * 1e3:.1f} ms/token)")
    ax2.barh([y - 0.2 for y in ys], energy_share, height=0.4, label=f"energy ({r.energy.joules:.3f} J/token)")
    ax2.set_yticks(list(ys))
    ax2.set_yticklabels(names)
    ax2.invert_yaxis()
    ax2.set_xlabel("% of one decode token")
    ax2.set_title(f"{r.decode_tokens_per_s:.1f} tok/s, TTFT {r.ttft_s:.2f} s: time and energy by op class")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
