"""Every HVX kernel's emitted C, built for the hexagon_hvx target and run under qemu-hexagon, equals
its functional run bit for bit on all four 2B-4T projection shapes.

Oracle tier (issue 12 deliverables 5-6). Each kernel's Program is emitted as C with clang's HVX
intrinsics, compiled freestanding once per shape (`kernels.codegen.StandaloneKernel`, clang-19
-mv73 -mhvx -mhvx-length=128B, ld.lld) and run behind the target's emulator prefix on real 2B-4T
weights with an extreme activation row (-128/127 heavy: the largest sums every kernel meets); every
output buffer must be byte-identical to `isa_models.core.execute`'s and the int32 rows equal.
Skips when clang-19, ld.lld-19 or qemu-hexagon is missing (CI installs them).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.oracle.emulated_kernels import PROJECTIONS, emulate_2b4t, installed_target

TARGET = installed_target("hexagon_hvx")

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen import StandaloneKernel  # noqa: E402
from kernels.registry import get, kernels  # noqa: E402

KERNELS = ("tman", "i2s", "tq2", "addsub", "fieldmask")


def test_every_hvx_kernel_is_checked():
    assert sorted(KERNELS) == sorted(s.name for s in kernels("hvx") if not s.batched)   # batched: test_hvx_prefill_kernels_qemu.py


@pytest.mark.parametrize("proj", list(PROJECTIONS))
@pytest.mark.parametrize("name", KERNELS)
def test_qemu_equals_functional_on_2b4t(name, proj):
    runner, _, _ = emulate_2b4t(get(name, "hvx"), proj, kinds=("extreme",))
    assert runner.prefix and "qemu-hexagon" in runner.prefix[0]


@pytest.mark.parametrize("name", KERNELS)
def test_qemu_equals_functional_small(name):
    """A fast check on one small shape with extreme activations (the non-slow tier)."""
    spec = get(name, "hvx")
    rng = np.random.default_rng(7)
    m, k = 256, 512
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    q = np.where(rng.random(k) < 0.5, -128, 127).astype(np.int8)
    program = spec.build(m, k, **spec.params)
    buffers = spec.prepare(codes, q, **spec.params)
    got = StandaloneKernel(program)(buffers)
    want = execute(program, buffers)
    assert np.array_equal(spec.result(got), spec.result(want))
    assert np.array_equal(got["acc"], want["acc"])
