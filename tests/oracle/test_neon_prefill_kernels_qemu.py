"""Every batched (prefill) NEON kernel, as emitted C run under qemu-aarch64, equals its functional
run bit for bit on all four 2B-4T shapes and the reference for every token; its inner loop comes
out of clang-19 with the kernel's instruction, no stack spill, and llvm-mca-ready.

Oracle tier (issue 9 deliverable 3), the batched twin of tests/oracle/test_neon_kernels_qemu.py.
Each kernel's Program (default parameters, N tokens) is emitted for the aarch64_neon codegen
target with the flags of every extension it needs (i8mm for smmla), compiled statically
(`kernels.codegen.StandaloneKernel`) and run behind ``qemu-aarch64 -cpu max`` on 2B-4T weights
(rows 0 and 1 all +1 and all -1) with a batch of tokens mixing the `kernels.verify` activation
kinds and an all -128 token. Every output buffer must be byte-identical to
`isa_models.core.execute`'s and every token's rows equal `workbench.reference.ternary_matvec`.
Skips when clang-19 or qemu-aarch64 is missing (CI installs both).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.oracle.emulated_kernels import PROJECTIONS, installed_target

TARGET = installed_target("aarch64_neon")

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen import StandaloneKernel  # noqa: E402
from kernels.codegen.c_emit import emit_asm, innermost_loops  # noqa: E402
from kernels.registry import kernels, read_result  # noqa: E402
from kernels.verify import activation_cases  # noqa: E402
from tests.oracle.mca_regions import llvm_mca, region_bodies  # noqa: E402
from workbench.reference import get_preset, random_linear, ternary_matvec  # noqa: E402

BATCHED = tuple(spec for spec in kernels("neon") if spec.batched)
#: the instruction that does each kernel's work: it must survive compilation into the inner loop
CORE = {"prefill_smmla": "smmla", "prefill_sdot": "sdot"}


def token_batch(k: int, n: int, *, seed: int) -> np.ndarray:
    """int8 [n, k]: the realistic, extreme and max `activation_cases` rows and an all -128 row, in turn."""
    cases = list(activation_cases(k, seed=seed).values()) + [np.full(k, -128, np.int8)]
    return np.stack([cases[t % len(cases)] for t in range(n)])


def test_every_neon_prefill_kernel_is_covered():
    assert {spec.name for spec in BATCHED} == set(CORE)


@pytest.mark.parametrize("name", sorted(CORE))
@pytest.mark.parametrize("proj", sorted(PROJECTIONS))
def test_qemu_equals_functional_and_reference_on_2b4t(name, proj):
    spec = next(s for s in BATCHED if s.name == name)
    config = get_preset("bitnet-b1.58-2B-4T")
    m, k = config.projection_shape(proj)
    assert (m, k) == PROJECTIONS[proj]
    params = dict(spec.params)
    program = spec.build(m, k, **params)
    runner = StandaloneKernel(program)
    assert runner.prefix and runner.prefix[0].startswith("qemu-aarch64")
    codes = random_linear(config, 0, proj, seed=0).codes.copy()
    codes[0], codes[1] = 1, -1
    q = token_batch(k, params[spec.tokens_param], seed=k)
    buffers = spec.prepare(codes, q, **params)
    want, got = execute(program, buffers), runner(buffers)
    for buf in program.buffers.values():
        if buf.role == "output":
            diff = np.flatnonzero(got[buf.name] != want[buf.name])
            assert not diff.size, f"{name} {m}x{k}: buffer {buf.name!r} differs from byte {diff[:1]}"
    rows = read_result(spec, got, M=m, K=k, **params)
    assert np.array_equal(rows, ternary_matvec(q, codes))


@pytest.mark.parametrize("name", sorted(CORE))
def test_inner_loop_is_llvm_mca_ready_without_spills(name):
    if shutil.which("clang-19") is None or shutil.which("llvm-mca-19") is None:
        pytest.skip("needs clang-19 and llvm-mca-19")
    spec = next(s for s in BATCHED if s.name == name)
    program = spec.build(640, 2560, **spec.params)
    asm = emit_asm(program, compiler="clang-19")
    bodies = region_bodies(asm)
    assert len(bodies) == len(innermost_loops(program)) == 1
    body = next(iter(bodies.values()))
    assert any(CORE[name] in line for line in body), body
    assert not any("sp" in line.replace(",", " ").replace("[", " ").replace("]", " ").split() for line in body), body
    regions = llvm_mca(asm, "neoverse-v2", triple="aarch64", tool="llvm-mca-19", iterations=100)
    assert len(regions) == 1 and regions[0]["rthroughput"] > 0
