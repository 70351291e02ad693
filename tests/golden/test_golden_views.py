"""Golden reports of the views (tests/golden/*.txt): each case re-rendered equals its file byte for byte.

A difference is either a regression in a view or the timing engine, or an intended change: then
rerun ``python tests/golden/update_goldens.py`` and review the diff of the golden files.
"""

from __future__ import annotations

import difflib

import pytest
from update_goldens import CASES, GOLDEN_DIR, render


def test_every_golden_file_is_a_case():
    assert sorted(p.name for p in GOLDEN_DIR.glob("*.txt")) == sorted(c.path.name for c in CASES)
    assert {c.view for c in CASES} == {"summary", "pressure", "timeline", "bottleneck"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.name)
def test_view_text_equals_its_golden_file(case):
    want = case.path.read_text()
    got = render(case)
    if got != want:
        diff = "".join(list(difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"{case.path.name}",
                                                 "rendered now"))[:60])
        pytest.fail(f"{case.path.name} differs from the rendered view (intended? run "
                    f"`python tests/golden/update_goldens.py`):\n{diff}")
    assert want.startswith(f"# golden: {case.view} view of kernel {case.kernel}/{case.isa}")
    assert "%ymm" not in want                       # virtual registers print as %v<N>
