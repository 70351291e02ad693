"""`workbench verify`: sweep a kernel against the reference on a model's projection shapes.

Top of the flow: parses and validates the arguments (the ISA first, then the kernel, the model,
layers, projections, activation kinds and the ``--json`` path, all before any work) and prints
`kernels.verify.verify`'s per-case checks with the status words every command uses (VERIFIED,
FAILED, LOSSY, UNSUPPORTED). Exit code 1 when any case is FAILED.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.commands import check_output_path, isa_name, nonnegative_int, parse_params
from workbench.errors import UserError

__all__ = ["register", "run", "default_kernel"]


def register(sub: argparse._SubParsersAction) -> None:
    from isa_models.registry import isa_names, plugins

    names = isa_names()
    example = plugins()[0] if names else None
    examples = "examples:\n  workbench verify --isa ISA\n" + (
        f"  workbench verify --isa {example.name} --kernel {example.kernel_preference[0]} --model tiny "
        f"--layers 0,1 --projections all\n" if example and example.kernel_preference else "")
    p = sub.add_parser("verify", help="check a kernel against the reference over a model's shapes",
                       description="Run kernels.verify's sweep: for each chosen layer and projection of the "
                                   "model (its deterministic random weights), run the kernel on realistic, "
                                   "extreme (-128/127) and max activations (rows of all +1 / all -1 "
                                   "included) and compare every int32 accumulator with "
                                   "workbench.reference.ternary_matvec by integer equality. Any differing "
                                   "row is FAILED (for a bounded kernel the report counts the rows outside "
                                   "its bound); a lossy kernel is LOSSY with its measured error. Exit 1 when "
                                   "a case is FAILED.",
                       epilog=examples + "  workbench verify --isa ISA --kernel KERNEL --native --json v.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", required=True, metavar="ISA", type=isa_name,
                   help=f"the ISA: {', '.join(names)}")
    p.add_argument("--kernel", default=None,
                   help="registered kernel (see `workbench kernels`; default: the ISA's fastest exact kernel)")
    p.add_argument("--model", default="bitnet-b1.58-2B-4T", metavar="PRESET",
                   help="model preset whose shapes and weights are used (default: bitnet-b1.58-2B-4T)")
    p.add_argument("--layers", default="0", help="comma-separated layer numbers (default: 0)")
    p.add_argument("--projections", default=None,
                   help="comma-separated projections, or 'all' (default: one per distinct shape: q,k,gate,down)")
    p.add_argument("--inputs", default=None, help="activation kinds: realistic,extreme,max (default: all)")
    p.add_argument("--seed", default="0", help="seed of weights and activations (default: 0)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel parameter (a tile size, or the machine of a kernel whose Program depends "
                        "on it), repeatable")
    p.add_argument("--native", action="store_true", help="run the emitted C on this CPU instead of the "
                                                         "functional executor")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(handler=run)


def default_kernel(isa: str) -> str:
    """The first kernel of the ISA plug-in's ``kernel_preference`` that is registered for it.

    Raises
    ------
    UserError : the ISA prefers no registered kernel (name one with --kernel).
    """
    from isa_models.registry import get_isa
    from kernels.registry import kernels

    registered = {s.name for s in kernels(isa)}
    for name in get_isa(isa).kernel_preference:
        if name in registered:
            return name
    raise UserError(f"--isa {isa}: no default kernel (the ISA prefers none of its registered kernels: "
                    f"{', '.join(sorted(registered)) or '(none)'}); name one with --kernel")


def _list(text: str, what: str, valid) -> tuple[str, ...]:
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    if not items:
        raise UserError(f"--{what} {text!r}: empty; valid: {', '.join(valid)}")
    for t in items:
        if t not in valid:
            raise UserError(f"--{what}: unknown {what[:-1]} {t!r}; valid: {', '.join(valid)}")
    return items


def _int(text: str, flag: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected an integer") from None


def run(args: argparse.Namespace) -> int:
    from isa_models.registry import get_isa
    from kernels.registry import get
    from kernels.verify import DEFAULT_PROJECTIONS, INPUT_KINDS, verify
    from workbench.reference import PROJECTIONS, get_preset

    isa = get_isa(args.isa).name                    # an unknown ISA is the first error
    spec = get(args.kernel or default_kernel(isa), isa)
    params = spec.resolve(**parse_params(args.param))
    config = get_preset(args.model)
    layers = tuple(_int(x, "--layers") for x in args.layers.split(","))
    for layer in layers:
        if not 0 <= layer < config.num_layers:
            raise UserError(f"--layers: model {args.model!r} has layers 0..{config.num_layers - 1}, not {layer}")
    if args.projections in (None, ""):
        projections = DEFAULT_PROJECTIONS
    elif args.projections == "all":
        projections = PROJECTIONS
    else:
        projections = _list(args.projections, "projections", PROJECTIONS)
    kinds = INPUT_KINDS if not args.inputs else _list(args.inputs, "inputs", INPUT_KINDS)
    try:
        seed = nonnegative_int(args.seed)
    except argparse.ArgumentTypeError as exc:
        raise UserError(f"--seed: {exc}") from None
    if args.json:
        check_output_path(args.json, flag="--json")
    if args.kernel is None:
        print(f"kernel: {spec.name} (default for {isa}: its fastest exact kernel)")
    result = verify(spec, model=args.model, layers=layers, projections=projections, inputs=kinds,
                    seed=seed, native=args.native,
                    progress=lambda what: print(f"  running {what}", file=sys.stderr), **params)
    print(result.describe())
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result.to_json(), fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if result.ok else 1
