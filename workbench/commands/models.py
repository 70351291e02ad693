"""`workbench models`: list the model presets and their shapes."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list model presets and their shapes",
                       description="List the built-in model presets (deterministic random weights, "
                                   "no downloads) with their shapes.")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.reference.config import PRESETS

    if args.json:
        print(json.dumps({n: c.to_dict() for n, c in PRESETS.items()}, indent=2))
        return 0
    print(f"{'preset':<20} {'layers':>6} {'hidden':>6} {'ffn':>6} {'heads':>5} {'kv':>3} "
          f"{'hd':>4} {'vocab':>7} {'ternary params':>15}  source")
    for name, c in PRESETS.items():
        print(f"{name:<20} {c.num_layers:>6} {c.hidden_size:>6} {c.intermediate_size:>6} "
              f"{c.num_heads:>5} {c.num_kv_heads:>3} {c.head_dim:>4} {c.vocab_size:>7} "
              f"{c.ternary_params() / 1e6:>13,.1f}M  {c.source}")
    return 0
