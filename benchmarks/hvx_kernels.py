"""Benchmark: every HVX kernel on every HVX machine on the 2B-4T shapes, and the VLIW engine's speed.

Model-only benchmark (there is no Hexagon hardware here). For every kernel the registry holds for
the ``hvx`` ISA, every ``isa_models/machines/hvx`` machine and the four bitnet-b1.58-2B-4T
projection shapes, it times the kernel's Program with `time_program` as one decode token does
(``cold=True``: weights come from DDR; a kernel's own ``meta["placement"]``, e.g. DMA into VTCM,
is kept) and tabulates cycles, time at the machine's (assumed) clock, packets per iteration of the
hottest loop, the two busiest units, the binding bound, and the DDR roofline (bytes moved / DDR
share) with cycles over it. Second table: simulation speed, packets simulated per host second of
the VLIW engine next to the instructions stepped per second of every other ISA's engine (its
default machine and preferred kernel, 2560x2560). Writes its section of docs/benchmarks.md.

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
from workbench.reference import PROJECTIONS, get_preset

from _common import load_average, machine_facts, publish  # run as a script: benchmarks/ is on sys.path

NAME = "hvx_kernels.py"
ISA = "hvx"
MODEL = "bitnet-b1.58-2B-4T"


def shapes_of_model() -> list[tuple[int, int]]:
    config = get_preset(MODEL)
    return sorted({config.projection_shape(p) for p in PROJECTIONS})


def program_for(spec, M: int, K: int, machine_name: str):
    params = spec.resolve(**({spec.machine_param: machine_name} if spec.machine_param else {}))
    spec.check_shape(M, K, **params)
    return spec.build(M, K, **params)


def kernel_rows(shapes) -> list[dict]:
    rows = []
    for spec in registry.kernels(ISA):
        for machine_name in machine_names(ISA):
            machine = load_machine(machine_name, isa=ISA)
            for M, K in shapes:
                try:
                    program = program_for(spec, M, K, machine_name)
                except (ValueError, UserError) as exc:
                    rows.append({"kernel": spec.name, "machine": machine_name, "shape": (M, K), "skip": str(exc)})
                    continue
                t0 = time.perf_counter()
                r = time_program(program, machine, cold=True)
                wall = time.perf_counter() - t0
                util = r.extra.get("unit_utilization", {})
                busy = sorted(((v, u) for u, v in util.items() if not u.startswith("S")), reverse=True)[:2]
                roof = r.bytes_moved / machine.dram_bytes_per_cycle
                rows.append({"kernel": spec.name, "exactness": spec.exactness, "machine": machine_name,
                             "shape": (M, K), "cycles": r.cycles, "us": r.seconds * 1e6,
                             "packets": r.extra.get("packets_per_iteration"), "hot": r.extra.get("hot_loop"),
                             "busy": ", ".join(f"{u} {v:.0%}" for v, u in busy), "binding": r.binding,
                             "roofline": roof, "over_roofline": r.cycles / roof if roof else float("nan"),
                             "sim_packets": r.extra.get("simulated_packets", 0), "wall": wall})
    return rows


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
                program = program_for(spec, 2560, 2560, plugin.default_machine)
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
    lines = [f"### HVX kernels on the HVX machines, one 2B-4T token's projections, `benchmarks/{NAME}`", "",
             "Model only (no Hexagon hardware here). Each Program timed with `time_program(..., cold=True)` (a decode "
             "token: weights from DDR unless the kernel places them itself, e.g. DMA into VTCM); clock, contexts and "
             "the DDR share are assumptions of the machine files (isa_models/machines/README.md, [vliw]). Packets = "
             "packets per iteration of the hottest loop (most packets executed); busiest = the two busiest units of "
             "that loop (fraction of its cycles, one context); roofline = bytes moved / the DDR share.", ""]
    ok = [r for r in rows if "skip" not in r]
    if not ok:
        lines.append(f"No HVX kernel is registered yet (`kernels/<family>/hvx.py`): nothing to time.")
    else:
        lines += ["| kernel | machine | shape | cycles | time (us) | packets/iter | busiest units | binding bound | "
                  "DDR roofline (cycles) | cycles / roofline |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in ok:
            lines.append(f"| {r['kernel']} ({r['exactness']}) | {r['machine']} | {r['shape'][0]}x{r['shape'][1]} | "
                         f"{r['cycles']:.0f} | {r['us']:.1f} | {r['packets']} ({r['hot']}) | {r['busy']} | "
                         f"{r['binding']} | {r['roofline']:.0f} | {r['over_roofline']:.2f} |")
    for r in rows:
        if "skip" in r:
            lines.append(f"- {r['kernel']} on {r['machine']} {r['shape'][0]}x{r['shape'][1]}: not run ({r['skip']})")
    lines += ["", f"Simulation speed on this host ({info.get('model_name')}; load {load_average():.2f}): work simulated "
              "per host second of `time_program` (the VLIW engine counts packets issued in its simulated iterations; "
              "the CPU engines instructions stepped = loop bodies x simulated iterations, on 2560x2560).", "",
              "| ISA | engine | work | simulated | wall (s) | per second |", "|---|---|---|---|---|---|"]
    for s in speed:
        lines.append(f"| {s['isa']} | {s['engine']} | {s['what']} | {s['work']} | {s['wall']:.3f} | "
                     f"{s['work'] / s['wall']:.3g} |")
    lines.append("")
    lines.append(f"Shapes: {', '.join(f'{m}x{k}' for m, k in shapes)}.")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default="", help="MxK list (default: the four 2B-4T shapes)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",") if s] or shapes_of_model()
    rows = kernel_rows(shapes)
    speed = engine_speed_rows(rows)
    publish(NAME, render(rows, speed, shapes), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
