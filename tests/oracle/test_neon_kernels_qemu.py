"""Every registered NEON kernel, as emitted C run under qemu-aarch64, equals its functional run bit
for bit on all four 2B-4T shapes; its inner loops come out of clang-19 as llvm-mca-ready assembly.

Oracle tier (DESIGN.md §3, use 3; issue 11 deliverable 4). Each kernel's Program is emitted for the
aarch64_neon codegen target, compiled statically once per shape (`kernels.codegen.StandaloneKernel`),
and run behind the target's emulator prefix on 2B-4T weights with a realistic and an extreme
activation row (TL1, whose functional run is slow: the extreme row only). Every output buffer must
be byte-identical to `isa_models.core.execute`'s (the extreme row drives i2s_mlal's int16 lanes
past their range, so the wraps are compared too; T-MAC's fp32 y is compared bit for bit), and for
every kernel that is not lossy every row inside its bound equals `workbench.reference.ternary_matvec`.
Skips when the compiler or qemu-aarch64 is missing (CI installs both).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.oracle.emulated_kernels import PROJECTIONS, emulate_2b4t, installed_target

TARGET = installed_target("aarch64_neon")

from kernels.codegen.c_emit import emit_asm, innermost_loops  # noqa: E402
from kernels.registry import get, kernels  # noqa: E402
from tests.oracle.mca_regions import llvm_mca, region_bodies  # noqa: E402
from workbench.reference import ternary_matvec  # noqa: E402

KERNELS = tuple(spec.name for spec in kernels("neon") if not spec.batched)   # batched: test_neon_prefill_kernels_qemu.py
#: the instruction that does each kernel's work: it must survive compilation into the inner loop
CORE = {"i2s": "sdot", "i2s_mlal": "smlal", "tl1": "tbl", "tq2": "sdot", "rowdot": "sdot", "sdot": "sdot",
        "addsub": "sadalp", "tmac": "tbl"}
#: kernels whose functional run is slow (TL1's per-step Python loop): the extreme row only
ONE_ROW = {"tl1"}
#: kernel, projection pairs whose functional run and emulation take 4 s or more here
SLOW = {("tl1", "gate"), ("tl1", "down"), ("tl1", "q"), ("tl1", "k"), ("tmac", "gate"), ("tmac", "down")}


def _cases():
    for name in KERNELS:
        for proj in PROJECTIONS:
            marks = [pytest.mark.slow] if (name, proj) in SLOW else []
            yield pytest.param(name, proj, marks=marks, id=f"{name}-{proj}")


@pytest.mark.parametrize("name, proj", list(_cases()))
def test_qemu_equals_functional_on_2b4t(name, proj):
    spec = get(name, "neon")
    kinds = ("extreme",) if name in ONE_ROW else ("realistic", "extreme")
    runner, codes, rows = emulate_2b4t(spec, proj, kinds=kinds)
    assert not runner.prefix or runner.prefix[0].startswith("qemu-aarch64")
    if spec.exactness != "lossy":
        for q, got in rows.values():
            exact = ternary_matvec(q[None], codes)[0]
            inside = spec.bound_holds(codes, q, **spec.params) if spec.bound_holds else np.ones(len(got), bool)
            assert np.array_equal(got[inside], exact[inside])             # the reference, in the bound


@pytest.mark.parametrize("name", KERNELS)
def test_inner_loops_are_llvm_mca_ready(name):
    if shutil.which("clang-19") is None or shutil.which("llvm-mca-19") is None:
        pytest.skip("needs clang-19 and llvm-mca-19")
    assert name in CORE, f"neon kernel {name}: name the instruction that does its work in CORE"
    spec = get(name, "neon")
    program = spec.build(640, 2560, **spec.params)
    asm = emit_asm(program, compiler="clang-19")
    bodies = region_bodies(asm)
    assert len(bodies) == len(innermost_loops(program))
    assert any(CORE[name] in " ".join(body) for body in bodies.values()), asm[:3000]
    regions = llvm_mca(asm, "neoverse-v2", triple="aarch64", tool="llvm-mca-19", iterations=100)
    assert len(regions) == len(bodies) and all(r["rthroughput"] > 0 for r in regions)
