"""`workbench kernels`: list the registered kernels with their format, exactness and parameters.

Top of the flow: reads `kernels.registry` and prints one row per kernel (name, ISA, weight format,
exactness, tokens per call: 1 for a matrix-vector kernel, N for a batched (prefill) one, default
parameters, and the proven bound or measured error), or JSON.
"""

from __future__ import annotations

import argparse
import json

from workbench.commands import isa_name
from isa_models.registry import get_isa, isa_names

__all__ = ["register", "run", "check_isa"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kernels", help="list registered kernels",
                       description="List the kernels in kernels.registry: name, ISA, weight format, "
                                   "exactness (exact / bounded with its proven bound / lossy with its "
                                   "measured error), tokens per call (1: matrix-vector; N: a batched "
                                   "prefill kernel, its tokens parameter) and default build parameters.",
                       epilog="examples:\n  workbench kernels\n  workbench kernels --isa ISA --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--isa", type=isa_name, help=f"only kernels of this ISA ({', '.join(isa_names())})")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def check_isa(isa: str) -> None:
    """Raise UnknownNameError naming the valid ISAs if `isa` is not a registered ISA plug-in."""
    get_isa(isa)


def _bound_or_error(spec) -> str:
    if spec.exactness == "bounded":
        return spec.bound
    if spec.exactness == "lossy":
        return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in spec.error.items())
    return "equals the reference int32 accumulators"


def _tokens(spec) -> str:
    """Tokens per call: "1", or a batched kernel's "N=8" (its tokens parameter and default)."""
    return f"{spec.tokens_param}={spec.params[spec.tokens_param]}" if spec.batched else "1"


def run(args: argparse.Namespace) -> int:
    from kernels.registry import kernels

    if args.isa:
        check_isa(args.isa)
    specs = kernels(args.isa)
    if args.json:
        print(json.dumps([s.info() for s in specs], indent=2, default=str))
        return 0
    width = max([9, *(len(s.name) for s in specs)])
    print(f"{'kernel':<{width}} {'isa':<5} {'format':<9} {'exactness':<9} {'tokens':<6} {'parameters':<28} "
          f"bound / error")
    for s in specs:
        params = ", ".join(f"{k}={v}" for k, v in s.params.items()) or "-"
        print(f"{s.name:<{width}} {s.isa:<5} {s.weight_format:<9} {s.exactness:<9} {_tokens(s):<6} {params:<28} "
              f"{_bound_or_error(s)}")
    return 0
