"""Benchmark: every kernel of an ISA on every machine of it, on the 2B-4T shapes, in the model.

Model-only benchmark for the ISAs this host cannot run natively (issue 11 deliverable 6 for NEON).
For each chosen ISA it times every registered kernel on every machine file of that ISA and the
four bitnet-b1.58-2B-4T projection shapes as one decode token does (`_kernel_table`: weights
streamed from DRAM) and tabulates predicted cycles, the binding bound, time at the machine clock
and the DRAM roofline (packed weight bytes / per-core DRAM bandwidth) with the ratio. One section
of docs/benchmarks.md per ISA ("kernels_model.py <isa>"). Default ISAs: every plug-in without a
native cross-check (those have a measured table of their own, e.g. benchmarks/kernels_avx2.py)
and without its own ``benchmarks/<isa>_kernels.py`` script (which builds on `_kernel_table` and
adds that engine's figures).
Usage: ``.venv/bin/python benchmarks/kernels_model.py [--isa neon[,npu]] [--shapes MxK,...] [--no-write]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from isa_models.core.machine import load_machine, machine_names
from isa_models.registry import get_isa, plugins

from _common import publish, script_path  # run as a script: benchmarks/ is on sys.path
from _kernel_table import kernel_rows, parse_shapes, render_kernel_table

NAME = "kernels_model.py"
BENCHMARKS = Path(__file__).resolve().parent


def default_isas() -> list[str]:
    """ISAs with neither a native cross-check nor a ``benchmarks/<isa>_kernels.py`` of their own."""
    return [p.name for p in plugins()
            if "native" not in p.crosschecks and not (BENCHMARKS / f"{p.name}_kernels.py").is_file()]


def section(isa: str, shapes, *, kernels=None, machines=None) -> str:
    """The Markdown section of `isa`: every kernel x machine x shape (or the `kernels` and
    `machines` named)."""
    plugin = get_isa(isa)
    names = list(machines or machine_names(isa))
    rows = kernel_rows(isa, shapes, kernels=kernels, machines=names)
    intro = (f"Model only ({plugin.description}; no such hardware here). Each kernel's Program is timed with "
             "`time_program(..., cold=True)` (one decode token: the weights are streamed from DRAM). Cycles = "
             "predicted cycles of one projection on one core; compute cycles = the engine's figure before the "
             "memory bound; binding bound = the loop and bound that set the cycles; DRAM roofline = packed "
             "weight bytes / the machine's per-core DRAM bandwidth (`[memory] dram_gbps_core`), in cycles at its "
             "clock; cycles / roofline near 1 means the kernel streams its weights at the DRAM rate.")
    return render_kernel_table(rows, title=f"### {isa} kernels on every {isa} machine, 2B-4T shapes, "
                                           f"`{script_path(__file__)}`",
                               intro=intro, machines=[load_machine(n, isa=isa) for n in names], shapes=shapes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isa", default="", help="comma-separated ISAs (default: " + ", ".join(default_isas()) + ")")
    ap.add_argument("--shapes", default="", help="MxK list (default: the four 2B-4T shapes)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    isas = [s for s in args.isa.split(",") if s] or default_isas()
    for isa in isas:
        get_isa(isa)                                  # an unknown ISA: UnknownNameError naming the valid ones
    shapes = parse_shapes(args.shapes)
    for isa in isas:
        publish(f"{NAME} {isa}", section(isa, shapes), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
