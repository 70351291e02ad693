"""prefill_vnni on AVX2 (kernels/prefill_vnni/avx2.py), batched with EVEX vpdpbusd: N tokens against
one i2s_x86 weight equal the reference for every token on the 2B-4T shapes, on hypothesis-drawn
small shapes under extreme activations and natively (the emitted C on this CPU); each weight block
is loaded once per token group; it needs AVX512-VNNI (refused on zen3); and in the zen4 model one
call of 8 tokens beats 8 calls of vnni2, the fastest GEMV kernel there (issue 9 deliverable 3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry
from kernels.codegen import program_requirements, run_inprocess
from kernels.codegen.host import missing_cpu_flags
from kernels.prefill_vnni import avx2 as pv
from tests.unit.kernel_checks import assert_batch_exact, assert_sweep_exact, dynamic_count, random_codes, token_batch
from workbench.reference import ternary_matvec

NAME = "prefill_vnni"


def test_registered_batched_exact_on_i2s_with_vnni():
    spec = registry.get(NAME, "avx2")
    assert (spec.weight_format, spec.exactness, spec.tokens_param) == ("i2s_x86", "exact", "N")
    assert spec.batched and spec.params == {"N": 8, "rows": 2}
    program = spec.build(8, 256, N=4)
    assert set(program_requirements(program)) == {"avx512vl", "avx512_vnni"}
    assert program.peak_live["ymm"] <= 16
    assert get_isa("avx2").load_machine("zen3").missing_extensions(program)
    assert not get_isa("avx2").load_machine("zen4").missing_extensions(program)
    with pytest.raises(ValueError, match="N=3 must be one of 1, 2, 4, 8, 16"):
        pv.check_shape(4, 128, N=3)
    with pytest.raises(ValueError, match="K=200 is not a positive multiple of 128"):
        pv.check_shape(4, 200)
    with pytest.raises(ValueError, match="M=5 is not a positive multiple of rows=2"):
        pv.check_shape(5, 128)


def test_each_weight_block_is_loaded_once_per_token_group():
    M, K = 8, 4 * pv.QK
    for N, rows in ((8, 2), (8, 1), (16, 1)):
        program = pv.build(M, K, N=N, rows=rows)
        G, groups, _ = pv.groups_of(N, rows)
        blocks = M * (K // pv.QK)
        assert dynamic_count(program, "vpdpbusd_ymm") == 4 * N * blocks
        # per group: every row's blocks once, every token's quarter once per row pair
        loads = dynamic_count(program, "vmovdqu_load_ymm") - 1                  # the mask
        assert loads == groups * blocks + 4 * N * blocks // rows


@pytest.mark.parametrize("shape", [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)])
def test_2b4t_shapes_exact_for_every_token(shape):
    assert_batch_exact(NAME, "avx2", *shape, n=8, seed=shape[0] * 5 + shape[1])


@pytest.mark.slow
def test_verify_sweep_2b4t_every_case_verified():
    assert_sweep_exact(NAME, "avx2")


@settings(max_examples=12, deadline=None)
@given(n=st.sampled_from(pv.TOKENS), rows=st.sampled_from([1, 2]), m=st.integers(1, 5),
       blocks=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(n, rows, m, blocks, seed):
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, 2 * m, pv.QK * blocks)
    q = token_batch(rng, n, pv.QK * blocks)
    got = registry.run(registry.get(NAME, "avx2"), codes, q, N=n, rows=rows)
    assert np.array_equal(got, ternary_matvec(q, codes))


def test_token_sums_pad_each_group_to_four_lanes():
    q = np.stack([np.full(128, t - 1, np.int8) for t in range(2)])
    assert pv.token_sums(q, 2, 2).view("<i4").tolist() == [-128, 0, 0, 0]
    q16 = np.ones((16, 128), np.int8)
    assert pv.token_sums(q16, 16, 2).view("<i4").tolist() == [128] * 4 * 4


@pytest.mark.parametrize("N", [2, 8, 16])
def test_native_equals_reference(N):
    spec = registry.get(NAME, "avx2")
    program = spec.build(64, 512, N=N)
    missing = missing_cpu_flags(program_requirements(program))
    if missing:
        pytest.skip(f"{NAME} needs CPU features {missing} (this CPU lacks them)")
    rng = np.random.default_rng(N)
    codes = random_codes(rng, 64, 512)
    q = token_batch(rng, N, 512)
    got = registry.run(spec, codes, q, runner=run_inprocess, program=program, N=N)
    assert np.array_equal(got, ternary_matvec(q, codes))


def test_one_call_beats_eight_vnni2_calls_on_zen4():
    zen4 = get_isa("avx2").load_machine("zen4")
    gemv = time_program(registry.get("vnni2", "avx2").build(640, 2560, chains=1, rows_per_block=2), zen4).cycles
    batched = time_program(pv.build(640, 2560, N=8), zen4).cycles
    assert batched / 8 < 0.95 * gemv
