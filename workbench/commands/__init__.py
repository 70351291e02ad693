"""Sub-commands of the `workbench` CLI, one module each (see `workbench.cli`), and the argument
checks they share.

Top of the flow. `positive_int` / `nonnegative_int` are argparse ``type=`` callables (a bad value
is one argparse line, exit 2); `check_output_path` and `check_input_path` refuse, before any work
starts, a path the command could not write or read, with a `workbench.errors.UserError` naming
the flag and the path.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from workbench.errors import UserError

__all__ = ["positive_int", "nonnegative_int", "check_output_path", "check_input_path", "parse_params",
           "isa_name"]


def _int(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None


def positive_int(text: str) -> int:
    """argparse ``type=``: an integer >= 1 (``--workers``, ``--max-new-tokens``, ``--rows``).

    Raises
    ------
    argparse.ArgumentTypeError : text that is not an integer, or an integer below 1; argparse
        reports it as ``argument --flag: <message>``.
    """
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse ``type=``: an integer >= 0 (``--seed``, ``--layer``, ``--token-id``).

    Raises
    ------
    argparse.ArgumentTypeError : text that is not an integer, or a negative integer.
    """
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_path(path, *, flag: str, directory: bool = False,
                      suffixes: tuple[str, ...] | None = None) -> Path:
    """Refuse an output path the command could not write, before any work starts.

    Parameters
    ----------
    path : str or Path
        What the user gave to `flag`.
    flag : str
        The option's name as typed (``"--json"``), used in the message.
    directory : bool
        False: `path` is a file; its parent directory must exist and be writable, and `path`
        must not be a directory (nor an existing read-only file). True: `path` is a directory
        that is created with its parents if needed; it must not be a file, and its nearest
        existing ancestor must be a writable directory.
    suffixes : tuple of str, optional
        Accepted file suffixes, lower case with the dot (``(".png", ".svg")``).

    Returns
    -------
    Path of `path`.

    Raises
    ------
    UserError : ``"<flag> <path>: <problem>"``.
    """
    p = Path(path)
    if not str(path).strip():
        raise UserError(f"{flag or 'path'}: empty path")

    def fail(problem: str) -> UserError:
        return UserError(f"{flag} {path}: {problem}" if flag else f"{path}: {problem}")

    if directory:
        if p.exists() and not p.is_dir():
            raise fail("is a file, expected a directory")
        anchor = _nearest_existing(p)
        if not anchor.is_dir():
            raise fail(f"{anchor} is a file, not a directory")
        if not os.access(anchor, os.W_OK | os.X_OK):
            raise fail(f"directory {anchor} is not writable")
        return p
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise fail(f"unsupported file type {p.suffix or '(none)'!r}; valid: {', '.join(suffixes)}")
    if p.is_dir():
        raise fail("is a directory, expected a file")
    parent = p.parent
    if not parent.exists():
        raise fail(f"directory {parent} does not exist")
    if not parent.is_dir():
        raise fail(f"{parent} is not a directory")
    if p.exists():
        if not os.access(p, os.W_OK):
            raise fail("file is not writable")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise fail(f"directory {parent} is not writable")
    return p


def check_input_path(path, *, flag: str, directory: bool | None = False) -> Path:
    """Refuse an input path the command could not read, before any work starts.

    Parameters
    ----------
    path : str or Path
    flag : str
        The option's name as typed (``"--model-file"``); empty for a positional argument (the
        message then starts with the path).
    directory : bool or None
        False: a file (a character device such as /dev/null counts; reading it tells more);
        True: a directory; None: either.

    Returns
    -------
    Path of `path`.

    Raises
    ------
    UserError : ``"<flag> <path>: <problem>"`` (missing, wrong kind, or not readable).
    """
    p = Path(path)
    if not str(path).strip():
        raise UserError(f"{flag or 'path'}: empty path")

    def fail(problem: str) -> UserError:
        return UserError(f"{flag} {path}: {problem}" if flag else f"{path}: {problem}")

    if not p.exists():
        raise fail("no such file or directory")
    if directory is False and p.is_dir():
        raise fail("is a directory, expected a file")
    if directory is True and not p.is_dir():
        raise fail("is a file, expected a directory")
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise fail("permission denied")
    return p


#: ``--param`` values that mean "the kernel chooses" (None: a block size left to the kernel)
PARAM_AUTO = ("none", "auto")


def parse_param_value(text: str):
    """One kernel parameter value from the command line: an integer (a tile size), None for
    "none"/"auto" (any case), anything else a string (a machine name)."""
    text = text.strip()
    if text.lower() in PARAM_AUTO:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _key_value(item: str, flag: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise UserError(f"{flag} {item!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def parse_params(items, *, flag: str = "--param") -> dict:
    """``KEY=VALUE`` kernel parameters (``--param``, repeatable) -> {KEY: `parse_param_value`};
    the kernel's `resolve` refuses unknown keys and values of the wrong type.

    Raises UserError naming an item that is not KEY=VALUE.
    """
    params = {}
    for item in items or ():
        key, value = _key_value(item, flag)
        params[key] = parse_param_value(value)
    return params


def parse_param_lists(items, *, flag: str = "--values") -> dict:
    """``KEY=A,B,C`` items (``workbench tune --values``) -> {KEY: [A, B, C]}, each value as
    `parse_param_value` reads it; UserError naming an item that is not KEY=list or an empty list."""
    out = {}
    for item in items or ():
        key, value = _key_value(item, flag)
        parts = [v for v in value.split(",") if v.strip()]
        if not parts:
            raise UserError(f"{flag} {item!r}: empty list")
        out[key] = [parse_param_value(v) for v in parts]
    return out


def isa_name(text: str) -> str:
    """argparse ``type=`` for ``--isa``: a registered ISA (`isa_models.registry`). Parsing checks it
    before anything else, so an unknown ISA is the first error, one line listing the valid ones."""
    from isa_models.registry import get_isa

    try:
        return get_isa(text).name
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
