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

import shutil

import numpy as np
import pytest

from kernels.codegen.targets import get_target
from workbench.errors import UnknownNameError

try:
    TARGET = get_target("hexagon_hvx")
except UnknownNameError:
    pytest.skip("no hexagon_hvx codegen target", allow_module_level=True)
_MISSING = [tool for tool in (TARGET.compilers[0], *(TARGET.emulator or ())[:1]) if shutil.which(tool) is None]
if _MISSING:
    pytest.skip(f"needs {', '.join(_MISSING)} (make test installs them)", allow_module_level=True)

from isa_models.core.execute import execute  # noqa: E402
from kernels.codegen import StandaloneKernel  # noqa: E402
from kernels.registry import get, kernels  # noqa: E402
from kernels.verify import activation_cases  # noqa: E402
from workbench.reference import get_preset, random_linear  # noqa: E402

KERNELS = ("tman", "i2s", "tq2", "addsub", "fieldmask")
PROJECTIONS = {"q": (2560, 2560), "k": (640, 2560), "gate": (6912, 2560), "down": (2560, 6912)}


def test_every_hvx_kernel_is_checked():
    assert sorted(KERNELS) == sorted(s.name for s in kernels("hvx"))


@pytest.mark.parametrize("proj", list(PROJECTIONS))
@pytest.mark.parametrize("name", KERNELS)
def test_qemu_equals_functional_on_2b4t(name, proj):
    spec = get(name, "hvx")
    config = get_preset("bitnet-b1.58-2B-4T")
    m, k = config.projection_shape(proj)
    assert (m, k) == PROJECTIONS[proj]
    program = spec.build(m, k, **spec.params)
    runner = StandaloneKernel(program)
    assert runner.prefix and "qemu-hexagon" in runner.prefix[0]
    codes = random_linear(config, 0, proj, seed=0).codes.copy()
    codes[0], codes[1] = 1, -1
    q = activation_cases(k, seed=k, kinds=("extreme",))["extreme"]
    buffers = spec.prepare(codes, q, **spec.params)
    want, got = execute(program, buffers), runner(buffers)
    for buf in program.buffers.values():
        if buf.role == "output":
            diff = np.flatnonzero(got[buf.name] != want[buf.name])
            assert not diff.size, f"{name} {m}x{k}: buffer {buf.name!r} differs from byte {diff[:1]}"
    assert np.array_equal(spec.result(got), spec.result(want))


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
