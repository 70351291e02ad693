"""Published BitNet figures reproduced by the SoC projection from machine facts alone.

Every `[[published]]` figure of every SoC file (`workbench/soc/socs/*.toml`: bitnet.cpp's 2B-4T
decode and prefill on EPYC 7V13 and i7-13800H, its 700M/100B decode and J/token on i7-13700H,
T-MAC's BitNet-3B on Raspberry Pi 5 and Surface Laptop 7, T-MAN's 2B-4T on Snapdragon 8 Gen 3) is
run through `workbench.projection.project` with the figure's own model, engine, threads, kernel,
context and weight format, and the ratio projection / published is written to docs/benchmarks.md
with the binding bound and the op class that takes the most time. Nothing in the SoC, machine or
energy files is fitted to these figures (their sources say where each value comes from).
Usage: ``python benchmarks/published_figures.py [--soc NAME ...] [--no-write]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import load_average, machine_note, publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name
#: a ratio within this band reproduces the figure (the issue's goal: within 25%)
BAND = 0.25


def figure_rows(socs: list[str]) -> list[dict]:
    """One row per published figure: the figure, the projection's value, ratio, bound, top class."""
    from workbench.projection import project
    from workbench.soc import load_soc

    rows = []
    for name in socs:
        soc = load_soc(name)
        for fig in soc.published:
            t0 = time.perf_counter()
            r = project(soc=soc, model=fig.model, engine=fig.engine, threads=fig.threads, kernel=fig.kernel,
                        context=fig.context, weight_format=fig.weight_format,
                        prompt_tokens=128 if fig.phase == "prefill" else None)
            if fig.joules_per_token is not None:
                metric, published, ours = "J/token", fig.joules_per_token, r.energy.joules
                extra = f"range {r.energy.low:.3g}-{r.energy.high:.3g}"
            elif fig.phase == "prefill":
                metric, published, ours = "prefill tok/s", fig.tokens_per_s, r.prefill_tokens_per_s
                extra = f"TTFT {r.ttft_s * 1e3:.0f} ms for {r.prompt_tokens} tokens"
            else:
                metric, published, ours = "decode tok/s", fig.tokens_per_s, r.decode_tokens_per_s
                extra = f"{r.dram_bytes_per_token / 1e6:.0f} MB DRAM/token"
            phase = "prefill" if fig.phase == "prefill" else "decode"
            classes = r.by_class(phase=phase)
            top = max(classes, key=lambda c: classes[c]["seconds"]) if classes else "-"
            share = classes[top]["seconds"] / sum(c["seconds"] for c in classes.values()) if classes else 0.0
            rows.append({"soc": name, "what": fig.what, "model": fig.model, "threads": fig.threads,
                         "engine": fig.engine, "kernel": _kernel_name(r.config.get("kernel"), fig.kernel),
                         "weights": fig.weight_format or "ternary", "metric": metric, "published": published,
                         "ours": ours, "ratio": ours / published,
                         "bound": r.bound if phase == "decode" else f"{top}: {classes[top]['bound']}",
                         "top": f"{top} {share:.0%}",
                         "extra": extra, "source": fig.source, "wall_s": time.perf_counter() - t0})
            print(f"{NAME}: {name}: {fig.what}: {ours:.4g} vs {published:.4g} ({ours / published:.2f})",
                  file=sys.stderr)
    return rows


def _kernel_name(resolved, named: str | None) -> str:
    if isinstance(resolved, dict):
        return str(resolved.get("name", named or "-"))
    return str(resolved or named or "-")


def render(rows: list[dict], *, load_before: float, load_after: float) -> str:
    inside = sum(abs(r["ratio"] - 1) <= BAND for r in rows)
    lines = [f"## Published figures reproduced by the SoC projection (`benchmarks/{NAME}`)", "",
             f"Machine: {machine_note()}; load average {load_before:.1f} before, {load_after:.1f} after "
             "(the projection is a model: load changes only the wall time).",
             "Each row is a `[[published]]` figure of a SoC file run through `workbench project` with the "
             "figure's model, engine, threads, kernel and context (`workbench/soc/socs/*.toml` give each "
             "value's source and which are assumptions). Ratio = projection / published; nothing was fitted "
             f"to these figures. **{inside} of {len(rows)} within {BAND:.0%}.**", "",
             "| SoC | figure | threads | kernel | weights | metric | published | projection | ratio | "
             "bound | top op class | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        flag = "" if abs(r["ratio"] - 1) <= BAND else " **(outside 25%)**"
        lines.append(f"| {r['soc']} | {r['what']} | {r['threads']} | {r['kernel']} | {r['weights']} | "
                     f"{r['metric']} | {r['published']:.4g} | {r['ours']:.4g} | {r['ratio']:.2f}{flag} | "
                     f"{r['bound']} | {r['top']} | {r['extra']} |")
    lines += ["", "Sources of the published figures:", ""]
    lines += [f"- {r['soc']}, {r['what']}: {r['source']}" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soc", action="append", help="only these SoCs (default: every SoC file)")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md")
    args = parser.parse_args()
    from workbench.soc import soc_names

    socs = args.soc or [n for n in soc_names()]
    before = load_average()
    rows = figure_rows(socs)
    text = render(rows, load_before=before, load_after=load_average())
    if args.no_write:
        print(text)
    else:
        publish(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
