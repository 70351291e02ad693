"""The project's one user-error type: bad input that the CLI reports in one line with exit code 2.

Leaf module (imports nothing): every layer (ground truth, `isa_models`, `kernels`, `rtl`, the
flow) raises `UserError` or a subclass for a problem with the user's input (a corrupt file, a
wrong JSON type, a wrong shape, an unknown ISA, machine, kernel or preset, a malformed TOML, NaN
weights, a kernel reading out of bounds). `workbench.cli` turns exactly these into one line naming
the culprit and exit code 2; any other exception is an internal error and keeps its traceback.
`UserError` subclasses ValueError so existing ``except ValueError`` checks (shape probes) still
see it.
"""

from __future__ import annotations

__all__ = ["UserError", "UnknownNameError"]


class UserError(ValueError):
    """A problem with the user's input: printed as one line naming the culprit, exit code 2."""


class UnknownNameError(UserError, LookupError):
    """An unknown name (ISA, machine, kernel, preset, view, format): the message lists the valid ones."""
