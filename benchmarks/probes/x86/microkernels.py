"""Instruction-mix microkernels on this host: measured cycles next to the model of its core.

Benchmark layer, host probe of x86 (DESIGN.md §5, research/isa.md §1). The microkernels of
`zen4_calibration.py` beside it (independent register chains through a fixed sequence of
instruction classes, built as AVX2 Programs, compiled by clang and timed natively; slope between
two outer trip counts, median over batches) run on whatever core this is, against the machine
whose ``[host]`` table matches it (`kernels.codegen.host_machine`): the table shows, class mix by
class mix, where that machine file's latencies and ports hold on silicon. Nothing is fitted
here (zen4_calibration.py fits zen4.toml's issue cap on a Zen 4 host). Writes
microkernels_<machine>.json beside this script and the "microkernels.py <machine>" section of
docs/benchmarks.md.
Usage: ``python benchmarks/probes/x86/microkernels.py [--repeats 11] [--only TEXT] [--no-write]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[2]) not in sys.path:      # run as a script: _common is in benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import zen4_calibration as mk  # noqa: E402  (its sibling: this script's directory is on sys.path)
from _common import host_machine_or_refuse, load_average, machine_note, publish, script_path  # noqa: E402

from isa_models.avx2 import vector_alu_ports  # noqa: E402

NAME = "microkernels.py"
HERE = Path(__file__).resolve().parent


def data_path(machine_name: str) -> Path:
    """The JSON this script writes for `machine_name`: microkernels_<machine>.json beside it."""
    return HERE / f"microkernels_{machine_name}.json"


def vector_alu_uops(mix, machine) -> int:
    """Micro-ops per iteration on the vector ALU pipes (`isa_models.avx2.vector_alu_ports`)."""
    pipes = set(vector_alu_ports(machine))
    return sum(count * sum(1 for ports in machine.timing(mk.OPS[op][0]).ports if set(ports) <= pipes)
               for op, count in mix.per_iteration().items())


def run(machine, *, repeats: int, only: str | None) -> dict:
    from kernels.codegen import machine_info

    rows = []
    for mix in (m for m in mk.MIXES if not only or only in m.name):
        meas = mk.measure_native(mix, repeats=repeats)
        model = mk.model_cycles(mix, machine)
        row = {"name": mix.name, "group": mix.group, "chains": mix.chains,
               "vector_alu_uops": vector_alu_uops(mix, machine),
               "measured": round(meas["cycles_per_iteration"], 3), "spread": round(meas["spread"], 4),
               "model": round(model, 3), "asm_extras": mk.asm_extras(mix)}
        row["error"] = round(model / row["measured"] - 1, 4)
        rows.append(row)
        print(f"{mix.name:55s} measured {row['measured']:7.2f}  model {row['model']:7.2f} "
              f"({row['error']:+.1%})", flush=True)
    return {"machine": machine_info(), "model_machine": machine.name, "date": datetime.date.today().isoformat(),
            "compiler": mk.COMPILER, "rows": rows}


def render(result: dict, machine, load: float) -> str:
    rows = result["rows"]
    mae = sum(abs(r["error"]) for r in rows) / len(rows)
    within = sum(1 for r in rows if abs(r["error"]) <= 0.10)
    worst = sorted(rows, key=lambda r: -abs(r["error"]))[:5]
    pipes = "/".join(vector_alu_ports(machine))
    largest = ", ".join(f"{r['name']} ({r['error']:+.1%})" for r in worst)
    out = [f"## Microkernels on {machine.host.core}: measured vs {machine.name} model (`{script_path(__file__)}`)", "",
           f"Host: {machine_note()}; {result['machine']['vendor']}, family {result['machine']['family']}, "
           f"model {result['machine']['model']}; run {result['date']}, load average {load:.1f} at the end. "
           f"The microkernels of `{script_path(mk.__file__)}` (12 independent register chains, one "
           f"instruction of each listed class per chain per iteration, L1-resident memory operands; "
           f"{result['compiler']} -O2 from the Program's emitted C; median over batches of the slope "
           f"between two outer trip counts, TSC converted per batch). Model: "
           f"`isa_models/machines/avx2/{machine.name}.toml` unchanged (nothing fitted). Data: "
           f"`{script_path(data_path(machine.name))}`.", "",
           f"| microkernel | group | vector ALU uops/it ({pipes}) | measured c/it | model c/it | error | "
           "uops/cycle (meas) | spread | extra asm |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['name']} | {r['group']} | {r['vector_alu_uops']} | {r['measured']:.2f} | "
                   f"{r['model']:.2f} | {r['error']:+.1%} | {r['vector_alu_uops'] / r['measured']:.2f} | "
                   f"{r['spread']:.1%} | {r['asm_extras']} |")
    out += ["", f"Mean absolute error **{mae:.1%}** over {len(rows)} microkernels; {within} within 10%; "
            f"largest: {largest}. 'extra asm' counts "
            "compiled vector instructions beyond the Program's (0: the loop is exactly the Program)."]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=11, help="timed calls per batch (median)")
    ap.add_argument("--only", help="only microkernels whose name contains this text (nothing written)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    machine, code = host_machine_or_refuse("microkernels")
    if machine is None:
        return code
    result = run(machine, repeats=args.repeats, only=args.only)
    text = render(result, machine, load_average())
    write = not (args.only or args.no_write)
    if write:
        data_path(machine.name).write_text(json.dumps(result, indent=1) + "\n")
    publish(f"{NAME} {machine.name}", text, write=write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
