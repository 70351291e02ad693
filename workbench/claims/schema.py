"""The claims file: numeric claims about BitNet on named hardware, read and checked.

Claims layer (`workbench.claims`), the first step: `load_claims` reads a TOML file of ``[[claim]]``
tables (the seed's claims ship in ``claims.toml`` next to this module; users add their own or
pass a file with ``workbench claims --file``) and checks every key, type, SoC name (from
`workbench.soc`), model preset, quantity and projection option before anything is projected.
A bad file is a `ClaimsError` (a `workbench.errors.UserError`): one line naming the file, the
claim and the key. `evaluate` projects each `Claim` and `verdict` judges it.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from workbench.errors import UserError

__all__ = ["ClaimsError", "Claim", "QUANTITIES", "DEFAULT_FILE", "load_claims", "claims_from_dict",
           "OPTION_TYPES"]

#: the file of the seed's claims
DEFAULT_FILE = Path(__file__).with_name("claims.toml")

#: quantity -> (unit, which way is harder to reach: "higher" or "lower", what it is).
#: A reduction is 100 x (1 - ternary / baseline) of the same figure, the baseline being the
#: claim's `baseline` options (weight_format = "f16" for an FP16 baseline).
QUANTITIES: dict[str, tuple[str, str, str]] = {
    "decode_tokens_per_s": ("tok/s", "higher", "decode tokens per second"),
    "memory_gb": ("GB", "lower", "memory footprint (weights, embedding, lm_head, KV cache, activations), 1e9 bytes"),
    "joules_per_token": ("J", "lower", "energy per decoded token"),
    "memory_reduction_pct": ("%", "higher", "memory footprint saved against the baseline"),
    "energy_reduction_pct": ("%", "higher", "energy per decoded token saved against the baseline"),
}

#: `project()` options a claim (`options`) or its baseline (`baseline`) may set, with their types;
#: the projection checks their values (an unknown engine, kernel or format is its one-line error)
OPTION_TYPES: dict[str, type | tuple[type, ...]] = {
    "engine": str, "threads": int, "context": int, "prompt_tokens": int, "kernel": str,
    "head_format": str, "embed_format": str, "weight_format": str,
}
#: options only a baseline may set besides OPTION_TYPES: another model or SoC to compare against
BASELINE_ONLY = {"model": str, "soc": str}

_REQUIRED = {"id": str, "text": str, "source": str, "origin": str, "soc": str, "model": str,
             "quantity": str, "range": list}
_OPTIONAL = {"reading": str, "note": str, "options": dict, "baseline": dict}
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class ClaimsError(UserError):
    """A claims file that cannot be used: one line naming the file, the claim and the key."""


@dataclass(frozen=True)
class Claim:
    """One numeric claim and the hardware it names.

    Attributes
    ----------
    id : short unique name (``--only`` selects it).
    text : the claim's words, quoted.
    source : where the words are quoted from (the seed press release).
    origin : the publication the number comes from (paper, table or figure) and what it measured.
    soc : the SoC the claim names (`workbench.soc` name).
    model : the model preset the claim is about.
    quantity : one of `QUANTITIES`.
    low, high : the claimed range in the quantity's unit (equal for a single figure).
    reading : how the words became the range ("over 70%" -> [70, 100]).
    note : anything else the reader should know (where the original figure was measured).
    options : `project()` options of the claim's side (engine, threads, context, ...).
    baseline : `project()` options of the baseline of a reduction (weight_format = "f16", ...),
        None for an absolute quantity.
    """

    id: str
    text: str
    source: str
    origin: str
    soc: str
    model: str
    quantity: str
    low: float
    high: float
    reading: str = ""
    note: str = ""
    options: Mapping[str, object] = field(default_factory=dict)
    baseline: Mapping[str, object] | None = None

    @property
    def unit(self) -> str:
        return QUANTITIES[self.quantity][0]

    @property
    def harder(self) -> str:
        """"higher" when a larger value is the harder one to reach (tok/s, a reduction), else "lower"."""
        return QUANTITIES[self.quantity][1]

    @property
    def needed(self) -> float:
        """The end of the claimed range that the hardware must reach for the claim to hold."""
        return self.low if self.harder == "higher" else self.high

    def claimed_text(self) -> str:
        """The range in words: ``"5-7 tok/s"``, ``">= 70 %"``, ``"0.028 J"``."""
        fmt = lambda x: f"{x:.4g}"  # noqa: E731
        if self.low == self.high:
            return f"{fmt(self.low)} {self.unit}"
        if self.unit == "%" and self.high >= 100:
            return f">= {fmt(self.low)} %"
        return f"{fmt(self.low)}-{fmt(self.high)} {self.unit}"

    def to_json(self) -> dict:
        return {"id": self.id, "text": self.text, "source": self.source, "origin": self.origin,
                "soc": self.soc, "model": self.model, "quantity": self.quantity, "unit": self.unit,
                "range": [self.low, self.high], "reading": self.reading, "note": self.note,
                "options": dict(self.options), "baseline": None if self.baseline is None else dict(self.baseline)}


def _type_name(t) -> str:
    return {str: "a string", int: "an integer", list: "an array", dict: "a table", float: "a number"}.get(t, str(t))


def _check_type(where: str, key: str, value, t) -> None:
    ok = isinstance(value, t) and not (t is int and isinstance(value, bool))
    if not ok:
        raise ClaimsError(f"{where}: key {key!r} must be {_type_name(t)}, got {value!r}")


def _check_options(where: str, table_key: str, table: dict, allowed: Mapping[str, type]) -> dict:
    out = {}
    for key, value in table.items():
        if key not in allowed:
            raise ClaimsError(f"{where}: unknown key '{table_key}.{key}'; valid: {', '.join(allowed)}")
        _check_type(where, f"{table_key}.{key}", value, allowed[key])
        if allowed[key] is int and value < 1:
            raise ClaimsError(f"{where}: key {table_key}.{key!r} must be >= 1, got {value}")
        out[key] = value
    return out


def _check_range(where: str, value: list) -> tuple[float, float]:
    nums = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(value) != 2 or len(nums) != 2 or not all(math.isfinite(v) for v in nums):
        raise ClaimsError(f"{where}: key 'range' must be [low, high] (two finite numbers), got {value!r}")
    low, high = float(nums[0]), float(nums[1])
    if low > high or low < 0:
        raise ClaimsError(f"{where}: key 'range' must have 0 <= low <= high, got {value!r}")
    return low, high


def _claim(where: str, table, socs: set[str], models: set[str]) -> Claim:
    if not isinstance(table, dict):
        raise ClaimsError(f"{where}: expected a [[claim]] table, got {table!r}")
    for key in table:
        if key not in _REQUIRED and key not in _OPTIONAL:
            raise ClaimsError(f"{where}: unknown key {key!r}; valid: {', '.join([*_REQUIRED, *_OPTIONAL])}")
    for key, t in _REQUIRED.items():
        if key not in table:
            raise ClaimsError(f"{where}: missing key {key!r}")
        _check_type(where, key, table[key], t)
    for key, t in _OPTIONAL.items():
        if key in table:
            _check_type(where, key, table[key], t)
    if not _ID.match(table["id"]):
        raise ClaimsError(f"{where}: key 'id' must be lower-case letters, digits, '.', '_' or '-', "
                          f"got {table['id']!r}")
    where = f"{where} ({table['id']})"
    if table["quantity"] not in QUANTITIES:
        raise ClaimsError(f"{where}: unknown quantity {table['quantity']!r}; valid: {', '.join(QUANTITIES)}")
    if table["soc"] not in socs:
        raise ClaimsError(f"{where}: unknown SoC {table['soc']!r}; valid: {', '.join(sorted(socs))}")
    if table["model"] not in models:
        raise ClaimsError(f"{where}: unknown model preset {table['model']!r}; valid: {', '.join(sorted(models))}")
    low, high = _check_range(where, table["range"])
    options = _check_options(where, "options", table.get("options", {}), OPTION_TYPES)
    baseline = None
    is_reduction = table["quantity"].endswith("_reduction_pct")
    if "baseline" in table:
        if not is_reduction:
            raise ClaimsError(f"{where}: key 'baseline' is only for a *_reduction_pct quantity, "
                              f"not {table['quantity']!r}")
        baseline = _check_options(where, "baseline", table["baseline"], {**OPTION_TYPES, **BASELINE_ONLY})
        if baseline.get("soc", table["soc"]) not in socs:
            raise ClaimsError(f"{where}: unknown SoC baseline.soc {baseline['soc']!r}; "
                              f"valid: {', '.join(sorted(socs))}")
        if baseline.get("model", table["model"]) not in models:
            raise ClaimsError(f"{where}: unknown model preset baseline.model {baseline['model']!r}; "
                              f"valid: {', '.join(sorted(models))}")
    elif is_reduction:
        raise ClaimsError(f"{where}: quantity {table['quantity']!r} needs a [claim.baseline] table "
                          f"(e.g. weight_format = \"f16\")")
    if is_reduction and high > 100:
        raise ClaimsError(f"{where}: key 'range' of a reduction must stay <= 100 %, got {table['range']!r}")
    return Claim(id=table["id"], text=table["text"], source=table["source"], origin=table["origin"],
                 soc=table["soc"], model=table["model"], quantity=table["quantity"], low=low, high=high,
                 reading=table.get("reading", ""), note=table.get("note", ""), options=options, baseline=baseline)


def _known_names() -> tuple[set[str], set[str]]:
    from workbench.reference.config import PRESETS
    from workbench.soc import soc_names

    return set(soc_names()), set(PRESETS)


def claims_from_dict(data: dict, *, where: str = "claims", socs: set[str] | None = None,
                     models: set[str] | None = None) -> list[Claim]:
    """Claims from the parsed TOML `data` (``{"claim": [ ... ]}``).

    Parameters
    ----------
    data : dict
        The parsed file.
    where : str
        The file's name for messages.
    socs, models : set of str, optional
        Valid SoC and model names (default: `workbench.soc.soc_names()` and the model presets).

    Raises
    ------
    ClaimsError : one line naming `where`, the claim and the key.
    """
    if socs is None or models is None:
        known_socs, known_models = _known_names()
        socs = known_socs if socs is None else socs
        models = known_models if models is None else models
    for key in data:
        if key != "claim":
            raise ClaimsError(f"{where}: unknown top-level key {key!r}; a claims file holds [[claim]] tables")
    tables = data.get("claim")
    if not isinstance(tables, list) or not tables:
        raise ClaimsError(f"{where}: no [[claim]] tables")
    claims, seen = [], set()
    for i, table in enumerate(tables):
        claim = _claim(f"{where}: claim {i + 1}", table, socs, models)
        if claim.id in seen:
            raise ClaimsError(f"{where}: claim {i + 1}: duplicate id {claim.id!r}")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def load_claims(path=None, *, only: str | None = None) -> list[Claim]:
    """Read and check a claims file (default: the seed's, `DEFAULT_FILE`).

    Parameters
    ----------
    path : str or Path, optional
        A TOML file of ``[[claim]]`` tables.
    only : str, optional
        Keep only the claim with this id (ClaimsError listing the ids if none has it).

    Raises
    ------
    ClaimsError : a file that is not TOML, or any bad key, type or name (one line).
    """
    p = Path(path) if path is not None else DEFAULT_FILE
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ClaimsError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ClaimsError(f"{p}: not a UTF-8 text file") from None
    claims = claims_from_dict(data, where=str(p))
    if only is not None:
        chosen = [c for c in claims if c.id == only]
        if not chosen:
            raise ClaimsError(f"{p}: no claim with id {only!r}; valid: {', '.join(c.id for c in claims)}")
        claims = chosen
    return claims
