"""The Pareto front of a sweep: the points no other point beats on both objectives.

Sweep layer (`workbench.sweep`), after the table. Each objective is a result column minimised or
maximised (`spec.OBJECTIVES`). Only points that produced a usable result take part: verdict
VERIFIED, LOSSY (a lossy kernel's speed is a real trade against its error) or PROJECTED, with both
objectives finite numbers; FAILED points are plotted but never on the front, UNSUPPORTED points
have no numbers. `plot.plot_pareto` draws the result.
"""

from __future__ import annotations

import math

__all__ = ["FRONT_VERDICTS", "pareto_front", "candidates", "point_label"]

#: verdicts of the points that may be on the front
FRONT_VERDICTS = ("VERIFIED", "LOSSY", "PROJECTED")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def candidates(rows: list[dict], objectives, directions=None) -> list[int]:
    """Indices of the rows that may be on the front: a `FRONT_VERDICTS` verdict and both
    objectives finite numbers."""
    return [i for i, row in enumerate(rows)
            if row.get("verdict") in FRONT_VERDICTS and all(_number(row.get(o)) is not None for o in objectives)]


def pareto_front(rows: list[dict], objectives, directions) -> list[int]:
    """Indices of the non-dominated rows among `candidates`, sorted by the first objective (best
    first) then the second. A row is dominated when another is at least as good on both
    objectives and strictly better on one ("min": smaller is better, "max": larger)."""
    signs = [1.0 if d == "min" else -1.0 for d in directions]
    idx = candidates(rows, objectives)
    keyed = [(tuple(s * float(rows[i][o]) for s, o in zip(signs, objectives)), i) for i in idx]
    keyed.sort()
    front, best_second = [], math.inf
    for (first, second), i in keyed:          # sorted by first objective: keep strict improvements in the second
        if second < best_second:
            front.append(i)
            best_second = second
        elif second == best_second and front and (first, second) == tuple(
                s * float(rows[front[-1]][o]) for s, o in zip(signs, objectives)):
            front.append(i)                   # an exact tie with the last front point: both non-dominated
    return front


def point_label(row: dict) -> str:
    """A short name of a point: kernel, machine, shape and swept parameters, or SoC, engine,
    threads and model for a projection."""
    if "soc" in row:
        parts = [row.get("soc"), row.get("resolved_engine") or row.get("engine"),
                 f"{row.get('resolved_threads') or row.get('threads')}t", row.get("model")]
        if row.get("kernel"):
            parts.append(row["kernel"])
        return " ".join(str(p) for p in parts if p is not None)
    params = ",".join(f"{k[6:]}={v}" for k, v in row.items() if k.startswith("param.") and k != "param.machine"
                      and v is not None)
    shape = row.get("shape") or f"{row.get('M')}x{row.get('K')}"
    text = f"{row.get('kernel')}/{row.get('machine')} {shape}"
    return text + (f" [{params}]" if params else "")
