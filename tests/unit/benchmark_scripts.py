"""Test helper: loading a benchmark script (benchmarks/<name>.py, benchmarks/probes/<arch>/<name>.py) as a module."""

from __future__ import annotations

import importlib.util
import sys
from contextlib import contextmanager
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@contextmanager
def benchmark_script(name: str):
    """Yield `benchmarks/<name>.py` as a module (`name` may be a relative path such as
    ``"probes/x86/microkernels"``), with benchmarks/ and the script's own directory on sys.path
    while it is used (the scripts import `_common` and their siblings, e.g. `zen4_calibration`, by
    name, as they do when run as ``python benchmarks/.../<name>.py``)."""
    script = BENCHMARKS / f"{name}.py"
    if not script.is_file():
        raise FileNotFoundError(f"benchmark_script: no benchmark script {script}")
    paths = list(dict.fromkeys([str(BENCHMARKS), str(script.parent)]))
    sys.path[:0] = paths
    try:
        spec = importlib.util.spec_from_file_location(script.stem, script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        for path in paths:
            sys.path.remove(path)
