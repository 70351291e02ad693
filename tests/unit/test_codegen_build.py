"""Building generated C: cached artefacts per source, flags and kind; clear errors.

Covers kernels.codegen.build (compile_shared, compile_executable, compile_asm, compiler_path,
BuildError) in a temporary build directory. Needs gcc (skips without it).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kernels.codegen import build
from workbench.errors import UserError

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")

SOURCE = "#include <stdio.h>\nint wb_answer(void) { return 42; }\nint main(void) { printf(\"%d\\n\", wb_answer()); }\n"


@pytest.fixture(autouse=True)
def build_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_BUILD_DIR", str(tmp_path))
    return tmp_path


def test_artefacts_are_cached_by_source_flags_and_kind(build_dir):
    exe = build.compile_executable(SOURCE, flags=("-O2",), compiler="gcc")
    assert exe.parent == build_dir and subprocess.run([str(exe)], capture_output=True, text=True).stdout == "42\n"
    assert build.compile_executable(SOURCE, flags=("-O2",), compiler="gcc") == exe
    assert build.compile_executable(SOURCE, flags=("-O1",), compiler="gcc") != exe
    lib = build.compile_shared(SOURCE, flags=("-O2",), compiler="gcc")
    assert lib.suffix == ".so" and lib != exe and lib.with_suffix(".c").read_text() == SOURCE
    assert "wb_answer" in build.compile_asm(SOURCE, flags=("-O2",), compiler="gcc")


def test_a_missing_compiler_and_a_rejected_source(build_dir):
    with pytest.raises(UserError, match="compiler 'no-such-cc' not found on PATH"):
        build.compile_shared(SOURCE, flags=(), compiler="no-such-cc")
    with pytest.raises(build.BuildError, match=r"(?s)gcc failed on \S+\.c \(gcc -O2 -fPIC -shared\):.*"
                                                r"\.c:1:\d+: error"):
        build.compile_shared("int broken(void) { return }\n", flags=("-O2",), compiler="gcc")
    assert list(build_dir.glob("*.so")) == []                  # nothing half-built is cached
