"""prefill_maddubs on AVX2 (kernels/prefill_maddubs/avx2.py), batched with vpmaddubsw and no VNNI:
N tokens against one i2s_x86 weight equal the reference for every token on the 2B-4T shapes, on
hypothesis-drawn small shapes and at the int16 extremes its exactness proof rests on (a lane at
exactly -32768), natively, with plain AVX2 only (zen3, skylake run it); and in the zen3 and
alderlake-p models one call of 8 tokens beats 8 calls of tq2, their fastest exact GEMV kernel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry
from kernels.codegen import program_requirements, run_inprocess
from kernels.codegen.host import missing_cpu_flags
from kernels.prefill_maddubs import avx2 as pm
from kernels.prefill_vnni.avx2 import CHUNK_MAX, QK, TOKENS
from tests.unit.kernel_checks import assert_batch_exact, assert_sweep_exact, random_codes, token_batch
from workbench.reference import ternary_matvec

NAME = "prefill_maddubs"


def test_registered_batched_exact_with_plain_avx2():
    spec = registry.get(NAME, "avx2")
    assert (spec.weight_format, spec.exactness, spec.tokens_param) == ("i2s_x86", "exact", "N")
    assert spec.batched and spec.params == {"N": 8, "rows": 2, "blocks_per_chunk": CHUNK_MAX}
    program = spec.build(8, 20 * QK, N=8)
    assert program_requirements(program) == ()
    assert program.peak_live["ymm"] <= 16
    for machine in ("zen3", "skylake", "alderlake-p"):
        assert not get_isa("avx2").load_machine(machine).missing_extensions(program)
    with pytest.raises(ValueError, match="blocks_per_chunk=17 must be in 1..16"):
        pm.check_shape(4, 128, blocks_per_chunk=17)
    with pytest.raises(ValueError, match="N=32 must be one of"):
        pm.check_shape(4, 128, N=32)


@pytest.mark.parametrize("value", [-128, 127])
def test_int16_lanes_at_their_extremes_stay_exact(value):
    """All +1 codes (fields 2) against all -128: every int16 lane reaches 16 blocks x 4 quarters x
    2 x 2 x (-128) = -32768, the int16 minimum, and must not wrap; 127 gives 32512."""
    K = CHUNK_MAX * QK
    codes = np.ones((4, K), np.int8)
    codes[1] = -1
    codes[2, ::2] = 0
    q = np.full((4, K), value, np.int8)
    q[1] = -value - (value < 0)
    got = registry.run(registry.get(NAME, "avx2"), codes, q, N=4)
    assert np.array_equal(got, ternary_matvec(q, codes))


@pytest.mark.parametrize("shape", [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)])
def test_2b4t_shapes_exact_for_every_token(shape):
    assert_batch_exact(NAME, "avx2", *shape, n=8, seed=shape[0] * 7 + shape[1])


@pytest.mark.slow
def test_verify_sweep_2b4t_every_case_verified():
    assert_sweep_exact(NAME, "avx2")


@settings(max_examples=12, deadline=None)
@given(n=st.sampled_from(TOKENS), rows=st.sampled_from([1, 2]), m=st.integers(1, 4), blocks=st.integers(1, 5),
       chunk=st.integers(1, CHUNK_MAX), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(n, rows, m, blocks, chunk, seed):
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, 2 * m, QK * blocks)
    q = token_batch(rng, n, QK * blocks)
    got = registry.run(registry.get(NAME, "avx2"), codes, q, N=n, rows=rows, blocks_per_chunk=chunk)
    assert np.array_equal(got, ternary_matvec(q, codes))


@pytest.mark.parametrize("N", [4, 8, 16])
def test_native_equals_reference(N):
    spec = registry.get(NAME, "avx2")
    program = spec.build(32, 18 * QK, N=N)                     # two chunks: 16 + 2 blocks
    missing = missing_cpu_flags(program_requirements(program) or ("avx2",))
    if missing:
        pytest.skip(f"{NAME} needs CPU features {missing} (this CPU lacks them)")
    rng = np.random.default_rng(N)
    codes = random_codes(rng, 32, 18 * QK)
    q = token_batch(rng, N, 18 * QK)
    got = registry.run(spec, codes, q, runner=run_inprocess, program=program, N=N)
    assert np.array_equal(got, ternary_matvec(q, codes))


@pytest.mark.parametrize("machine", ["zen3", "alderlake-p"])
def test_one_call_beats_eight_tq2_calls(machine):
    mach = get_isa("avx2").load_machine(machine)
    gemv = time_program(registry.get("tq2", "avx2").build(256, 2560), mach).cycles
    batched = time_program(pm.build(256, 2560, N=8), mach).cycles
    assert batched / 8 < 0.8 * gemv
