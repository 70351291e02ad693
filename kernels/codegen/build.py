"""Compile generated C into a shared library (cached by source hash) and describe the host CPU.

Codegen layer (`kernels.codegen`). Both the native kernel harness (`native.NativeKernel`) and the
native AVX2 oracle test build C this way: the system compiler with ``-O2 -mavx2 -mfma`` plus the
flags the instructions' ``requires`` attrs name (``-mavx512vl -mavx512vnni`` for vpdpbusd), one
``.so`` per (compiler, flags, source) hash under the build directory, reused across runs.
Build directory: ``$WORKBENCH_BUILD_DIR`` or ``~/.cache/ternary-workbench/native``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BASE_FLAGS", "build_dir", "compile_shared", "compile_asm", "cpu_flags", "machine_info", "host_machine", "host_check",
           "measurement_compiler",
           "describe_host",
           "missing_cpu_flags", "flags_for"]

BASE_FLAGS = ("-O2", "-mavx2", "-mfma")


def build_dir() -> Path:
    """Where compiled kernels are cached."""
    env = os.environ.get("WORKBENCH_BUILD_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ternary-workbench" / "native"


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.split("\n\n", 1)[0].splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            info.setdefault(key.strip(), value.strip())
    return info


def cpu_flags() -> frozenset[str]:
    """The /proc/cpuinfo flags of this machine (empty if unreadable)."""
    return frozenset(_cpuinfo().get("flags", "").split())


def missing_cpu_flags(required) -> list[str]:
    """Those of `required` (cpuinfo flag names) this CPU lacks."""
    have = cpu_flags()
    return [f for f in required if f not in have]


def machine_info() -> dict[str, object]:
    """Model name, family, model and stepping of this CPU, as /proc/cpuinfo reports them."""
    info = _cpuinfo()
    return {"model_name": info.get("model name", "unknown"), "vendor": info.get("vendor_id", "unknown"),
            "family": int(info["cpu family"]) if "cpu family" in info else None,
            "model": int(info["model"]) if info.get("model", "").isdigit() else None,
            "stepping": int(info["stepping"]) if info.get("stepping", "").isdigit() else None}


def host_machine(isa: str = "avx2"):
    """The machine of `isa` whose ``[host]`` table matches this CPU, or None.

    Native timings are only comparable with the model of the core they ran on: benchmarks pick
    their machine with this and refuse a host that no machine models (the same checkout runs on
    an AMD Zen 4 one day and on an Intel Granite Rapids core the next).
    """
    from isa_models.core.machine import load_machine, machine_names

    info, flags = machine_info(), cpu_flags()
    for name in machine_names(isa):
        machine = load_machine(name, isa=isa)
        if machine.host is not None and machine.host.matches(
                vendor=str(info["vendor"]), family=info["family"], model=info["model"], flags=flags):
            return machine
    return None


def measurement_compiler() -> str:
    """The compiler for code whose cycles are compared with a model: clang when on PATH (it
    compiles the emitted C nearly one instruction per Program instruction), else gcc (gcc 12 adds
    register copies around vpdpbusd and spills in tl2: benchmarks/fidelity.py)."""
    return "clang" if shutil.which("clang") else "gcc"


def host_check(wanted: str | None = None, isa: str = "avx2"):
    """``(machine, None)`` when the machine of `isa` that models this CPU exists and is `wanted`
    (any, when None); else ``(machine or None, reason)``, the reason one clause naming this CPU
    and what models it, for the caller's one-line refusal or skip."""
    machine = host_machine(isa)
    if machine is not None and wanted in (None, machine.name):
        return machine, None
    modelled = f"no {isa} machine" if machine is None else f"machine {machine.name}"
    return machine, (f"this host, {describe_host()}, is modelled by {modelled} (`workbench machines`; "
                     f"the [host] tables of isa_models/machines/{isa}/*.toml)")


def describe_host() -> str:
    """One line naming this CPU as /proc/cpuinfo does (model name, vendor, family, model)."""
    info = machine_info()
    return f"{info['model_name']} ({info['vendor']}, family {info['family']}, model {info['model']})"


def flags_for(required) -> tuple[str, ...]:
    """Compiler flags for the cpuinfo feature names in `required` (besides the base AVX2 flags)."""
    from isa_models.avx2 import CPU_FLAG_TO_GCC
    extra = []
    for feature in required:
        if feature not in CPU_FLAG_TO_GCC:
            raise ValueError(f"codegen: no compiler flag known for CPU feature {feature!r}")
        if CPU_FLAG_TO_GCC[feature] not in BASE_FLAGS and CPU_FLAG_TO_GCC[feature] not in extra:
            extra.append(CPU_FLAG_TO_GCC[feature])
    return BASE_FLAGS + tuple(extra)


def _compiler(compiler: str) -> str:
    path = shutil.which(compiler)
    if path is None:
        raise OSError(f"codegen: compiler {compiler!r} not found on PATH")
    return path


def _cached(source: str, flags, compiler: str, suffix: str) -> tuple[Path, bool]:
    key = hashlib.sha256("\0".join([compiler, *flags, source]).encode()).hexdigest()[:24]
    out = build_dir() / f"wb_{key}{suffix}"
    return out, out.exists()


def _run(cmd: list[str], source_path: Path) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise OSError(f"codegen: {cmd[0]} failed on {source_path}:\n{proc.stderr.strip()[:4000]}")


def compile_shared(source: str, *, flags=BASE_FLAGS, compiler: str = "gcc") -> Path:
    """Compile C `source` into a shared library and return its path (cached by hash)."""
    out, hit = _cached(source, flags, compiler, ".so")
    if hit:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / (out.stem + ".c")
        src.write_text(source)
        lib = Path(tmp) / out.name
        _run([_compiler(compiler), *flags, "-fPIC", "-shared", "-o", str(lib), str(src)], src)
        shutil.copy(src, out.with_suffix(".c"))
        os.replace(lib, out)
    return out


def compile_asm(source: str, *, flags=BASE_FLAGS, compiler: str = "gcc") -> str:
    """Compile C `source` to assembly text (AT&T) with the same flags as `compile_shared`."""
    out, hit = _cached(source, flags, compiler, ".s")
    if hit:
        return out.read_text()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / (out.stem + ".c")
        src.write_text(source)
        asm = Path(tmp) / out.name
        _run([_compiler(compiler), *flags, "-fno-asynchronous-unwind-tables", "-S", "-o", str(asm),
              str(src)], src)
        os.replace(asm, out)
    return out.read_text()
