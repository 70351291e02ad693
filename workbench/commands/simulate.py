"""`workbench simulate`: check a kernel bit-exactly over a model's layer (or whole token) and time
it on a machine, for any registered ISA.

Top of the flow: argument parsing and dispatch only. `--isa` is checked first (argparse
``choices`` from `isa_models.registry`); every other name and option is checked by
`workbench.flow.plan` (machine, kernel and model first, then the rest) and the output paths
before any work starts; `workbench.flow.execute` does the work and `workbench.report` renders it.
`--native`, `--qemu` and `--rtl` are spellings of `--crosscheck native` / `emulator` / `rtl`.
"""

from __future__ import annotations

import argparse

from isa_models.core.views import VIEWS
from isa_models.registry import plugins, isa_names
from workbench.commands import check_output_path, isa_name, nonnegative_int, parse_params, positive_int
from workbench.errors import UserError

__all__ = ["register", "run", "parse_views", "parse_crosschecks"]

#: ``--views`` alone: every view the machine's engine renders (`workbench.flow.engine_views`)
ALL_VIEWS = "all"


def _examples() -> str:
    """Usage examples derived from the registered ISAs (their default run, a layer run with every
    view and JSON, a whole-token plot, one run per cross-check they declare)."""
    lines = ["examples:"]
    for k, plugin in enumerate(plugins()):
        base = f"  workbench simulate --isa {plugin.name}"
        lines.append(base)
        if k == 0:
            lines += [f"{base} --model tiny --layer 1 --views --json out.json",
                      f"{base} --plot token.png --out results/"]
        for check in plugin.crosschecks:
            flag = {"native": " --machine host --native", "rtl": " --rtl",
                    "emulator": " --qemu"}.get(check, f" --crosscheck {check}")
            lines.append(f"{base} --model tiny --layer 0{flag}")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="check a kernel bit-exactly over a model and time it on a machine",
        description="For each projection of a layer (or, without --layer, of the whole token): build "
                    "the kernel's Program for the projection's shape, run it functionally on the "
                    "layer's weights and the reference forward pass's int8 activations, compare every "
                    "int32 accumulator with the reference (VERIFIED / FAILED with the first mismatch), "
                    "time it on the machine model and print cycles, time at the clock, GOP/s, bytes "
                    "moved and the binding bound. A whole-token run adds time per token and tokens/s "
                    "for 1..N cores against the DRAM roofline. Only --isa is required: the machine "
                    "defaults to the one modelling this CPU (else the ISA's default machine), the "
                    "kernel to the ISA's fastest exact kernel that machine runs, the model to "
                    "bitnet-b1.58-2B-4T; the report's first lines say which defaults were taken. "
                    "Columns: docs/reports.md.",
        epilog=_examples(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", required=True, type=isa_name, metavar="ISA",
                   help=f"ISA of the kernel and machine: {', '.join(isa_names())}")
    p.add_argument("--machine", default=None,
                   help="machine name (isa_models/machines/<isa>/<name>.toml), path to a machine TOML, or "
                        "'host': the machine modelling this CPU (default: that machine when one exists, "
                        "else the ISA's default machine; see `workbench machines`)")
    p.add_argument("--kernel", default=None,
                   help="registered kernel name (default: the ISA's fastest exact kernel the machine runs; "
                        "see `workbench kernels`)")
    p.add_argument("--model", default=None, metavar="PRESET",
                   help="model preset (see `workbench models`; default: bitnet-b1.58-2B-4T)")
    p.add_argument("--layer", type=nonnegative_int, help="one decoder layer; omit for the whole token")
    p.add_argument("--views", nargs="?", const=ALL_VIEWS, default=None, metavar="LIST",
                   help=f"print the per-shape views: a comma-separated list of {', '.join(VIEWS)}, those the "
                        "machine's engine renders (units and packets: engines that issue packets), or 'all' "
                        "(--views alone: all of those; default: none)")
    p.add_argument("--activations", choices=("trace", "gaussian"), default="trace",
                   help="activation rows: the reference forward pass's q for one decode step (default) "
                        "or seeded Gaussian rows quantized with workbench.quant")
    p.add_argument("--token-id", type=nonnegative_int, default=None,
                   help="token fed to the reference forward pass for --activations trace (default: BOS)")
    p.add_argument("--cold", action="store_true",
                   help="time with the working set streamed from DRAM (a decode step) instead of the "
                        "smallest cache level holding it")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel build parameter (tile size), repeatable; the kernel refuses unknown keys")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the random weights (and Gaussian activations) (default: 0)")
    p.add_argument("--json", metavar="FILE", help="write results + resolved configuration as JSON")
    p.add_argument("--out", metavar="DIR", help="write simulate.json, config.json and report.txt here")
    p.add_argument("--plot", metavar="FILE", help="whole-token run: breakdown + roofline plot (PNG/SVG/PDF)")
    p.add_argument("--workers", type=positive_int, default=2,
                   help="worker processes for the functional checks (default: 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--crosscheck", default=None, metavar="NAME[,NAME]",
                   help="cross-check each unique shape's Program another way and compare with the "
                        "functional run: native (compiled and timed on this CPU), emulator (a standalone "
                        "executable under the target's emulator, natively when this host runs it), rtl "
                        "(co-simulation with the RTL); only those of the ISA apply")
    p.add_argument("--native", action="store_true",
                   help="= --crosscheck native: compile each shape's Program, run it on this CPU (outputs "
                        "compared with the functional run) and print measured cycles beside the model's; "
                        "the machine must be the one modelling this CPU (the default, or --machine host)")
    p.add_argument("--qemu", action="store_true",
                   help="= --crosscheck emulator: build each shape's Program as a standalone executable, run "
                        "it under the target's emulator (QEMU user mode; natively when this host runs it) "
                        "and compare its outputs with the functional run; the emulated run time is "
                        "reported as wall time, never as cycles")
    p.add_argument("--rtl", action="store_true",
                   help="= --crosscheck rtl: co-simulate each shape's command stream with the RTL")
    p.add_argument("--simulator", choices=("icarus", "verilator"), default=None,
                   help="--rtl only: the cocotb simulator (default: icarus)")
    p.set_defaults(handler=run)
    _check_isa_first(p)


def _check_isa_first(parser: argparse.ArgumentParser) -> None:
    """Make `parser` check ``--isa`` before any other argument, wherever it stands on the line:
    an unknown ISA is the first error (argparse converts arguments left to right)."""
    parse = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        argv = list(args or [])
        for k, arg in enumerate(argv):
            value = arg[len("--isa="):] if arg.startswith("--isa=") else \
                argv[k + 1] if arg == "--isa" and k + 1 < len(argv) else None
            if value is not None:
                try:
                    isa_name(value)
                except argparse.ArgumentTypeError as exc:
                    parser.error(f"argument --isa: {exc}")
        return parse(args, namespace)

    parser.parse_known_args = parse_known_args


def parse_views(text: str | None) -> tuple[str, ...]:
    """'summary,timeline' -> ('summary', 'timeline'); None -> () (names are checked by the flow)."""
    if text is None:
        return ()
    views = tuple(v.strip() for v in text.split(",") if v.strip())
    if not views:
        raise UserError("--views: empty list")
    return views


def parse_crosschecks(args: argparse.Namespace) -> list[str]:
    """The cross-check names of `--crosscheck`, `--native`, `--qemu` and `--rtl`, in that order."""
    names = [n.strip() for n in (args.crosscheck or "").split(",") if n.strip()]
    if args.crosscheck is not None and not names:
        raise UserError("--crosscheck: empty list")
    names += ["native"] * args.native + ["emulator"] * args.qemu + ["rtl"] * args.rtl
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    from workbench.flow import execute, plan, resolve
    from workbench.plots import PLOT_SUFFIXES, plot_token
    from workbench.report import render_text, write_outputs

    names = dict(isa=args.isa, machine=args.machine, kernel=args.kernel, model=args.model)
    try:
        checks = parse_crosschecks(args)
        if args.simulator and "rtl" not in checks:
            raise UserError("--simulator: only with --rtl (or --crosscheck rtl)")
        views, params = parse_views(args.views), parse_params(args.param)
    except UserError:
        resolve(**names)                  # an unknown machine, kernel or model is the first error
        raise
    todo = plan(**names, layer=args.layer, views=views, seed=args.seed, activations=args.activations,
                token_id=args.token_id, cold=args.cold, params=params, workers=args.workers,
                crosschecks=checks, options={"simulator": args.simulator} if args.simulator else {})
    if args.plot and args.layer is not None:
        raise UserError("--plot needs a whole-token run (omit --layer)")
    if args.json:
        check_output_path(args.json, flag="--json")
    if args.out:
        check_output_path(args.out, flag="--out", directory=True)
    if args.plot:
        check_output_path(args.plot, flag="--plot", suffixes=PLOT_SUFFIXES)

    sim = execute(todo, progress=not args.no_progress)
    text = render_text(sim)
    print(text)
    if args.plot:
        print(f"plot: {plot_token(sim, args.plot)}")
    for path in write_outputs(sim, json_path=args.json, out_dir=args.out, text=text):
        print(f"wrote {path}")
    return 0 if sim.verified else 1
