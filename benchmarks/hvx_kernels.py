"""Benchmark: every HVX kernel on every HVX machine on the 2B-4T shapes, and the VLIW engine's speed.

Model-only benchmark (there is no Hexagon hardware here). The kernel table is `_kernel_table`'s
(every kernel the registry holds for the ``hvx`` ISA x every ``isa_models/machines/hvx`` machine x
the four bitnet-b1.58-2B-4T projection shapes, timed with `time_program(..., cold=True)` as one
decode token does; a kernel's own ``meta["placement"]``, e.g. DMA into VTCM, is kept; cycles, time
at the machine's clock, binding bound, DRAM roofline = packed weight bytes / DDR share) with the
VLIW engine's own columns: packets per iteration of the hottest loop and the two busiest units.
Second table: simulation speed, packets simulated per host second of the VLIW engine next to the
instructions stepped per second of every other ISA's engine (its default machine and preferred
kernel, 2560x2560). Writes its section of docs/benchmarks.md.

Usage: ``.venv/bin/python benchmarks/hvx_kernels.py [--shapes 2560x2560,...] [--no-write]``
"""

from __future__ import annotations

import argparse
import sys
import time

from isa_models.core.machine import load_machine, machine_names
from isa_models.core.timing import time_program
from isa_models.registry import plugins
from kernels import registry
from workbench.errors import UserError

from _common import load_average, machine_facts, publish, script_path  # run as a script: benchmarks/ is on sys.path
from _kernel_table import kernel_rows, parse_shapes, program_for, render_kernel_table

NAME = "hvx_kernels.py"
ISA = "hvx"


def vliw_figures(result) -> dict:
    """The VLIW engine's own figures of one timing: packets per iteration of the hottest loop (and
    its name), the two busiest non-scalar units of that loop, packets simulated."""
    util = result.extra.get("unit_utilization", {})
    busy = sorted(((v, u) for u, v in util.items() if not u.startswith("S")), reverse=True)[:2]
    return {"packets": result.extra.get("packets_per_iteration"), "hot": result.extra.get("hot_loop"),
            "busy": ", ".join(f"{u} {v:.0%}" for v, u in busy),
            "sim_packets": result.extra.get("simulated_packets", 0)}


def engine_speed_rows(vliw_rows: list[dict]) -> list[dict]:
    """Simulated work per host second: the VLIW engine (packets) and every other ISA's engine
    (instructions stepped = loop bodies x simulated iterations)."""
    out = []
    timed = [r for r in vliw_rows if "skip" not in r and r["wall"] > 0]
    if timed:
        packets, wall = sum(r["sim_packets"] for r in timed), sum(r["wall"] for r in timed)
        out.append({"isa": ISA, "engine": "vliw", "what": "packets", "work": packets, "wall": wall,
                    "runs": len(timed)})
    for plugin in plugins():
        if plugin.name == ISA:
            continue
        machine = load_machine(plugin.default_machine, isa=plugin.name)
        specs = [registry.get(n, plugin.name) for n in plugin.kernel_preference] or registry.kernels(plugin.name)
        for spec in specs:
            try:
                program, _ = program_for(spec, 2560, 2560, plugin.default_machine)
            except (ValueError, UserError):
                continue
            t0 = time.perf_counter()
            r = time_program(program, machine)
            wall = time.perf_counter() - t0
            stepped = sum(lr.n_instructions * max(lr.simulated_iterations, 1) for lr in r.loops if lr.n_instructions)
            out.append({"isa": plugin.name, "engine": machine.engine, "what": f"instructions ({spec.name})",
                        "work": stepped, "wall": wall, "runs": 1})
            break
    return out


def render(rows: list[dict], speed: list[dict], shapes) -> str:
    info = machine_facts()
    intro = ("Model only (no Hexagon hardware here). Each Program timed with `time_program(..., cold=True)` (a decode "
             "token: weights from DDR unless the kernel places them itself, e.g. DMA into VTCM); clock, contexts and "
             "the DDR share are assumptions of the machine files (isa_models/machines/README.md, [vliw]). Packets/iter "
             "= packets per iteration of the hottest loop (most packets executed; its name in brackets); busiest = "
             "the two busiest HVX units of that loop (fraction of its cycles, one context); DRAM roofline = packed "
             "weight bytes / the machine's DDR share (`[memory] dram_gbps_core`), in cycles at its clock.")
    columns = (("packets/iter", lambda r: f"{r['packets']} ({r['hot']})"), ("busiest units", lambda r: r["busy"]))
    text = render_kernel_table(rows, title=f"### HVX kernels on the HVX machines, one 2B-4T token's projections, "
                                           f"`{script_path(__file__)}`",
                               intro=intro, machines=[load_machine(n, isa=ISA) for n in machine_names(ISA)],
                               shapes=shapes, columns=columns)
    lines = [text, "", f"Simulation speed on this host ({info.get('model_name')}; load {load_average():.2f}): work "
             "simulated per host second of `time_program` (the VLIW engine counts packets issued in its simulated "
             "iterations, summed over every row above; the CPU engines instructions stepped = loop bodies x "
             "simulated iterations, their default machine and preferred kernel on 2560x2560).", "",
             "| ISA | engine | work | simulated | wall (s) | per second |", "|---|---|---|---|---|---|"]
    for s in speed:
        lines.append(f"| {s['isa']} | {s['engine']} | {s['what']} | {s['work']} | {s['wall']:.3f} | "
                     f"{s['work'] / s['wall']:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="", help="MxK list (default: the four 2B-4T shapes)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    shapes = parse_shapes(args.shapes)
    rows = kernel_rows(ISA, shapes, extra=vliw_figures)
    speed = engine_speed_rows(rows)
    publish(NAME, render(rows, speed, shapes), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
