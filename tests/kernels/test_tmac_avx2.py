"""T-MAC-style AVX2 kernel: lossy by design; its registered error is re-measured, it is exact when
every table is exactly representable, the native run equals the functional one, and the Program's
in-kernel fp32 reconstruction equals the numpy fp32 formula bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.execute import execute
from kernels import registry
from kernels.codegen import run_inprocess
from kernels.tmac import avx2 as tmac
from kernels.verify import measure_error
from workbench.reference import ternary_matvec


@pytest.mark.slow
def test_registered_error_matches_a_fresh_measurement():
    fresh = measure_error(tmac.KERNEL, tokens=1, seed=1)
    reg = registry.get("tmac", "avx2").error
    assert 0 < fresh["relative_rms_error"] < 2 * reg["relative_rms_error"]
    assert 0 < fresh["max_abs_error"] <= 3 * reg["max_abs_error"]


@settings(max_examples=5, deadline=None)
@given(tiles=st.integers(1, 2), groups=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_exact_when_tables_need_no_rounding(tiles, groups, seed):
    rng = np.random.default_rng(seed)
    m, k = 32 * tiles, 64 * groups
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    q = np.zeros(k, np.int8)                      # one +-127 per group of 4: sum|q| = 127, scale 1
    q[::4] = rng.choice(np.array([-127, 127], np.int8), k // 4)
    got = registry.run(registry.get("tmac", "avx2"), codes, q)
    assert np.array_equal(got, ternary_matvec(q[None], codes)[0])


def test_native_equals_functional_and_error_is_small():
    rng = np.random.default_rng(2)
    codes = rng.integers(-1, 2, (64, 512)).astype(np.int8)
    q = rng.integers(-128, 128, 512).astype(np.int8)
    spec = registry.get("tmac", "avx2")
    got = registry.run(spec, codes, q)
    assert np.array_equal(registry.run(spec, codes, q, runner=run_inprocess), got)
    exact = ternary_matvec(q[None], codes)[0]
    assert not np.array_equal(got, exact)          # rounding the tables does lose information
    assert np.abs(got - exact).max() < 0.05 * np.abs(exact).max()


def _numpy_reconstruction(codes, q, act_group=64):
    """T-MAC's reconstruction in numpy fp32 from exact int per-group table sums: y =
    fl(fl(0.5 * total) - fl(0.5 * sum q)), total = fl(total + fl(ls_g * acc_g)) for g in order."""
    qlut, ls = tmac.build_tables(q, act_group)                        # [K/4, 16] int8, [K/ag]
    u = codes.astype(np.int64).reshape(codes.shape[0], -1, 4) + 2     # b0 + 2 b1 per weight
    groups = np.arange(qlut.shape[0])
    per_group = sum(alpha * qlut.astype(np.int64)[groups, ((u >> plane) & 1) @ (1 << np.arange(4))]
                    for plane, alpha in ((0, 1), (1, 2)))             # [M, K/4]: plane 1 counts twice
    acc = per_group.reshape(codes.shape[0], ls.size, -1).sum(axis=2).T.astype(np.float32)
    total = np.zeros(codes.shape[0], np.float32)
    for g in range(ls.size):
        total = (total + ls[g] * acc[g]).astype(np.float32)
    qsum = np.float32(int(q.astype(np.int64).sum()))
    return (np.float32(0.5) * total - np.float32(0.5) * qsum).astype(np.float32)


def test_program_reconstructs_in_fp32_like_numpy_bit_for_bit():
    rng = np.random.default_rng(7)
    codes = rng.integers(-1, 2, (64, 640)).astype(np.int8)
    q = rng.integers(-128, 128, 640).astype(np.int8)
    program = tmac.build(64, 640)
    outputs = [b for b in program.buffers.values() if b.role == "output"]
    assert [(b.name, b.size) for b in outputs] == [("y", 4 * 64)]      # M fp32, not [K/ag, M] int32
    buffers = tmac.prepare(codes, q)
    y = np.asarray(execute(program, buffers)["y"]).view("<f4")
    want = _numpy_reconstruction(codes, q)
    assert np.array_equal(y.view(np.uint32), want.view(np.uint32))
    assert np.array_equal(tmac.result({"y": y.view(np.uint8)}), np.rint(want).astype(np.int32))
