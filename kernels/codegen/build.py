"""Compile generated C into a shared library, an executable or assembly, cached by source hash.

Codegen layer (`kernels.codegen`), under the runners (`run.inprocess`, `run.standalone`) and
`c_emit.emit_asm`. The compiler and flags come from the codegen target (`Target.compilers`,
`Target.flags_for`); this module only runs them: one artefact per (compiler, flags, source, kind)
hash under the build directory, reused across runs. Build directory: ``$WORKBENCH_BUILD_DIR`` or
``~/.cache/ternary-workbench/native``. A missing compiler is a UserError (install it); a compiler
that rejects generated C is a BuildError naming the source file and quoting the diagnostics.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.errors import UserError

__all__ = ["BuildError", "build_dir", "compiler_path", "compile_shared", "compile_executable", "compile_asm"]


class BuildError(RuntimeError):
    """The compiler rejected generated C (a template or emitter bug): the message names the
    compiler, the kept source file and the compiler's diagnostics."""


def build_dir() -> Path:
    """Where compiled kernels are cached."""
    env = os.environ.get("WORKBENCH_BUILD_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ternary-workbench" / "native"


def compiler_path(compiler: str) -> str:
    """The path of `compiler` on PATH; a missing one is a UserError naming it."""
    path = shutil.which(compiler)
    if path is None:
        raise UserError(f"codegen: compiler {compiler!r} not found on PATH (install it, or pick another)")
    return path


def _cached(source: str, flags, compiler: str, suffix: str) -> tuple[Path, bool]:
    key = hashlib.sha256("\0".join([compiler, *flags, suffix, source]).encode()).hexdigest()[:24]
    out = build_dir() / f"wb_{key}{suffix}"
    return out, out.exists()


def _build(source: str, *, flags, compiler: str, suffix: str, mode: list[str]) -> Path:
    """Compile `source` with `flags` + `mode` into the cache (suffix names the artefact kind)."""
    flags = tuple(flags)
    out, hit = _cached(source, flags, compiler, suffix)
    if hit:
        return out
    path = compiler_path(compiler)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / (out.stem + ".c")
        src.write_text(source)
        artefact = Path(tmp) / out.name
        cmd = [path, *flags, *mode, "-o", str(artefact), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        kept = out.with_suffix(".c")
        shutil.copy(src, kept)                  # kept beside the artefact: the file errors quote
        if proc.returncode != 0:
            raise BuildError(f"codegen: {compiler} failed on {kept} ({' '.join([compiler, *flags, *mode])}):\n"
                             f"{proc.stderr.replace(str(src), str(kept)).strip()[:4000]}")
        os.replace(artefact, out)
    return out


def compile_shared(source: str, *, flags, compiler: str) -> Path:
    """Compile C `source` into a shared library and return its path (cached by hash)."""
    return _build(source, flags=flags, compiler=compiler, suffix=".so", mode=["-fPIC", "-shared"])


def compile_executable(source: str, *, flags, compiler: str) -> Path:
    """Compile C `source` (with its ``main``) into an executable and return its path (cached)."""
    return _build(source, flags=flags, compiler=compiler, suffix=".exe", mode=[])


def compile_asm(source: str, *, flags, compiler: str) -> str:
    """Compile C `source` to assembly text with the same flags as `compile_shared`."""
    return _build(source, flags=flags, compiler=compiler, suffix=".s",
                  mode=["-fno-asynchronous-unwind-tables", "-S"]).read_text()
