"""Helpers of the emulated-kernel oracle tests (tests/oracle/test_neon_kernels_qemu.py,
tests/oracle/test_hvx_kernels_qemu.py): the codegen target to test with, or a skip of the module
when its compiler or emulator is missing, and a kernel's emitted C run behind the target's emulator
on a 2B-4T projection, every output buffer compared byte for byte with the functional run.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from isa_models.core.execute import execute
from kernels.codegen import StandaloneKernel
from kernels.codegen.targets import get_target
from kernels.verify import activation_cases
from workbench.errors import UnknownNameError
from workbench.reference import get_preset, random_linear

__all__ = ["PROJECTIONS", "installed_target", "emulate_2b4t"]

PROJECTIONS = {"q": (2560, 2560), "k": (640, 2560), "gate": (6912, 2560), "down": (2560, 6912)}


def installed_target(name: str):
    """Codegen target `name`; skips the calling test module when it is not registered or its
    compiler or emulator is not installed (CI installs them)."""
    try:
        target = get_target(name)
    except UnknownNameError:
        pytest.skip(f"no {name} codegen target", allow_module_level=True)
    missing = [tool for tool in (target.compilers[0], *(target.emulator or ())[:1]) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (make test installs them)", allow_module_level=True)
    return target


def emulate_2b4t(spec, proj: str, *, kinds) -> tuple:
    """Run kernel `spec` (default parameters) on 2B-4T projection `proj`'s weights (rows 0 and 1 set
    to all +1 and all -1) with the `kernels.verify.activation_cases` rows of `kinds`, as compiled C
    (`kernels.codegen.StandaloneKernel`) and functionally; every output buffer and the read-back
    rows must be identical.

    Returns
    -------
    (runner, codes, {kind: (q, rows)}): the compiled kernel, the weights, and per activation row
    the int32 rows read back from the compiled run.
    """
    config = get_preset("bitnet-b1.58-2B-4T")
    m, k = config.projection_shape(proj)
    assert (m, k) == PROJECTIONS[proj]
    program = spec.build(m, k, **spec.params)
    runner = StandaloneKernel(program)
    codes = random_linear(config, 0, proj, seed=0).codes.copy()
    codes[0], codes[1] = 1, -1
    rows = {}
    for kind, q in activation_cases(k, seed=k, kinds=kinds).items():
        buffers = spec.prepare(codes, q, **spec.params)
        want, got = execute(program, buffers), runner(buffers)
        for buf in program.buffers.values():
            if buf.role == "output":
                diff = np.flatnonzero(got[buf.name] != want[buf.name])
                assert not diff.size, f"{spec.name} {m}x{k} {kind}: buffer {buf.name!r} differs from byte {diff[:1]}"
        assert np.array_equal(spec.result(got), spec.result(want))
        rows[kind] = (q, spec.result(got))
    return runner, codes, rows
