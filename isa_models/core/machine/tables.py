"""The machine errors and the TOML table reader that checks keys and collects provenance.

Engine layer, the bottom of `isa_models.core.machine`: every section parser (the common part in
`schema.py`, the engine sections in `cpu.py` and `mac_array.py`) reads its tables through `_Table`,
which refuses unknown, missing and ill-typed keys with a message naming the file, the table and
the key, and records each table's ``source`` and its per-key ``sources`` overrides in one dict
(`Machine.sources`, read by `Machine.source_of`).
"""

from __future__ import annotations

from pathlib import Path

from workbench.errors import UnknownNameError, UserError

__all__ = ["MachineError", "UnknownMachineError", "MissingExtensionError", "positive", "nonneg"]


class MachineError(UserError):
    """A malformed or incomplete machine description, or a program the machine cannot time
    (a class it has no timing for, an ISA extension it lacks)."""


class UnknownMachineError(MachineError, UnknownNameError):
    """No machine file of that name (the message lists the valid ones)."""


class MissingExtensionError(MachineError):
    """A program uses instruction forms that need ISA extensions the machine's core lacks.

    Attributes
    ----------
    machine : the machine's name.
    program : the program's name.
    missing : form name -> the extensions (cpuinfo flag names) it needs and the machine lacks.
    """

    def __init__(self, machine: str, program: str, missing: dict[str, tuple[str, ...]]):
        self.machine, self.program, self.missing = machine, program, dict(missing)
        flags = sorted({f for fl in missing.values() for f in fl})
        forms = ", ".join(sorted(missing))
        super().__init__(f"machine {machine} lacks {', '.join(flags)}, needed by {forms} in program {program}")


def positive(v) -> bool:
    return v > 0


def nonneg(v) -> bool:
    return v >= 0


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


class _Table:
    """Reads one TOML table, checking types, unknown and missing keys, and collecting sources.

    Parameters
    ----------
    path : the machine file (for messages).
    name : the table's dotted name as the file spells it (``ooo``, ``classes.avx2.vpshufb``).
    data : the parsed table.
    sources : the machine's provenance dict; the table's ``source`` is stored under `name`,
        each ``sources`` entry under ``name.key``.
    needs_source : the table must have a ``source`` (all but the top level).
    """

    def __init__(self, path: Path, name: str, data, sources: dict[str, str], *, needs_source: bool = True):
        if not isinstance(data, dict):
            raise MachineError(f"{path}: [{name}] must be a table")
        self.path, self.name, self.data = path, name, data
        self.seen = {"source", "sources"} if needs_source else set()
        if needs_source:
            src = data.get("source")
            if not isinstance(src, str) or not src.strip():
                raise MachineError(f"{path}: [{name}] missing key 'source' (the provenance of its values)")
            sources[name] = src
            extra = data.get("sources", {})
            if not isinstance(extra, dict):
                raise MachineError(f"{path}: [{name}].sources must be a table of key = \"source\"")
            for key, text in extra.items():
                if key not in data or key in ("source", "sources"):
                    raise MachineError(f"{path}: [{name}].sources names unknown key {key!r}")
                if not isinstance(text, str) or not text.strip():
                    raise MachineError(f"{path}: [{name}].sources key {key!r} must be a non-empty string")
                sources[f"{name}.{key}"] = text

    def get(self, key: str, types, *, default=..., check=None):
        """The value of `key`, of one of `types`; `default` when absent (required if not given);
        `check(value)` must hold."""
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise MachineError(f"{self.path}: [{self.name}] missing key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
            raise MachineError(f"{self.path}: [{self.name}] key {key!r} has the wrong type "
                               f"({type(value).__name__})")
        if check is not None and not check(value):
            raise MachineError(f"{self.path}: [{self.name}] key {key!r} has an invalid value {value!r}")
        return value

    def get_strings(self, key: str, *, default=...) -> tuple[str, ...]:
        """A list of distinct non-empty strings."""
        if key not in self.data and default is not ...:
            self.seen.add(key)
            return default
        value = self.get(key, list)
        if not all(isinstance(s, str) and s for s in value) or len(set(value)) != len(value):
            raise MachineError(f"{self.path}: [{self.name}] key {key!r} must list distinct non-empty strings")
        return tuple(value)

    def fail(self, key: str, why: str):
        """Raise a MachineError about `key` of this table."""
        raise MachineError(f"{self.path}: [{self.name}] key {key!r} {why}")

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise MachineError(f"{self.path}: [{self.name}] unknown key {unknown[0]!r}")
