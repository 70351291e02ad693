"""`workbench machines`: list the machine descriptions of every ISA, and which one models this CPU.

Top of the flow: for each ISA plug-in (`isa_models.registry`) it loads every machine file through
the one loader and prints one row per machine: its name, clock, engine kind, cores, the figures
its engine section summarises (issue width, window and ports; or array shape and encoding), the
plug-in's own figures, and the core it stands for. The machine whose ``[host]`` table matches this
CPU is marked: native timings are compared with that machine only (`kernels.codegen.host_machine`).
"""

from __future__ import annotations

import argparse
import json

from workbench.commands import isa_name
from isa_models.registry import get_isa, isa_names, plugins

__all__ = ["register", "run", "machine_rows"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("machines", help="list machine descriptions (and this CPU's)",
                       description="List the machine files per ISA: clock, engine kind, cores, the "
                                   "engine section's figures (issue width, window, ports; or the MAC "
                                   "array's shape and encoding), the ISA extensions each core has and "
                                   "the core it stands for. The machine that models this CPU is "
                                   "marked 'host'.",
                       epilog="examples:\n  workbench machines\n  workbench machines --isa ISA --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", type=isa_name, metavar="ISA",
                   help=f"only machines of this ISA ({', '.join(isa_names())})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def machine_rows(plugin, host_name: str | None) -> list[dict]:
    """One dict per machine file of `plugin`: common figures, section summary, plug-in figures."""
    rows = []
    for name in plugin.machine_names():
        m = plugin.load_machine(name)                 # validates the file (one-line errors)
        row = {"isa": plugin.name, "name": name, "clock_ghz": m.clock_ghz, "engine": m.engine,
               "cores": m.cores, **m.section.summary(),
               **(plugin.describe_machine(m) if plugin.describe_machine else {}),
               "extensions": list(m.extensions),
               "core": m.host.core if m.host else m.description,
               "host": name == host_name, "file": str(m.path)}
        rows.append(row)
    return rows


def _table(rows: list[dict], isa: str) -> list[str]:
    """Aligned text rows: fixed common columns, then whatever the section and plug-in report."""
    fixed = ("isa", "name", "clock_ghz", "engine", "cores", "extensions", "core", "host", "file")
    extra = [k for k in rows[0] if k not in fixed] if rows else []
    head = [isa, "GHz", "engine", "cores", *extra, "core"]
    body = [[r["name"], f"{r['clock_ghz']:.2f}", r["engine"], str(r["cores"]), *(str(r[k]) for k in extra),
             r["core"] + ("  <- host" if r["host"] else "")] for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    fmt = lambda cells: " ".join(str(c).ljust(w) for c, w in zip(cells[:-1], widths)) + " " + cells[-1]  # noqa: E731
    return [fmt(head).rstrip()] + [fmt(b) for b in body]


def run(args: argparse.Namespace) -> int:
    from kernels.codegen.host import describe_host, host_machine

    chosen = [get_isa(args.isa)] if args.isa else plugins()
    rows, lines = [], []
    for plugin in chosen:
        host = host_machine(plugin.name)
        isa_rows = machine_rows(plugin, host.name if host else None)
        rows += isa_rows
        if lines:
            lines.append("")
        lines += _table(isa_rows, plugin.name)
        if plugin.codegen_target is not None:
            lines.append(f"this CPU: {describe_host()}: " + (f"modelled by {plugin.name}/{host.name}" if host
                                                             else f"no {plugin.name} machine models it"))
    print(json.dumps(rows, indent=2) if args.json else "\n".join(lines))
    return 0
