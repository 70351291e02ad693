"""benchmarks/probes/<arch>/: every host probe still runs as a script from the repository root
(it finds `_common` in benchmarks/ and its siblings by itself), and cites its own path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBES = sorted((ROOT / "benchmarks" / "probes").glob("*/*.py"))


def test_the_x86_probes_moved_here():
    assert {p.name for p in PROBES if p.parent.name == "x86"} >= {
        "zen4_calibration.py", "zen4_window.py", "microkernels.py", "memory_bandwidth.py"}
    assert not list((ROOT / "benchmarks").glob("zen4_*.py"))
    assert (ROOT / "benchmarks" / "probes" / "x86" / "zen4_calibration.json").is_file()


@pytest.mark.parametrize("script", PROBES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_probe_runs_as_a_script(script):
    done = subprocess.run([sys.executable, str(script.relative_to(ROOT)), "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
    rel = script.relative_to(ROOT).as_posix()
    assert f"python {rel}" in script.read_text()          # its usage line names where it lives
