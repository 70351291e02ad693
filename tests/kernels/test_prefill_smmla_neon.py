"""prefill_smmla on NEON (kernels/prefill_smmla/neon.py), batched with the Int8 matrix multiply: N
tokens against one rows4 weight equal the reference for every token on the 2B-4T shapes and on
hypothesis-drawn small shapes under extreme activations, the Program needs i8mm (refused on cores
without it), and in the model one call beats N rowdot calls on cortex-x4 and cortex-a720
(issue 9 deliverable 3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry
from kernels.codegen import program_requirements
from kernels.prefill_smmla import neon as smmla
from kernels.verify import check_accumulators
from tests.unit.kernel_checks import assert_batch_exact, assert_sweep_exact, random_codes, token_batch
from workbench.errors import UserError
from workbench.reference import ternary_matvec


def test_registered_batched_exact_on_rows4_with_i8mm():
    spec = registry.get("prefill_smmla", "neon")
    assert (spec.weight_format, spec.exactness, spec.tokens_param) == ("rows4", "exact", "N")
    assert spec.batched and spec.params == {"N": 8, "groups": 2}
    program = spec.build(8, 16, N=2)
    assert program_requirements(program) == ("i8mm",)
    assert any(ins.op == "smmla_4s" for _, ins in program.instructions())
    assert program.peak_live["v"] <= 32
    with pytest.raises(ValueError, match="N=3 must be one of 2, 4, 8"):
        smmla.check_shape(8, 16, N=3)
    with pytest.raises(ValueError, match="groups \\* N = 32 accumulators exceed 16"):
        smmla.check_shape(16, 16, N=8, groups=4)
    with pytest.raises(ValueError, match="K=24 is not a positive multiple of 16"):
        smmla.check_shape(8, 24)
    with pytest.raises(ValueError, match="M=12 is not a positive multiple of 8"):
        smmla.check_shape(12, 16)


def test_run_checks_the_token_count():
    spec = registry.get("prefill_smmla", "neon")
    codes = np.ones((8, 16), np.int8)
    with pytest.raises(UserError):
        registry.run(spec, codes, np.zeros((4, 16), np.int8))          # N = 8 by default


@pytest.mark.parametrize("shape", [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)])
def test_2b4t_shapes_exact_for_every_token(shape):
    assert_batch_exact("prefill_smmla", "neon", *shape, n=8, seed=shape[0] + shape[1])


@pytest.mark.slow
def test_verify_sweep_2b4t_every_case_verified():
    assert_sweep_exact("prefill_smmla", "neon")


def test_a_wrong_row_fails_naming_its_token_and_row():
    rng = np.random.default_rng(5)
    codes = random_codes(rng, 16, 32)
    q = token_batch(rng, 8, 32)
    spec = registry.get("prefill_smmla", "neon")
    got = registry.run(spec, codes, q)
    want = ternary_matvec(q, codes)
    assert check_accumulators(spec, codes, q, got, want).status == "VERIFIED"
    got[5, 9] += 1
    check = check_accumulators(spec, codes, q, got, want)
    assert (check.status, check.mismatches, check.compared) == ("FAILED", 1, 8 * 16)
    assert check.first_mismatch.startswith("token 5 row 9: expected")


@settings(max_examples=10, deadline=None)
@given(n=st.sampled_from([2, 4, 8]), groups=st.sampled_from([2, 4]), blocks=st.integers(1, 2),
       steps=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(n, groups, blocks, steps, seed):
    if groups * n > 16:
        groups = 2
    rng = np.random.default_rng(seed)
    m, k = 4 * groups * blocks, 16 * steps
    codes = random_codes(rng, m, k)
    codes[3] = -1                                      # a two's-complement top row, all -1
    codes[4 * groups - 1] = 1                          # the other row of the pair's top row, all +1
    q = token_batch(rng, n, k)
    got = registry.run(registry.get("prefill_smmla", "neon"), codes, q, N=n, groups=groups)
    assert np.array_equal(got, ternary_matvec(q, codes))


def test_prepare_interleaves_tokens_in_8_byte_chunks():
    q = np.arange(2 * 16, dtype=np.int8).reshape(2, 16)
    buffers = smmla.prepare(np.zeros((8, 16), np.int8), q, N=2)
    assert buffers["q"].view(np.int8).tolist() == [*range(0, 8), *range(16, 24), *range(8, 16), *range(24, 32)]
    assert buffers["qsum"].view("<i4").tolist() == [120, 376, 120, 376]
    with pytest.raises(ValueError, match="int8 \\[N=2, K=16\\]"):
        smmla.prepare(np.zeros((8, 16), np.int8), q[:1], N=2)


def test_refused_on_a_core_without_i8mm():
    program = smmla.build(8, 16, N=2)
    machine = get_isa("neon").load_machine("cortex-a55")
    assert set(machine.missing_extensions(program).values()) == {("i8mm",)}
    with pytest.raises(UserError, match="i8mm"):
        time_program(program, machine)


@pytest.mark.parametrize("machine", ["cortex-x4", "cortex-a720"])
def test_one_call_beats_n_rowdot_calls_in_the_model(machine):
    mach = get_isa("neon").load_machine(machine)
    rowdot = registry.get("rowdot", "neon")
    base = time_program(rowdot.build(640, 2560, **rowdot.params), mach).cycles
    per_token = {n: time_program(smmla.build(640, 2560, N=n), mach).cycles / n for n in (2, 4, 8)}
    assert per_token[8] < per_token[4] < per_token[2] < base
    assert base >= 2.5 * per_token[8], (base, per_token)
