"""Execute the notebooks of docs/notebooks/ and write their rendered copies (with outputs).

Documentation tooling, outside the package: `make docs` runs it; tests/docs/test_notebooks.py imports
`execute` to run each notebook in the suite (a failing cell fails the test). Notebooks are committed
without outputs; `render.py` executes each one in a fresh kernel of this Python (the venv's ipykernel),
with docs/notebooks/ as the working directory, and writes docs/notebooks/rendered/<name>.ipynb.

    python docs/notebooks/render.py                 # every notebook
    python docs/notebooks/render.py hvx_kernels     # one (name with or without .ipynb)
    python docs/notebooks/render.py --check         # execute only, write nothing
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent
RENDERED = HERE / "rendered"
#: seconds one cell may take before the run fails (the whole notebook must stay under two minutes)
CELL_TIMEOUT = 240


def notebooks() -> list[Path]:
    """The notebooks of docs/notebooks/, sorted by name (rendered copies excluded)."""
    return sorted(HERE.glob("*.ipynb"))


def unexecuted_problem(nb) -> str | None:
    """Why a committed notebook is not clean (a code cell with outputs or an execution count), or None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            return f"cell {i} has outputs or an execution count: commit notebooks without outputs"
    return None


def execute(path: Path, *, timeout: int = CELL_TIMEOUT):
    """Execute the notebook at `path` in a fresh kernel of this Python; return the executed notebook.

    Raises nbclient's CellExecutionError (with the failing cell's traceback) when a cell fails.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    # The kernel must be this interpreter (the venv), whatever kernelspecs the user has installed.
    client.kernel_manager_class = _ThisPythonKernelManager
    client.execute()
    return nb


def _this_python_kernel_manager():
    from jupyter_client.manager import KernelManager

    class ThisPythonKernelManager(KernelManager):
        @property
        def kernel_spec(self):
            from jupyter_client.kernelspec import KernelSpec
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name=f"Python ({sys.executable})", language="python")

    return ThisPythonKernelManager


_ThisPythonKernelManager = _this_python_kernel_manager()


def _select(names: list[str]) -> list[Path]:
    if not names:
        return notebooks()
    out = []
    for name in names:
        path = HERE / (name if name.endswith(".ipynb") else f"{name}.ipynb")
        if not path.is_file():
            valid = ", ".join(p.stem for p in notebooks())
            raise SystemExit(f"render.py: error: no notebook {name!r} in docs/notebooks (valid: {valid})")
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Execute docs/notebooks/*.ipynb and write rendered copies.")
    parser.add_argument("names", nargs="*", help="notebook names (default: all)")
    parser.add_argument("--check", action="store_true", help="execute only; write nothing")
    args = parser.parse_args(argv)
    RENDERED.mkdir(exist_ok=True)
    for path in _select(args.names):
        start = time.perf_counter()
        try:
            nb = execute(path)
        except CellExecutionError as exc:
            print(f"{path.name}: FAILED\n{exc}", file=sys.stderr)
            return 1
        seconds = time.perf_counter() - start
        if not args.check:
            nbformat.write(nb, RENDERED / path.name)
        print(f"{path.name}: executed in {seconds:.1f} s" + ("" if args.check else f" -> {RENDERED.relative_to(HERE.parent.parent) / path.name}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
