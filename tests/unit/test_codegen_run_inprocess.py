"""The in-process runner: a Program's shared library called through ctypes.

Covers kernels.codegen.run.inprocess (InProcessKernel, run_inprocess) and run.buffers
(prepare_buffers, functional_mismatches) on a registered kernel. Skips without gcc or an x86-64
AVX2 CPU (a refusal on another host is tested with a faked one).
"""

from __future__ import annotations

import dataclasses
import platform
import shutil

import numpy as np
import pytest

from kernels.codegen.host import missing_cpu_flags

if platform.machine() not in ("x86_64", "AMD64") or shutil.which("gcc") is None or missing_cpu_flags(["avx2"]):
    pytest.skip("in-process runs need an x86-64 AVX2 CPU and gcc", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen.run import InProcessKernel, functional_mismatches, prepare_buffers, run_inprocess  # noqa: E402
from kernels.codegen.targets import get_target  # noqa: E402
from kernels.registry import kernels  # noqa: E402
from workbench.errors import UserError  # noqa: E402


def tq2_case(M: int = 8, K: int = 256):
    spec = next(s for s in kernels("avx2") if s.name == "tq2")
    rng = np.random.default_rng(11)
    codes = rng.integers(-1, 2, size=(M, K)).astype(np.int8)
    q = rng.integers(-128, 128, size=K).astype(np.int8)
    return spec.build(M, K, **spec.params), spec.prepare(codes, q, **spec.params)


def test_run_inprocess_returns_every_buffer_like_the_executor():
    program, buffers = tq2_case()
    got = run_inprocess(program, buffers)
    want = execute(program, buffers)
    assert list(got) == list(want) and all(np.array_equal(got[n], want[n]) for n in want)
    assert all(a.ctypes.data % 64 == 0 for a in got.values())            # cache-line aligned copies
    assert functional_mismatches(program, buffers, got) == []
    kernel = InProcessKernel(program, compiler="clang" if shutil.which("clang") else "gcc")
    assert kernel.equals_functional(buffers) and kernel.flags == ("-O2", "-mavx2", "-mfma")


def test_prepare_buffers_zeroes_outputs_and_never_aliases_the_callers():
    program, buffers = tq2_case()
    arrays = prepare_buffers(program, buffers)
    for name, buf in program.buffers.items():
        assert arrays[name].nbytes == buf.size
        if name in buffers:
            assert not np.shares_memory(arrays[name], buffers[name])
        else:
            assert not arrays[name].any()


def test_a_host_that_cannot_run_the_target_is_refused_before_loading():
    program, _ = tq2_case()
    elsewhere = dataclasses.replace(get_target("x86_avx2"), host_arches=("riscv64",))
    with pytest.raises(UserError, match=r"cannot run in this process: codegen target x86_avx2 runs on riscv64 hosts"):
        InProcessKernel(program, target=elsewhere)
