"""Every notebook of docs/notebooks/ is committed without outputs and runs top to bottom.

Mirrors docs/notebooks/render.py: each notebook is executed in a fresh kernel of this Python, so a
failing cell (an assertion in the notebook, an API that changed under it) fails the suite.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("notebook_render", ROOT / "docs" / "notebooks" / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

NOTEBOOKS = render.notebooks()


def test_there_are_notebooks():
    assert NOTEBOOKS, "docs/notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    assert render.unexecuted_problem(nbformat.read(path, as_version=4)) is None


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    nb = render.execute(path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
