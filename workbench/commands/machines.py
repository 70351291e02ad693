"""`workbench machines`: list the machine descriptions, and which one models this CPU.

Top of the flow: reads `isa_models/machines/<isa>/*.toml` through their loaders (the AVX2 timing
schema, `isa_models.core.machine`; the NPU array parameters, `isa_models.npu.params`) and prints
one row per machine: the core it stands for, clock, engine and widths (AVX2) or array shape
(NPU). The AVX2 machine whose ``[host]`` table matches this CPU is marked: native timings are
compared with that machine only (`kernels.codegen.host_machine`).
"""

from __future__ import annotations

import argparse
import json

__all__ = ["register", "run"]

ISAS = ("avx2", "npu")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("machines", help="list machine descriptions (and this CPU's)",
                       description="List the machine files per ISA: the core each AVX2 machine "
                                   "stands for, its clock, engine, dispatch width, ROB and vector "
                                   "ALU pipes; the NPU arrays' shape, encoding and clock. The AVX2 "
                                   "machine that models this CPU is marked 'host'.",
                       epilog="examples:\n  workbench machines\n  workbench machines --isa avx2 --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", help=f"only machines of this ISA ({', '.join(ISAS)})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def _avx2_rows(host_name: str | None) -> list[dict]:
    from isa_models.avx2 import vector_alu_ports
    from isa_models.core.machine import load_machine, machine_names

    rows = []
    for name in machine_names("avx2"):
        m = load_machine(name, isa="avx2")
        rows.append({"isa": "avx2", "name": name, "core": m.host.core if m.host else m.description,
                     "clock_ghz": m.clock_ghz, "engine": m.engine, "dispatch_width": m.dispatch_width,
                     "rob_size": m.rob_size, "vector_alu_pipes": list(vector_alu_ports(m)),
                     "host": name == host_name, "file": str(m.path)})
    return rows


def _npu_rows() -> list[dict]:
    import tomllib

    from isa_models.npu.params import MACHINE_DIR, load_npu_machine, npu_machine_names

    rows = []
    for name in npu_machine_names():
        p = load_npu_machine(name)                  # validates the file (one-line errors)
        description = tomllib.loads((MACHINE_DIR / f"{name}.toml").read_text()).get("description", "")
        rows.append({"isa": "npu", "name": name, "core": description, "rows": p.rows, "cols": p.cols,
                     "weight_encoding": p.weight_encoding, "clock_mhz": p.clock_mhz})
    return rows


def run(args: argparse.Namespace) -> int:
    if args.isa is not None and args.isa not in ISAS:
        raise LookupError(f"unknown ISA {args.isa!r}; valid: {', '.join(ISAS)}")
    isas = [args.isa] if args.isa else list(ISAS)
    host_name, host_line = None, None
    if "avx2" in isas:
        from kernels.codegen.build import describe_host, host_machine

        host = host_machine("avx2")
        host_name = host.name if host else None
        host_line = f"this CPU: {describe_host()}: " + (f"modelled by avx2/{host_name}" if host_name
                                                       else "no avx2 machine models it")
    rows = (_avx2_rows(host_name) if "avx2" in isas else []) + (_npu_rows() if "npu" in isas else [])
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if "avx2" in isas:
        print(f"{'avx2':<13} {'GHz':>5} {'engine':<7} {'width':>5} {'ROB':>4} {'vector ALU':<15} core")
        for r in (r for r in rows if r["isa"] == "avx2"):
            mark = "  <- host" if r["host"] else ""
            print(f"{r['name']:<13} {r['clock_ghz']:>5.2f} {r['engine']:<7} {r['dispatch_width']:>5} "
                  f"{r['rob_size']:>4} {'/'.join(r['vector_alu_pipes']):<15} {r['core']}{mark}")
        print(host_line)
    if "npu" in isas:
        if "avx2" in isas:
            print()
        print(f"{'npu':<13} {'MHz':>5} {'array':>7} {'weights':<8} description")
        for r in (r for r in rows if r["isa"] == "npu"):
            print(f"{r['name']:<13} {r['clock_mhz']:>5.0f} {str(r['rows']) + 'x' + str(r['cols']):>7} "
                  f"{r['weight_encoding']:<8} {r['core']}")
    return 0
