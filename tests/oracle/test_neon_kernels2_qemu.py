"""The NEON kernels of T-MAC, the decoded-code sdot anchor, the add/subtract anchor and this
workbench's rowdot, as emitted C run under qemu-aarch64, equal their functional runs bit for bit on
all four 2B-4T shapes; their inner loops come out of clang-19 as llvm-mca-ready assembly.

Oracle tier (DESIGN.md §3, use 3; issue 11 deliverable 4), the twin of test_neon_kernels_qemu.py
(bitnet.cpp's and ggml's kernels). Each Program is emitted for the aarch64_neon codegen target,
compiled statically once per shape (`kernels.codegen.StandaloneKernel`) and run behind the target's
emulator prefix on 2B-4T weights with a realistic and an extreme activation row; every output buffer
(T-MAC's fp32 y included, so its float arithmetic is compared bit for bit too) must be byte-identical
to `isa_models.core.execute`'s. Skips when the compiler or qemu-aarch64 is missing (CI installs both).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from kernels.codegen.targets import get_target
from workbench.errors import UnknownNameError

try:
    TARGET = get_target("aarch64_neon")
except UnknownNameError:
    pytest.skip("no aarch64_neon codegen target", allow_module_level=True)
_MISSING = [tool for tool in (TARGET.compilers[0], *(TARGET.emulator or ())[:1]) if shutil.which(tool) is None]
if _MISSING:
    pytest.skip(f"needs {', '.join(_MISSING)} (make test installs them)", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen import StandaloneKernel  # noqa: E402
from kernels.codegen.c_emit import emit_asm, innermost_loops  # noqa: E402
from kernels.registry import get  # noqa: E402
from kernels.verify import activation_cases  # noqa: E402
from workbench.reference import get_preset, random_linear  # noqa: E402

KERNELS = ("rowdot", "sdot", "addsub", "tmac")
PROJECTIONS = {"q": (2560, 2560), "k": (640, 2560), "gate": (6912, 2560), "down": (2560, 6912)}
#: the instruction that does each kernel's work: it must survive compilation into the inner loop
CORE = {"rowdot": "sdot", "sdot": "sdot", "addsub": "sadalp", "tmac": "tbl"}
#: kernel, projection pairs whose functional run and emulation take 4 s or more here
SLOW = {("tmac", "gate"), ("tmac", "down")}


def _cases():
    for name in KERNELS:
        for proj in PROJECTIONS:
            marks = [pytest.mark.slow] if (name, proj) in SLOW else []
            yield pytest.param(name, proj, marks=marks, id=f"{name}-{proj}")


@pytest.mark.parametrize("name, proj", list(_cases()))
def test_qemu_equals_functional_on_2b4t(name, proj):
    spec = get(name, "neon")
    config = get_preset("bitnet-b1.58-2B-4T")
    m, k = config.projection_shape(proj)
    assert (m, k) == PROJECTIONS[proj]
    program = spec.build(m, k, **spec.params)
    runner = StandaloneKernel(program)
    assert not runner.prefix or runner.prefix[0].startswith("qemu-aarch64")
    codes = random_linear(config, 0, proj, seed=0).codes.copy()
    codes[0], codes[1] = 1, -1
    for kind, q in activation_cases(k, seed=k, kinds=("realistic", "extreme")).items():
        buffers = spec.prepare(codes, q, **spec.params)
        want, got = execute(program, buffers), runner(buffers)
        for buf in program.buffers.values():
            if buf.role == "output":
                diff = np.flatnonzero(got[buf.name] != want[buf.name])
                assert not diff.size, f"{name} {m}x{k} {kind}: buffer {buf.name!r} differs from byte {diff[:1]}"
        assert np.array_equal(spec.result(got), spec.result(want))


def _mnemonics(asm: str) -> dict[str, list[str]]:
    out, name = {}, None
    for line in asm.splitlines():
        s = line.strip()
        marker = s.lstrip("/#").strip()                 # the marker comes as "# ..." or "// ..."
        if marker.startswith("LLVM-MCA-BEGIN"):
            name = marker.split(None, 1)[1]
            out[name] = []
        elif marker.startswith("LLVM-MCA-END"):
            name = None
        elif name is not None and s and not s.startswith(("//", "#", ".")) and not s.endswith(":"):
            out[name].append(s.split()[0])
    return out


@pytest.mark.parametrize("name", KERNELS)
def test_inner_loops_are_llvm_mca_ready(name):
    if shutil.which("clang-19") is None or shutil.which("llvm-mca-19") is None:
        pytest.skip("needs clang-19 and llvm-mca-19")
    spec = get(name, "neon")
    program = spec.build(640, 2560, **spec.params)
    asm = emit_asm(program, compiler="clang-19")
    regions = _mnemonics(asm)
    assert len(regions) == len(innermost_loops(program))
    assert any(CORE[name] in " ".join(body) for body in regions.values()), asm[:3000]
    proc = subprocess.run(["llvm-mca-19", "-mtriple=aarch64", "-mcpu=neoverse-v2", "-iterations=100",
                           "-all-views=false", "-summary-view"], input=asm, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:2000]
    reported = re.findall(r"^Block RThroughput:\s+([\d.]+)", proc.stdout, re.M)
    assert len(reported) == len(regions) and all(float(r) > 0 for r in reported)
