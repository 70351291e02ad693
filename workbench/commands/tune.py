"""`workbench tune`: the best parameters of one kernel on one machine and shape, with the runners-up
and, where the machine models this CPU, the top three run natively.

Top of the flow: argument parsing and the report only. `workbench.sweep.tune.tune` resolves the
names (kernel and ISA, machine, shape, parameters: each bad one is a one-line error, exit 2),
enumerates the kernel's parameter space (`workbench.sweep.param_space`), evaluates every point as
a verified simulation on Dask and runs the top natively; this module prints the resolved run, the
point counts, the best configuration as the ``--param`` flags `workbench simulate` takes, the
ranked table, the native table and optionally writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench.commands import (check_output_path, nonnegative_int, parse_param_lists, parse_params,
                                positive_int)
from workbench.errors import UserError

__all__ = ["register", "run", "parse_shape", "render_text"]


def parse_shape(text: str) -> tuple[int, int]:
    """'2560x6912' -> (2560, 6912); UserError naming `--shape` otherwise."""
    m, sep, k = str(text).lower().partition("x")
    try:
        M, K = int(m), int(k)
    except ValueError:
        M = K = 0
    if not sep or M < 1 or K < 1:
        raise UserError(f"--shape {text!r}: expected MxK with positive integers, e.g. 2560x2560")
    return M, K


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune", help="the best parameters of one kernel on one machine and shape",
        description="Enumerate a kernel's parameter space (tile sizes, chains, unrolls: candidates derived "
                    "from each default and the kernel's own shape checks; combinations it refuses are "
                    "counted, configurations with identical Programs and inputs folded), evaluate every "
                    "point as a verified simulation on a Dask cluster (bit-exact against the reference, "
                    "timed on the machine model), rank the VERIFIED ones (LOSSY for a lossy kernel) by "
                    "model cycles and print the best with the runners-up. Where the machine models this "
                    "CPU, the top configurations are also compiled, checked byte for byte against the "
                    "functional run and timed here, and the measured order is set beside the model's.",
        epilog="examples:\n  workbench tune --kernel vnni2 --machine host --shape 2560x2560\n"
               "  workbench tune --kernel rowdot --machine cortex-a55 --shape 256x2560 --json tune.json\n"
               "  workbench tune --kernel i2s --isa ISA --machine MACHINE --shape 2560x2560 "
               "--param dma=1\n  workbench tune --kernel tl2 --machine zen4 --shape 2560x6912 --values BK=96,192",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, help="registered kernel (see `workbench kernels`)")
    p.add_argument("--machine", required=True,
                   help="machine of the kernel's ISA (see `workbench machines`), or 'host': the one modelling this CPU")
    p.add_argument("--shape", required=True, metavar="MxK", help="weight shape, e.g. 2560x2560")
    p.add_argument("--isa", default=None, help="ISA of the kernel (needed when several ISAs have that kernel name)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a parameter (repeatable); 'none' for a block size the kernel chooses")
    p.add_argument("--values", action="append", default=[], metavar="KEY=A,B,C",
                   help="these candidates for a parameter instead of the derived ones (repeatable; the "
                        "tokens parameter of a batched kernel is varied only this way)")
    p.add_argument("--top", type=positive_int, default=3,
                   help="configurations run natively and runners-up shown beyond them (default: 3)")
    native = p.add_mutually_exclusive_group()
    native.add_argument("--native", dest="native", action="store_true", default=None,
                        help="require the native check of the top configurations (error when impossible)")
    native.add_argument("--no-native", dest="native", action="store_false",
                        help="skip the native check (default: run it when the machine models this CPU)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of weights and activations (default: 0)")
    p.add_argument("--workers", type=positive_int, default=2, help="local Dask worker processes (default: 2)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="an existing Dask scheduler (tcp://host:port) instead of a local cluster")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="per-point result cache (default: <workbench cache>/sweep; see --no-cache)")
    p.add_argument("--no-cache", action="store_true", help="evaluate every point, read and write no cache")
    p.add_argument("--json", metavar="FILE", help="write the resolved run, every point and the native check as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def _cache_dir(args) -> Path | None:
    if args.no_cache:
        if args.cache:
            raise UserError("--cache and --no-cache: give one")
        return None
    if args.cache:
        return check_output_path(args.cache, flag="--cache", directory=True)
    from workbench.reference.weights import weights_cache_dir

    return weights_cache_dir() / "sweep"


def _value(v) -> str:
    return "auto" if v is None else str(v)


def _params_text(result, row) -> str:
    from workbench.sweep.tune import row_params

    spec = result.spec
    params = row_params(row)
    space = result.grid.space
    shown = [k for k in space if k != spec.machine_param and len(space[k]) > 1]
    shown = shown or [k for k in space if k != spec.machine_param]
    return " ".join(f"{k}={_value(params.get(k))}" for k in shown) or "(no parameters)"


def _ranked_table(result) -> list[str]:
    from workbench.report import table_binding
    from workbench.sweep.tune import row_params

    default = result.grid.default
    rows = result.ranked[:max(result.top * 2, 5)]
    params = [_params_text(result, r) + (" (default)" if all(row_params(r).get(k) == v for k, v in default.items())
                                         else "") for r in rows]
    width = max([len("params")] + [len(t) for t in params])
    lossy = result.spec.exactness == "lossy"          # the error beside the speed it buys
    lines = [f"{'rank':>4}  {'params':<{width}} {'cycles':>12} {'cyc/weight':>10} {'verdict':<9} "
             + (f"{'rel rms err':>11} " if lossy else "") + f"{'vs default':>10}  bound"]
    for i, (row, text) in enumerate(zip(rows, params), start=1):
        vs = result.vs_default(row)
        err = row.get("error_rel_rms")
        lines.append(f"{i:>4}  {text:<{width}} {row['cycles']:>12,.0f} {row['cycles_per_weight']:>10.4f} "
                     f"{row['verdict']:<9} " + (f"{'-' if err is None else f'{err:.2e}':>11} " if lossy else "")
                     + f"{'-' if vs is None else f'{vs:.3f}x':>10}  {table_binding(row['bound'] or '')}")
    more = len(result.ranked) - len(rows)
    if more > 0:
        lines.append(f"      ... {more} more ranked (--json FILE lists every point)")
    return lines


def _native_lines(result) -> list[str]:
    if result.native is None:
        return [f"native check: skipped: {result.native_note}"]
    nat = result.native
    lines = [f"native check of the top {len(nat.records)} ({nat.setup}):"]
    varied = [k for k, v in result.grid.space.items() if len(v) > 1]

    def text_of(record):
        return " ".join(f"{k}={_value(record.params.get(k))}" for k in varied) or "-"

    width = max([len("params")] + [len(text_of(r)) for r in nat.records])
    lines.append(f"  {'model':>5} {'measured':>8}  {'params':<{width}} {'model cyc':>12} {'measured cyc':>12} "
                 f"{'ratio':>6}  outputs")
    for r in nat.records:
        text = text_of(r)
        lines.append(f"  {r.model_rank:>5} {r.measured_rank:>8}  {text:<{width}} {r.model_cycles:>12,.0f} "
                     f"{r.measured_cycles:>12,.0f} {r.ratio:>6.2f}  {r.check.status}"
                     + ("" if r.check.status == "VERIFIED" else f" ({r.check.first_mismatch})"))
    tau = nat.tau
    lines.append(f"  rank agreement: {nat.agreement}" + ("" if tau is None else f" (Kendall tau {tau:+.2f})")
                 + "; ratio = measured / model cycles")
    return lines


def render_text(result) -> str:
    """The report: resolved run, counts, best configuration, ranked table, broken points, native table."""
    spec, g = result.spec, result.grid
    lines = [f"kernel {spec.name}/{spec.isa} ({spec.exactness}) on machine {result.machine.name}, "
             f"shape {result.M}x{result.K}"]
    varied = {k: v for k, v in g.space.items() if len(v) > 1}
    lines.append("space (values some supported configuration takes): " + ("; ".join(f"{k} in {{{', '.join(_value(x) for x in v)}}}" for k, v in varied.items())
                              if varied else "nothing to vary (one configuration)"))
    fixed = {k: v[0] for k, v in result.space.items() if len(v) == 1 and k != spec.machine_param}
    if fixed:
        lines[-1] += "; fixed " + ", ".join(f"{k}={_value(v)}" for k, v in fixed.items())
    total = len(g.points) + len(g.refused)
    lines.append(f"points: {total} combinations, {len(g.refused)} refused by the kernel, {len(result.folded)} folded "
                 f"(same Program and inputs as another), {len(result.rows)} evaluated ({result.computed} run, "
                 f"{result.cached} cached): {len(result.ranked)} ranked, {len(result.broken)} broken, "
                 f"{len(result.unsupported)} unsupported")
    best = result.best
    if best is None:
        lines.append("best: none: no configuration verified")
    else:
        vs = result.vs_default(best)
        lines.append(f"best: {result.flags(best)}  ({best['cycles']:,.0f} cycles"
                     + ("" if vs is None else f", {vs:.3f}x the default's speed") + ")")
        lines.append(f"  workbench simulate --isa {spec.isa} --machine {result.machine.name} --kernel {spec.name} "
                     + (result.flags(best) if "--param" in result.flags(best) else "").strip())
        lines += _ranked_table(result)
    for row in result.broken:
        lines.append(f"broken: {_params_text(result, row)}: {row['verdict']} {row.get('first_mismatch') or ''}".rstrip())
    for row in result.unsupported:
        lines.append(f"unsupported: {_params_text(result, row)}: {row.get('reason')}")
    lines += _native_lines(result)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from workbench.sweep.tune import tune

    M, K = parse_shape(args.shape)
    fixed, values = parse_params(args.param), parse_param_lists(args.values)
    if args.json:
        check_output_path(args.json, flag="--json")
    result = tune(kernel=args.kernel, isa=args.isa, machine=args.machine, M=M, K=K, fixed=fixed, values=values,
                  top=args.top, scheduler=args.scheduler, workers=args.workers, cache_dir=_cache_dir(args),
                  native=args.native, progress=not args.no_progress, seed=args.seed)
    print(render_text(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_json(), indent=2, default=str) + "\n")
        print(f"wrote {args.json}")
    if result.best is None or result.broken or (result.native is not None and not result.native.all_equal):
        return 1
    return 0
