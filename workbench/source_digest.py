"""A digest of the project's own source files: the code version that keys on-disk result caches.

Leaf helper (imports nothing of the project). `workbench.projection.engines` keys its cached kernel
timings by the engine layer's source, `workbench.sweep.execute` its sweep points by the sources of
everything a point runs, so a changed model never serves an old result. Independent of git:
uncommitted edits count.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

__all__ = ["source_digest", "ROOT"]

#: the checkout's top folder (the one holding workbench/, isa_models/, kernels/)
ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def source_digest(dirs: tuple[str, ...], patterns: tuple[str, ...] = ("*.py",)) -> str:
    """sha256 over the path (relative to `ROOT`) and bytes of every file matching `patterns` under
    each folder of `dirs` (relative to `ROOT`), in path order; computed once per process."""
    digest = hashlib.sha256()
    files = sorted({p for d in dirs for pattern in patterns for p in (ROOT / d).rglob(pattern)
                    if "__pycache__" not in p.parts})
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
