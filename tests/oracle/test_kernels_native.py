"""Every registered AVX2 kernel's emitted C, compiled and run on this CPU, equals its functional run.

Oracle tier (DESIGN.md §3, use 3; §5: native execution on the x86 host). For a small shape and a
2B-4T shape (640x2560, the k/v projection) each kernel is built once, fed the same buffers (real
weights packed by its `prepare`, a realistic and an extreme activation row), run by
`isa_models.core.execute` and by `kernels.codegen.NativeKernel`; every output buffer must be
byte-identical, and so must the accumulators `result` derives from them. Skips without gcc or
an AVX2 CPU (and per kernel when it needs a feature this CPU lacks, e.g. AVX512-VNNI).
"""

from __future__ import annotations

import platform
import shutil

import numpy as np
import pytest

from kernels.codegen.host import missing_cpu_flags

if platform.machine() not in ("x86_64", "AMD64") or shutil.which("gcc") is None or missing_cpu_flags(["avx2"]):
    pytest.skip("native kernel runs need an x86-64 AVX2 host with gcc", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen.c_emit import program_requirements  # noqa: E402
from kernels.codegen.native import NativeKernel  # noqa: E402
from kernels.registry import kernels, read_result  # noqa: E402
from workbench.quant import quantize_activations  # noqa: E402
from workbench.reference import get_preset, random_linear  # noqa: E402

AVX2_KERNELS = [s.name for s in kernels("avx2")]


def small_shape(spec) -> tuple[int, int]:
    """The smallest (M, K) with K >= 256 the kernel supports (its tile constraints)."""
    for K in (256, 384, 512, 768, 1024):
        for M in (8, 16, 32, 64, 128):
            if spec.supports(M, K):
                return M, K
    raise AssertionError(f"kernel {spec.name}: no small shape supported")


def inputs(M: int, K: int, *, seed: int):
    codes = random_linear(get_preset("bitnet-b1.58-2B-4T"), 0, "k", seed=seed).codes[:M, :K].copy()
    rng = np.random.default_rng(seed)
    realistic = quantize_activations(rng.standard_t(4, size=K).astype(np.float32))[0]
    extreme = rng.choice(np.array([-128, 127], np.int8), size=K)
    return codes, {"realistic": realistic, "extreme": extreme}


@pytest.mark.parametrize("name", AVX2_KERNELS)
@pytest.mark.parametrize("size", ["small", "2B-4T k"])
def test_native_equals_functional(name, size):
    spec = next(s for s in kernels("avx2") if s.name == name)
    M, K = small_shape(spec) if size == "small" else (640, 2560)
    assert spec.supports(M, K), f"{name} must support the 2B-4T shape {M}x{K}"
    program = spec.build(M, K, **spec.params)
    missing = missing_cpu_flags(program_requirements(program))
    if missing:
        pytest.skip(f"{name} needs CPU features {missing}")
    native = NativeKernel(program)
    codes, rows = inputs(M, K, seed=M + K)
    for kind, q in rows.items():
        if spec.batched:               # a batched (prefill) kernel: the row and N-1 shifted copies
            q = np.stack([np.roll(q, t) for t in range(spec.params[spec.tokens_param])])
        buffers = spec.prepare(codes, q, **spec.params)
        want = execute(program, buffers)
        got = native(buffers)
        for buf in program.buffers.values():
            if buf.role == "output":
                assert np.array_equal(got[buf.name], want[buf.name]), \
                    f"{name} {M}x{K} {kind}: output buffer {buf.name!r} differs natively " \
                    f"(first byte {int(np.flatnonzero(got[buf.name] != want[buf.name])[0])})"
        assert np.array_equal(np.asarray(read_result(spec, got, M=M, K=K, **spec.params)),
                              np.asarray(read_result(spec, want, M=M, K=K, **spec.params)))
