"""Every batched (prefill) HVX kernel, as emitted C run under qemu-hexagon, equals its functional run bit
for bit on all four 2B-4T shapes and the reference for every token; its packets assemble with llvm-mc
for every token count and HVX machine.

Oracle tier (issue 9 deliverable 3), the batched twin of tests/oracle/test_hvx_kernels_qemu.py and
tests/oracle/test_hvx_llvm_mc.py. Each kernel's Program is emitted as C with clang's HVX intrinsics,
compiled freestanding (`kernels.codegen.StandaloneKernel`: clang-19 -mv73 -mhvx -mhvx-length=128B,
ld.lld) and run behind qemu-hexagon on 2B-4T weights (rows 0 and 1 all +1 and all -1) with a batch
of tokens mixing the `kernels.verify` activation kinds and an all -128 token; every output buffer
must be byte-identical to `isa_models.core.execute`'s and every token's rows equal
`workbench.reference.ternary_matvec`. The packet assembly (`kernels.codegen.packet_asm`, as
`workbench emit --lang asm` writes it) of N = 2, 4, 8, warm and DMA, must assemble with llvm-mc-19
-mcpu=hexagonv73. Skips when clang-19, ld.lld-19, qemu-hexagon or llvm-mc-19 is missing (CI
installs them).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from tests.oracle.emulated_kernels import PROJECTIONS, installed_target

TARGET = installed_target("hexagon_hvx")

from isa_models.core.execute import execute  # noqa: E402
from isa_models.registry import get_isa  # noqa: E402
from kernels.codegen import StandaloneKernel  # noqa: E402
from kernels.codegen.c_emit import emit_asm  # noqa: E402
from kernels.registry import kernels, read_result  # noqa: E402
from kernels.verify import activation_cases  # noqa: E402
from workbench.reference import get_preset, random_linear, ternary_matvec  # noqa: E402

BATCHED = tuple(spec for spec in kernels("hvx") if spec.batched)
NAMES = ("prefill_vrmpy",)
LLVM_MC = shutil.which("llvm-mc-19")


def token_batch(k: int, n: int, *, seed: int) -> np.ndarray:
    """int8 [n, k]: the realistic, extreme and max `activation_cases` rows and an all -128 row, in turn."""
    cases = list(activation_cases(k, seed=seed).values()) + [np.full(k, -128, np.int8)]
    return np.stack([cases[t % len(cases)] for t in range(n)])


def emulate(spec, codes: np.ndarray, q: np.ndarray, **params) -> np.ndarray:
    """Run `spec` compiled under qemu-hexagon and functionally; every output buffer must match.
    Returns the int32 [N, M] rows of the emulated run."""
    m, k = codes.shape
    program = spec.build(m, k, **params)
    runner = StandaloneKernel(program)
    assert runner.prefix and "qemu-hexagon" in runner.prefix[0]
    buffers = spec.prepare(codes, q, **params)
    want, got = execute(program, buffers), runner(buffers)
    for buf in program.buffers.values():
        if buf.role == "output":
            diff = np.flatnonzero(got[buf.name] != want[buf.name])
            assert not diff.size, f"{spec.name} {m}x{k}: buffer {buf.name!r} differs from byte {diff[:1]}"
    return read_result(spec, got, M=m, K=k, **params)


def test_every_hvx_prefill_kernel_is_covered():
    assert {spec.name for spec in BATCHED} == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("proj", sorted(PROJECTIONS))
def test_qemu_equals_functional_and_reference_on_2b4t(name, proj):
    spec = next(s for s in BATCHED if s.name == name)
    config = get_preset("bitnet-b1.58-2B-4T")
    m, k = config.projection_shape(proj)
    assert (m, k) == PROJECTIONS[proj]
    params = dict(spec.params)
    codes = random_linear(config, 0, proj, seed=0).codes.copy()
    codes[0], codes[1] = 1, -1
    q = token_batch(k, params[spec.tokens_param], seed=k)
    assert np.array_equal(emulate(spec, codes, q, **params), ternary_matvec(q, codes))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n,tiles", [(2, 1), (2, 2), (4, 1), (8, 1)])
def test_qemu_equals_functional_small(name, n, tiles):
    """Every token count and tile count on one small shape (two passes for N = 8)."""
    spec = next(s for s in BATCHED if s.name == name)
    rng = np.random.default_rng(n + tiles)
    m, k = 256, 512
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    q = token_batch(k, n, seed=k)
    params = spec.resolve(**{spec.tokens_param: n, "tiles": tiles})
    assert np.array_equal(emulate(spec, codes, q, **params), ternary_matvec(q, codes))


@pytest.mark.skipif(LLVM_MC is None, reason="llvm-mc-19 not installed (apt-get install llvm-19)")
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("machine", get_isa("hvx").machine_names())
def test_packets_assemble_for_every_token_count(name, machine, tmp_path):
    spec = next(s for s in BATCHED if s.name == name)
    mach = get_isa("hvx").load_machine(machine)
    for n in (2, 4, 8):
        for dma in (0, 1):
            program = spec.build(640, 2560, **spec.resolve(**{spec.tokens_param: n, "dma": dma}))
            src = tmp_path / "p.s"
            src.write_text(emit_asm(program, machine=mach))
            proc = subprocess.run([LLVM_MC, "-triple=hexagon", "-mcpu=hexagonv73", "-mattr=+hvxv73,+hvx-length128b",
                                   "-filetype=obj", "-o", str(tmp_path / "p.o"), str(src)],
                                  capture_output=True, text=True, timeout=60)
            errors = re.findall(r"error: (.*)", proc.stderr)
            assert proc.returncode == 0 and not errors, f"{name} N={n} dma={dma} on {machine}: {errors[:3]}"


@pytest.mark.parametrize("name", NAMES)
def test_packet_assembly_runs_bit_exact(name):
    """The packets as `workbench emit --lang asm` writes them, run under qemu-hexagon, equal the
    functional run on every buffer at 640 x 2560 with N = 8: two passes over each tile, whose
    pointer resets (-81,920 bytes) need constant extenders in the outer loops' address steps."""
    from tests.oracle.test_hvx_packet_asm_qemu import run_asm

    spec = next(s for s in BATCHED if s.name == name)
    program = spec.build(640, 2560, **spec.params)
    asm = emit_asm(program, machine=get_isa("hvx").load_machine("snapdragon-8-gen-3"))
    assert "##-81920" in asm
    codes = np.random.default_rng(3).integers(-1, 2, (640, 2560)).astype(np.int8)
    q = token_batch(2560, 8, seed=3)
    buffers = spec.prepare(codes, q, **spec.params)
    buffers["acc"] = np.zeros(program.buffers["acc"].size, np.uint8)
    got, want = run_asm(program, asm, buffers), execute(program, buffers)
    assert [n for n in program.buffers if not np.array_equal(got[n], want[n])] == []
    assert np.array_equal(read_result(spec, got, M=640, K=2560, **spec.params), ternary_matvec(q, codes))
