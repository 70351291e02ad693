"""Finding and reading machine files: names, paths, ``based_on``, and `load_machine`.

Engine layer. Machine files live in ``isa_models/machines/<isa>/<name>.toml`` (one folder per ISA,
CPU and accelerator alike); `load_machine` resolves a name, ``<isa>/<name>`` or a path, reads the
TOML (taking the tables a ``based_on`` file lacks from its base) and validates it with
`schema.parse_machine`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from isa_models.core.machine.schema import Machine, parse_machine
from isa_models.core.machine.tables import MachineError, UnknownMachineError

__all__ = ["MACHINES_DIR", "machine_names", "load_machine"]

MACHINES_DIR = Path(__file__).resolve().parent.parent.parent / "machines"

#: tables a `based_on` machine never takes from its base
_IDENTITY_TABLES = ("machine", "host")


def machine_names(isa: str | None = None) -> list[str]:
    """Machine names available, as ``<name>`` for one ISA or ``<isa>/<name>`` for all."""
    if isa is not None:
        return sorted(p.stem for p in (MACHINES_DIR / isa).glob("*.toml"))
    return sorted(f"{p.parent.name}/{p.stem}" for p in MACHINES_DIR.glob("*/*.toml"))


def load_machine(name_or_path: str | Path, *, isa: str | None = None) -> Machine:
    """Load and validate a machine description.

    Parameters
    ----------
    name_or_path : a machine name (``"zen4"``), ``"<isa>/<name>"``, or a path to a TOML file.
    isa : the ISA folder to look in when `name_or_path` is a bare name (default: search all).

    Raises
    ------
    UnknownMachineError (an UnknownNameError) listing valid names; MachineError (a UserError)
    naming file and key for unknown, missing or ill-typed keys, or a file that cannot be read.
    """
    path = _resolve(str(name_or_path), isa)
    return parse_machine(path, _read_with_base(path))


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise MachineError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MachineError(f"{path}: cannot read machine file: {exc}") from None


def _read_with_base(path: Path) -> dict:
    """The file's tables; with a top-level ``based_on = "<name>"``, every table of facts the file
    lacks is the named machine's (same folder, one level: the base may not itself be based on
    another). Identity never carries over: [machine] is the file's own, and without a [host] of
    its own a machine claims no CPU (two files claiming one CPU would make host_machine ambiguous).
    A machine that shares a core with another (graniterapids: alderlake-p's [ooo], ports and
    classes) keeps one copy of those facts."""
    data = _read_toml(path)
    base = data.pop("based_on", None)
    if base is None:
        return data
    if not isinstance(base, str) or not (path.parent / f"{base}.toml").is_file():
        raise MachineError(f"{path}: key 'based_on' names no machine file {base!r} in {path.parent}")
    inherited = _read_toml(path.parent / f"{base}.toml")
    if "based_on" in inherited:
        raise MachineError(f"{path}: based_on {base!r}, which is itself based on another machine")
    return {**{k: v for k, v in inherited.items() if k not in _IDENTITY_TABLES}, **data}


def _resolve(name: str, isa: str | None) -> Path:
    if name.endswith(".toml") or "/" in name and Path(name).exists():
        path = Path(name)
        if not path.exists():
            raise MachineError(f"machine file {path} does not exist")
        return path
    if "/" in name:
        isa, name = name.split("/", 1)
    folders = [MACHINES_DIR / isa] if isa else sorted(p for p in MACHINES_DIR.iterdir() if p.is_dir())
    hits = [f / f"{name}.toml" for f in folders if (f / f"{name}.toml").exists()]
    if len(hits) == 1:
        return hits[0]
    valid = machine_names(isa) if isa else machine_names()
    if not hits:
        where = f" for ISA {isa}" if isa else ""
        raise UnknownMachineError(f"unknown machine {name!r}{where}; valid: {', '.join(valid) or '(none)'}")
    raise UnknownMachineError(f"machine name {name!r} is ambiguous: {', '.join(str(h) for h in hits)}; "
                              f"pass isa=")
