"""The plug-in rule and the import direction, checked on the source (DESIGN.md §2, §8).

Nothing above the engines names an ISA: in `workbench/` and the generic kernel modules, no code
token (docstrings and comments aside) contains the word avx2, npu, ymm, __m256 or rdtsc. The
literal pattern of the issue (``grep -E "avx2|npu|..."``) also matches "i-npu-t" (and Hugging
Face's ``input_layernorm`` tensor names), so the check is on whole words. The engine layer
(`isa_models.core`) imports nothing of the project but the leaf `workbench.errors`.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: an ISA word not preceded by a letter: "ymm0", "__m256i", "npu_gemm" count, "inputs" does not
ISA_WORDS = re.compile(r"(?<![A-Za-z])(avx2|npu|neon|hvx|hexagon|aarch64|ymm|__m256|rdtsc|qemu-)", re.IGNORECASE)
GENERIC = ["workbench", "kernels/registry.py", "kernels/verify.py", "kernels/search",
           "kernels/codegen/c_emit.py", "kernels/codegen/build.py", "kernels/codegen/native.py",
           "kernels/codegen/run", "kernels/codegen/host.py", "isa_models/registry.py"]


def _python_files(rel: str) -> list[Path]:
    p = ROOT / rel
    return [p] if p.is_file() else sorted(p.rglob("*.py"))


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def isa_words_in_code(path: Path) -> list[str]:
    """'file:line: token' for every code token naming an ISA (docstrings and comments skipped)."""
    src = path.read_text()
    doc = _docstring_lines(ast.parse(src))
    hits = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT or (tok.type == tokenize.STRING and tok.start[0] in doc):
            continue
        if ISA_WORDS.search(tok.string):
            hits.append(f"{path.name}:{tok.start[0]}: {tok.string[:80]}")
    return hits


@pytest.mark.parametrize("rel", GENERIC)
def test_nothing_above_the_engines_names_an_isa(rel):
    hits = [h for f in _python_files(rel) for h in isa_words_in_code(f)]
    assert not hits, "\n".join(hits)


def test_the_check_finds_an_isa_name_in_code(tmp_path):
    f = tmp_path / "probe.py"
    f.write_text('"""avx2 in a docstring is fine."""\n# npu in a comment too\nX = "ymm0"\ninputs = 1\n'
                 'def f():\n    """__m256i here is fine"""\n    return "__m256i"\n')
    assert isa_words_in_code(f) == ['probe.py:3: "ymm0"', 'probe.py:7: "__m256i"']


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_the_engine_layer_imports_nothing_above_it():
    project = ("workbench", "kernels", "rtl", "sims", "isa_models")
    bad = []
    for f in _python_files("isa_models/core"):
        for mod in _imports(f):
            top = mod.split(".")[0]
            if top in project and not (mod.startswith("isa_models.core") or mod == "workbench.errors"):
                bad.append(f"{f.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_isa_packages_import_only_the_core_and_the_registry():
    bad = []
    for pkg in (ROOT / "isa_models").iterdir():
        if not (pkg / "__init__.py").is_file() or pkg.name in ("core", "machines"):
            continue
        for f in _python_files(f"isa_models/{pkg.name}"):
            for mod in _imports(f):
                top = mod.split(".")[0]
                if top in ("workbench", "kernels", "rtl", "sims") and mod != "workbench.errors":
                    bad.append(f"{f.relative_to(ROOT)} imports {mod}")
                if mod.startswith("isa_models.") and not mod.startswith(
                        ("isa_models.core", "isa_models.registry", f"isa_models.{pkg.name}")):
                    bad.append(f"{f.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)
