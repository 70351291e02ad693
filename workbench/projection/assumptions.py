"""The projection's own facts and assumptions (`assumptions.toml`): barrier cost, default formats.

Projection layer (`workbench.projection`), read by `engines` and `project`. Values that belong to
no machine or SoC file: the cost of the thread barrier that ends every op of a multi-threaded
token (ggml's ggml_barrier), and the format the embedding table ships in. Each value carries its
source (`source_of`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Assumptions", "load_assumptions", "ASSUMPTIONS_PATH"]

ASSUMPTIONS_PATH = Path(__file__).resolve().parent / "assumptions.toml"


@dataclass(frozen=True)
class Assumptions:
    barrier_threads: tuple[int, ...]
    barrier_us: tuple[float, ...]
    embedding_format: str
    sources: dict

    def barrier_seconds(self, threads: int) -> float:
        """Seconds of one barrier among `threads` threads (0 for one thread): linear between the
        points of the table, the last slope beyond it."""
        if threads <= 1:
            return 0.0
        xs, ys = self.barrier_threads, self.barrier_us
        for k in range(1, len(xs)):
            if threads <= xs[k] or k == len(xs) - 1:
                x0, x1, y0, y1 = xs[k - 1], xs[k], ys[k - 1], ys[k]
                return max(0.0, y0 + (y1 - y0) * (threads - x0) / (x1 - x0)) * 1e-6
        return ys[-1] * 1e-6

    def source_of(self, key: str) -> str:
        return self.sources[key]


@lru_cache(maxsize=None)
def load_assumptions(path: str | None = None) -> Assumptions:
    """Read `assumptions.toml` (or `path`); a missing or mistyped key raises ValueError naming it."""
    p = Path(path) if path else ASSUMPTIONS_PATH
    data = tomllib.loads(p.read_text())
    sources = {}
    for table in ("barrier", "formats"):
        t = data[table]
        for key in t:
            if key not in ("source", "sources"):
                sources[f"{table}.{key}"] = t.get("sources", {}).get(key, t["source"])
    barrier = data["barrier"]
    threads, us = tuple(int(x) for x in barrier["threads"]), tuple(float(x) for x in barrier["microseconds"])
    if len(threads) != len(us) or len(threads) < 2 or list(threads) != sorted(threads):
        raise ValueError(f"{p}: [barrier] threads and microseconds must be equal-length, sorted, at least 2 points")
    return Assumptions(threads, us, str(data["formats"]["embedding"]), sources)
