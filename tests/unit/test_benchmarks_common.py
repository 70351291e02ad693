"""benchmarks/_common.py: write_section touches only its own section; machine facts are real."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_common.py"
_spec = importlib.util.spec_from_file_location("benchmarks_common", _PATH)
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def test_write_section_replaces_only_its_own_section(tmp_path):
    doc = tmp_path / "docs" / "benchmarks.md"
    common.write_section("a.py", "first A", doc=doc)
    assert doc.read_text().startswith("# Benchmarks") and "<!-- BEGIN a.py -->\nfirst A\n<!-- END a.py -->" \
        in doc.read_text()
    common.write_section("b.py", "B text\n\n| x |\n", doc=doc)
    before = doc.read_text()
    common.write_section("a.py", "second A\nline 2", doc=doc)
    after = doc.read_text()
    assert "first A" not in after and "<!-- BEGIN a.py -->\nsecond A\nline 2\n<!-- END a.py -->" in after
    tail = before[before.index("<!-- END a.py -->"):]
    assert after.endswith(tail)                       # b.py's section and everything after: byte for byte
    assert after.count("BEGIN") == 2 and after.index("a.py") < after.index("b.py")


def test_write_section_refuses_a_broken_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\n<!-- BEGIN a.py -->\nno end marker\n")
    with pytest.raises(ValueError, match="broken section 'a.py'"):
        common.write_section("a.py", "x", doc=doc)
    assert doc.read_text() == "# B\n\n<!-- BEGIN a.py -->\nno end marker\n"


def test_machine_facts_and_load():
    facts = common.machine_facts()
    assert facts["cores"] >= 1 and facts["model_name"] and facts["model_name"] != "unknown CPU"
    assert common.machine_note().startswith(facts["model_name"])
    assert common.load_average() >= 0


def test_script_path_is_relative_to_the_repository():
    probe = common.ROOT / "benchmarks" / "probes" / "x86" / "zen4_window.py"
    assert common.script_path(probe) == "benchmarks/probes/x86/zen4_window.py"
    assert common.script_path(str(_PATH)) == "benchmarks/_common.py"
    with pytest.raises(ValueError, match="is not inside the repository"):
        common.script_path("/")
