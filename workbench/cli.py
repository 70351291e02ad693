"""The `workbench` command line: argument parsing and error reporting only.

Top of the flow. Each sub-command lives in its own module under `workbench/commands/` and exposes
``register(subparsers)``, which adds its parser and sets ``handler``; heavy imports happen inside
the handlers so ``workbench --help`` stays fast. Any user error (bad input file, unknown preset,
ISA, machine or kernel, a malformed TOML, a wrong shape) reaches the user as one line naming the
culprit and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main", "UserError", "COMMAND_MODULES"]

# Sub-command modules, in the order `workbench --help` lists them.
COMMAND_MODULES = ("models", "run", "formats", "machines", "kernels", "simulate", "verify", "emit", "rtl")


class UserError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Ternary (BitNet b1.58) kernel and accelerator workbench: reference transformer, "
                    "weight formats, ISA models, kernels and RTL.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"workbench.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"workbench.commands.{name}":
                continue  # command not built yet in this checkout
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except (UserError, ValueError, LookupError, OSError) as exc:
        message = str(exc) or exc.__class__.__name__
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"workbench {args.command}: error: {message.splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
