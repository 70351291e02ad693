"""`workbench simulate`: run a registered kernel over a model's layer (or whole token) on a machine.

Top of the flow: argument parsing and dispatch only. `--isa avx2` (and any ISA with kernels in
`kernels.registry`) goes to `workbench.flow.simulate` and `workbench.report`; `--isa npu` goes to
`workbench.npu_flow.simulate_npu(args)`, imported lazily.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run", "parse_views"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="check a kernel bit-exactly over a model and time it on a machine",
        description="For each projection of a layer (or, without --layer, of the whole token): build "
                    "the kernel's Program for the projection's shape, run it functionally on the "
                    "layer's weights and the reference forward pass's int8 activations, compare every "
                    "int32 accumulator with the reference (VERIFIED / FAILED with the first mismatch), "
                    "time it on the machine model and print cycles, time at the clock, GOP/s, bytes "
                    "moved and the binding bound. A whole-token run adds time per token and tokens/s "
                    "for 1..N cores against the DRAM roofline.",
        epilog="examples:\n"
               "  workbench simulate --isa avx2 --machine zen4 --kernel tl2 --model bitnet-b1.58-2B-4T --layer 0\n"
               "  workbench simulate --isa avx2 --machine zen4 --kernel tl2 --model tiny --layer 1 \\\n"
               "      --views summary,pressure,timeline,bottleneck --json out.json\n"
               "  workbench simulate --isa avx2 --machine zen4 --kernel i2s --model bitnet-b1.58-2B-4T \\\n"
               "      --plot token.png --out results/\n"
               "  workbench simulate --isa avx2 --machine host --kernel vnni2 --layer 0 --native\n"
               "  workbench simulate --isa npu --machine tiny --model tiny --layer 0",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", required=True, help="ISA of the kernel and machine (avx2, npu, ...)")
    p.add_argument("--machine", required=True, help="machine name (isa_models/machines/<isa>/<name>.toml), "
                                                    "path to a machine TOML, or 'host': the machine "
                                                    "modelling this CPU (see `workbench machines`)")
    p.add_argument("--kernel", help="registered kernel name (see `workbench kernels`); required for avx2")
    p.add_argument("--model", default="bitnet-b1.58-2B-4T", metavar="PRESET",
                   help="model preset (see `workbench models`; default: bitnet-b1.58-2B-4T)")
    p.add_argument("--layer", type=int, help="one decoder layer; omit for the whole token")
    p.add_argument("--views", default=None,
                   help="comma-separated views per unique shape: summary, pressure, timeline, bottleneck "
                        "(default: summary with --layer, none for the whole token)")
    p.add_argument("--activations", choices=("trace", "gaussian"), default="trace",
                   help="activation rows: the reference forward pass's q for one decode step (default) "
                        "or seeded Gaussian rows quantized with workbench.quant")
    p.add_argument("--token-id", type=int, default=None,
                   help="token fed to the reference forward pass for --activations trace (default: BOS)")
    p.add_argument("--cold", action="store_true",
                   help="time with the working set streamed from DRAM (a decode step) instead of the "
                        "smallest cache level holding it")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel parameter (tile size, or machine=NAME for npu), repeatable")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights (and Gaussian "
                                                       "activations) (default: 0)")
    p.add_argument("--json", metavar="FILE", help="write results + resolved configuration as JSON")
    p.add_argument("--out", metavar="DIR", help="write simulate.json, config.json and report.txt here")
    p.add_argument("--plot", metavar="FILE", help="whole-token run: breakdown + roofline plot (PNG/SVG)")
    p.add_argument("--workers", type=int, default=2, help="worker processes for the functional checks (default: 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--native", action="store_true",
                   help="avx2 only: also compile each shape's Program, run it on this CPU (outputs "
                        "compared with the functional run) and print measured cycles beside the "
                        "model's; the machine must be the one modelling this CPU (--machine host)")
    p.add_argument("--rtl", action="store_true", help="NPU only: co-simulate with the RTL")
    p.add_argument("--simulator", choices=("icarus", "verilator"), default=None,
                   help="NPU --rtl only: the cocotb simulator (default: icarus)")
    p.set_defaults(handler=run)


def parse_views(text: str | None, *, whole_token: bool) -> tuple[str, ...]:
    """'summary,timeline' -> ('summary', 'timeline'); ValueError naming an unknown view."""
    from workbench.flow import VIEW_NAMES

    if text is None:
        return () if whole_token else ("summary",)
    views = tuple(v.strip() for v in text.split(",") if v.strip())
    for v in views:
        if v not in VIEW_NAMES:
            raise ValueError(f"--views: unknown view {v!r}; valid: {', '.join(VIEW_NAMES)}")
    return views


def _params(items: list[str]) -> dict:
    """``KEY=VALUE`` kernel parameters: integers stay integers (tile sizes), anything else is a
    string (e.g. ``machine=tiny`` for an NPU kernel); the kernel rejects unknown keys by name."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"--param {item!r}: expected KEY=VALUE")
        value = value.strip()
        try:
            params[key.strip()] = int(value)
        except ValueError:
            params[key.strip()] = value
    return params


def _simulate_npu(args: argparse.Namespace) -> int:
    try:
        from workbench.npu_flow import simulate_npu
    except ModuleNotFoundError as exc:
        if exc.name == "workbench.npu_flow":
            print("workbench simulate: error: the NPU flow is not built in this checkout "
                  "(workbench/npu_flow.py is missing)", file=sys.stderr)
            return 2
        raise
    return simulate_npu(args)


def run(args: argparse.Namespace) -> int:
    if args.native and args.isa != "avx2":
        raise ValueError(f"--native: native runs exist for --isa avx2 only, not {args.isa}")
    if args.isa == "npu":
        return _simulate_npu(args)
    if args.rtl:
        raise ValueError(f"--rtl: RTL co-simulation exists for --isa npu only, not {args.isa}")
    if not args.kernel:
        raise ValueError(f"--kernel is required for --isa {args.isa} (see `workbench kernels`)")
    if args.plot and args.layer is not None:
        raise ValueError("--plot needs a whole-token run (omit --layer)")
    from workbench.commands.kernels import check_isa
    from workbench.flow import simulate
    from workbench.report import render_text, write_outputs

    check_isa(args.isa)

    views = parse_views(args.views, whole_token=args.layer is None)
    sim = simulate(kernel=args.kernel, isa=args.isa, machine=args.machine, model=args.model,
                   layer=args.layer, views=views, seed=args.seed, activations=args.activations,
                   token_id=args.token_id, cold=args.cold, params=_params(args.param),
                   progress=not args.no_progress, workers=args.workers, native=args.native)
    text = render_text(sim)
    print(text)
    if args.plot:
        from workbench.plots import plot_token
        print(f"plot: {plot_token(sim, args.plot)}")
    for path in write_outputs(sim, json_path=args.json, out_dir=args.out, text=text):
        print(f"wrote {path}")
    return 0 if sim.verified else 1
