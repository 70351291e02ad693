"""`workbench socs`: list the SoC descriptions a projection can run on.

Top of the flow: loads every ``workbench/soc/socs/*.toml`` (or the ones named) through
`workbench.soc.load_soc`, which validates each file and the machine files it names, and prints
one block per SoC: process node, DRAM (type, rate, bus, peak and sustained bandwidth, capacity),
shared cache, each CPU cluster (machine, cores, clock, power) and each accelerator. ``--json PATH``
writes the resolved descriptions with every value's provenance.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench.commands import check_output_path

__all__ = ["register", "run", "soc_lines"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("socs", help="list SoC descriptions (clusters, DRAM, node, power)",
                       description="List the SoC descriptions (workbench/soc/socs/*.toml): process node, "
                                   "DRAM type, transfer rate, bus width, peak and sustained bandwidth and "
                                   "capacity, the shared cache, each CPU cluster (machine file, cores, clock, "
                                   "per-core power) and each accelerator (machine file, clock, power, DRAM "
                                   "share). A cluster's clock overrides its machine file's clock.",
                       epilog="examples:\n  workbench socs\n  workbench socs kirin-9000\n"
                              "  workbench socs --json socs.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="SOC", help="only these SoCs (default: all)")
    p.add_argument("--json", metavar="PATH", help="write the resolved SoCs, with sources, as JSON")
    p.set_defaults(handler=run)


def _size(nbytes: int) -> str:
    return "none" if not nbytes else f"{nbytes / 2**20:g} MiB"


def soc_lines(soc) -> list[str]:
    """The text block of one SoC."""
    d = soc.dram
    lines = [f"{soc.name}: {soc.description}",
             f"  device {soc.device}; {soc.process} ({soc.node_nm:g} nm); shared cache {_size(soc.system_cache_bytes)}; "
             f"uncore {soc.uncore_power_w:g} W",
             f"  DRAM {d.type}-{d.mt_s:g} x{d.bus_bits}: peak {d.peak_gbps:.1f} GB/s, sustained "
             f"{d.sustained_gbps:.1f} GB/s ({d.efficiency:.0%}), {d.capacity_gb:g} GB, background "
             f"{d.background_power_w:g} W"]
    for c in soc.clusters:
        boost = (f" (boost {c.boost_ghz:g} GHz, {c.boost_power_w:g} W on <= {c.boost_cores} cores)"
                 if c.boost_ghz is not None else "")
        lines.append(f"  cluster {c.name}: {c.count} x {c.isa}/{c.machine} @ {c.clock_ghz:g} GHz{boost}, "
                     f"{c.active_power_w:g} W active / {c.idle_power_w:g} W idle per core, "
                     f"DRAM {c.dram_gbps_core:g} GB/s per core")
    for a in soc.accelerators:
        lines.append(f"  accelerator {a.name}: {a.kind}/{a.machine} @ {a.clock_ghz:g} GHz, "
                     f"{a.active_power_w:g} W active / {a.idle_power_w:g} W idle, DRAM share {a.dram_gbps:g} GB/s")
    for p in soc.published:
        figure = (f"{p.tokens_per_s:g} tok/s" if p.tokens_per_s is not None else f"{p.joules_per_token:g} J/token")
        lines.append(f"  published: {p.what}: {figure}")
    return lines


def run(args: argparse.Namespace) -> int:
    from workbench.soc import load_soc, soc_names

    if args.json:
        check_output_path(args.json, flag="--json", suffixes=(".json",))
    socs = [load_soc(n) for n in (args.names or soc_names())]
    text = []
    for soc in socs:
        text += ([""] if text else []) + soc_lines(soc)
    print("\n".join(text))
    if args.json:
        Path(args.json).write_text(json.dumps([s.to_json() for s in socs], indent=2))
        print(f"wrote {args.json}")
    return 0
