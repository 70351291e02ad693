"""Test helper: loading a benchmark script (benchmarks/<name>.py) as a module."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import contextmanager
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@contextmanager
def benchmark_script(name: str):
    """Yield `benchmarks/<name>.py` as a module, with benchmarks/ on sys.path while it is used
    (the scripts import their siblings, `_common` and `zen4_calibration`, by name)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
