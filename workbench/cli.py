"""The `workbench` command line: argument parsing and error reporting only.

Top of the flow. Each sub-command lives in its own module under `workbench/commands/` and exposes
``register(subparsers)``, which adds its parser and sets ``handler``; heavy imports happen inside
the handlers so ``workbench --help`` stays fast. Bad input (`workbench.errors.UserError` and its
subclasses, a missing or unreadable user path, a malformed flag) reaches the user as ONE line
``workbench <cmd>: error: <problem naming the culprit>`` and exit code 2; any other exception is an
internal error and propagates with its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from workbench.errors import UnknownNameError, UserError

__all__ = ["main", "UserError", "UnknownNameError", "COMMAND_MODULES", "WorkbenchArgumentParser",
           "USER_OS_ERRORS", "error_line"]

# Sub-command modules, in the order `workbench --help` lists them.
COMMAND_MODULES = ("models", "run", "formats", "machines", "socs", "project", "claims", "kernels", "simulate", "verify",
                   "equivalence", "tune", "sweep", "emit", "rtl")

# OSErrors that are about a path the user gave (reported in one line naming the path); any
# other OSError is an internal or environment failure and keeps its traceback.
USER_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)

# Namespace attribute holding the `prog` of the innermost parser that parsed the command line
# ("workbench formats pack"), so handler errors and unrecognized arguments name the command.
_PROG_ATTR = "_workbench_prog"


class _UsageExit(SystemExit):
    """Raised by `WorkbenchArgumentParser.error` after printing its line: exit code 2."""


class WorkbenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``<prog>: error: <message>``), exit code 2.

    argparse's own `error` prints the whole usage block first; a wrong flag value is one
    culprit and gets one line. Sub-parsers created through `add_subparsers` inherit this class.
    """

    def error(self, message: str):  # noqa: D102 (argparse API)
        print(error_line(self.prog, message), file=sys.stderr)
        raise _UsageExit(2)

    def parse_known_args(self, args=None, namespace=None):  # noqa: D102 (argparse API)
        namespace, extras = super().parse_known_args(args, namespace)
        if not hasattr(namespace, _PROG_ATTR):   # the innermost sub-parser sets it first
            setattr(namespace, _PROG_ATTR, self.prog)
        return namespace, extras


def error_line(prog: str, message: str) -> str:
    """``"<prog>: error: <first line of message>"``: the one line every user error prints."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return f"{prog}: error: {lines[0] if lines else 'error'}"


def _parser() -> WorkbenchArgumentParser:
    parser = WorkbenchArgumentParser(
        prog="workbench",
        description="Ternary (BitNet b1.58) kernel and accelerator workbench: reference transformer, "
                    "weight formats, ISA models, kernels and RTL.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=WorkbenchArgumentParser)
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


def _user_message(exc: BaseException) -> str | None:
    """The one-line message of a user error, or None when `exc` is an internal error."""
    if isinstance(exc, UserError):
        return str(exc) or exc.__class__.__name__
    if isinstance(exc, USER_OS_ERRORS):
        problem = exc.strerror or str(exc) or exc.__class__.__name__
        if exc.filename is not None and str(exc.filename) not in problem:
            return f"{exc.filename}: {problem}"
        return problem
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command line `argv` (default: ``sys.argv[1:]``); returns the exit code.

    Exit code 2 and one line on stderr for bad input; the handler's code otherwise. Internal
    errors propagate with their traceback.
    """
    parser = _parser()
    try:
        args, extras = parser.parse_known_args(argv)
    except _UsageExit:
        return 2
    prog = getattr(args, _PROG_ATTR, "workbench")
    if extras:
        print(error_line(prog, f"unrecognized arguments: {' '.join(extras)}"), file=sys.stderr)
        return 2
    try:
        result = args.handler(args)
    except (UserError, *USER_OS_ERRORS) as exc:
        print(error_line(prog, _user_message(exc)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
