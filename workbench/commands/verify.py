"""`workbench verify`: sweep a kernel against the reference on a model's projection shapes.

Top of the flow: parses arguments and prints `kernels.verify.verify`'s per-case results (each
shape x activation kind: exact, within bound, lossy with its error, or the first mismatch). Exit
code 1 when any row that must be exact differs.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a kernel against the reference over a model's shapes",
                       description="Run kernels.verify's sweep: for each chosen layer and projection of the "
                                   "model (its deterministic random weights), run the kernel on realistic, "
                                   "extreme (-128/127) and max activations (rows of all +1 / all -1 "
                                   "included) and compare every int32 accumulator with "
                                   "workbench.reference.ternary_matvec. Exit 1 on a mismatch.",
                       epilog="examples:\n  workbench verify --kernel tl2 --isa avx2\n"
                              "  workbench verify --kernel i2s --model tiny --layers 0,1 --projections all\n"
                              "  workbench verify --kernel vnni --native --json v.json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, help="registered kernel (see `workbench kernels`)")
    p.add_argument("--isa", default="avx2", help="ISA (default: avx2)")
    p.add_argument("--model", default="bitnet-b1.58-2B-4T", metavar="PRESET",
                   help="model preset whose shapes and weights are used (default: bitnet-b1.58-2B-4T)")
    p.add_argument("--layers", default="0", help="comma-separated layer numbers (default: 0)")
    p.add_argument("--projections", default=None,
                   help="comma-separated projections, or 'all' (default: one per distinct shape: q,k,gate,down)")
    p.add_argument("--inputs", default=None, help="activation kinds: realistic,extreme,max (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and activations (default: 0)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="kernel parameter (tile size, or machine=NAME for npu), repeatable")
    p.add_argument("--native", action="store_true", help="run the emitted C on this CPU instead of the "
                                                         "functional executor")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(handler=run)


def _list(text: str, what: str, valid) -> tuple[str, ...]:
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    for t in items:
        if t not in valid:
            raise ValueError(f"--{what}: unknown {what[:-1]} {t!r}; valid: {', '.join(valid)}")
    return items


def run(args: argparse.Namespace) -> int:
    from kernels.registry import get
    from kernels.verify import DEFAULT_PROJECTIONS, INPUT_KINDS, verify
    from workbench.commands.kernels import check_isa
    from workbench.commands.simulate import _params
    from workbench.reference import PROJECTIONS, get_preset

    check_isa(args.isa)
    spec = get(args.kernel, args.isa)
    config = get_preset(args.model)
    try:
        layers = tuple(int(x) for x in args.layers.split(","))
    except ValueError:
        raise ValueError(f"--layers {args.layers!r}: expected comma-separated integers") from None
    for layer in layers:
        if not 0 <= layer < config.num_layers:
            raise ValueError(f"--layers: model {args.model!r} has layers 0..{config.num_layers - 1}, not {layer}")
    if args.projections in (None, ""):
        projections = DEFAULT_PROJECTIONS
    elif args.projections == "all":
        projections = PROJECTIONS
    else:
        projections = _list(args.projections, "projections", PROJECTIONS)
    inputs = INPUT_KINDS if not args.inputs else _list(args.inputs, "inputs", INPUT_KINDS)
    result = verify(spec, isa=args.isa, model=args.model, layers=layers, projections=projections,
                    inputs=inputs, seed=args.seed, native=args.native,
                    progress=lambda what: print(f"  running {what}", file=sys.stderr),
                    **_params(args.param))
    print(result.describe())
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result.to_json(), fh, indent=2, default=str)
        print(f"wrote {args.json}")
    return 0 if result.ok else 1
