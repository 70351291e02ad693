"""The hexagon_hvx codegen target: freestanding standalone executables under qemu-hexagon.

Unit tests of kernels/codegen/targets/hexagon_hvx.py and the runtime hook it adds to the
standalone runner (`Target.runtime`): a Program with loads, a vector-by-vector vrmpy accumulator,
a widening pair accumulator, a vlut16 and stores runs under qemu-hexagon with the buffers equal
to the functional run, through stdin and through a file; the runtime's error paths (wrong size,
trailing bytes) answer like the hosted main. Skipped without clang-19, ld.lld-19 or
qemu-hexagon (CI has them).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from isa_models.core.builder import ProgramBuilder
from isa_models.core.execute import execute
from isa_models.hvx import ISA
from kernels.codegen.run.standalone import RunError, StandaloneKernel, emit_main
from kernels.codegen.targets import get_target, target_for_isa

needs_tools = pytest.mark.skipif(any(shutil.which(t) is None for t in ("clang-19", "ld.lld-19", "qemu-hexagon")),
                                 reason="needs clang-19, ld.lld-19 and qemu-hexagon (qemu-user 10, bookworm-backports)")


def _program():
    b = ProgramBuilder(ISA, "hvx_codegen_probe")
    a, w, o = b.buffer("a", 512), b.buffer("w", 512), b.buffer("o", 768, role="output")
    zero = b.tfrsi(0)
    acc, lo, hi = b.vsplat_w(zero), b.vsplat_w(zero), b.vsplat_w(zero)
    sel = b.tfrsi(2)
    with b.loop("k", 4) as k:
        x = b.vmem_load(a[128 * k])
        y = b.vmem_load(w[128 * k])
        b.vrmpy_ubb_vv_acc(acc, x, y, out=acc)
        b.vadd_hw_acc(lo, hi, x, y, out=(lo, hi))
    t0, t1 = b.vlut16(b.vmem_load(a[0]), b.vmem_load(w[0]), sel)
    b.vmem_store(o[0], acc)
    b.vmem_store(o[128], b.vadd_w(lo, hi))
    b.vmem_store(o[256], t0)
    b.vmemu_store(o[385], t1)
    return b.build()


def test_target_facts():
    t = get_target("hexagon_hvx")
    assert target_for_isa("hvx") is t and t.emulator == ("qemu-hexagon",) and t.runtime
    assert t.c_type("v") == "HVX_Vector" and t.c_type("q") == "HVX_VectorPred" and t.c_type("r") == "int32_t"
    assert "--ld-path=ld.lld-19" in t.base_flags and "-mhvx-length=128B" in t.base_flags
    main = emit_main(_program(), target=t)
    assert "_start" in main and "#include <stdio.h>" not in main        # freestanding: no libc headers


@needs_tools
def test_program_runs_under_qemu_equal_to_functional():
    p = _program()
    rng = np.random.default_rng(7)
    bufs = {"a": rng.integers(0, 256, 512, dtype=np.uint8), "w": rng.integers(0, 256, 512, dtype=np.uint8)}
    k = StandaloneKernel(p)
    assert k.prefix == ("qemu-hexagon",)
    want = execute(p, bufs)
    for via in ("stdin", "file"):
        got = k(bufs, via=via)
        assert all(np.array_equal(got[n], want[n]) for n in want), via


@needs_tools
def test_runtime_error_paths():
    p = _program()
    k = StandaloneKernel(p)
    bad = subprocess.run(k.command(), input=(5).to_bytes(8, "little") + b"12345", capture_output=True)
    assert bad.returncode == 2 and "buffer a has 5 bytes, expected 512" in bad.stderr.decode()
    with pytest.raises(RunError, match="ends before buffer"):
        k._run(k.command(), b"")
