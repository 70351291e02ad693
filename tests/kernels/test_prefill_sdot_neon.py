"""prefill_sdot on NEON (kernels/prefill_sdot/neon.py), batched with the dot product only: N tokens
against one rows4 weight equal the reference for every token on the 2B-4T shapes and on
hypothesis-drawn small shapes under extreme activations, the Program needs only asimddp (it runs
on Cortex-A55/A76), and in the model one call beats N rowdot calls on cortex-a76 and cortex-a55
(issue 9 deliverable 3)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry
from kernels.codegen import program_requirements
from kernels.prefill_sdot import neon as sdot
from tests.unit.kernel_checks import assert_batch_exact, assert_sweep_exact, random_codes, token_batch
from workbench.reference import ternary_matvec


def test_registered_batched_exact_on_rows4_with_dotprod_only():
    spec = registry.get("prefill_sdot", "neon")
    assert (spec.weight_format, spec.exactness, spec.tokens_param) == ("rows4", "exact", "N")
    assert spec.batched and spec.params == {"N": 4, "groups": 1}
    program = spec.build(8, 32, N=2, groups=2)
    assert program_requirements(program) == ("asimddp",)
    assert not any(ins.op.startswith(("ushr", "sshl", "ushl", "shl")) for _, ins in program.instructions())
    assert program.peak_live["v"] <= 32
    assert not get_isa("neon").load_machine("cortex-a55").missing_extensions(program)
    with pytest.raises(ValueError, match="N=8 must be 2 or 4"):
        sdot.check_shape(4, 16, N=8)
    with pytest.raises(ValueError, match="groups \\* N = 8 exceeds 4"):
        sdot.check_shape(8, 16, N=4, groups=2)
    with pytest.raises(ValueError, match="K=40 is not a positive multiple of 16"):
        sdot.check_shape(4, 40)


@pytest.mark.parametrize("shape", [(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)])
def test_2b4t_shapes_exact_for_every_token(shape):
    assert_batch_exact("prefill_sdot", "neon", *shape, n=4, seed=shape[0] * 3 + shape[1])


@pytest.mark.slow
def test_verify_sweep_2b4t_every_case_verified():
    assert_sweep_exact("prefill_sdot", "neon")


@settings(max_examples=10, deadline=None)
@given(n=st.sampled_from([2, 4]), groups=st.sampled_from([1, 2]), blocks=st.integers(1, 3),
       steps=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_small_shapes_exact_under_extreme_activations(n, groups, blocks, steps, seed):
    if groups * n > 4:
        groups = 1
    rng = np.random.default_rng(seed)
    m, k = 4 * groups * blocks, 16 * steps
    codes = random_codes(rng, m, k)
    codes[3] = -1                                      # a two's-complement top row, all -1
    q = token_batch(rng, n, k)
    got = registry.run(registry.get("prefill_sdot", "neon"), codes, q, N=n, groups=groups)
    assert np.array_equal(got, ternary_matvec(q, codes))


def test_prepare_offsets_only_the_t_plus_one_rows_per_token():
    q = np.stack([np.arange(-8, 8, dtype=np.int8), np.full(16, 2, np.int8)])
    buffers = sdot.prepare(np.zeros((4, 16), np.int8), q, N=2)
    assert buffers["qsum"].view("<i4").tolist() == [-8, -8, -8, 0, 32, 32, 32, 0]
    assert np.array_equal(buffers["q"].view(np.int8), q.reshape(-1))


@pytest.mark.parametrize("machine", ["cortex-a76", "cortex-a55"])
def test_one_call_beats_n_rowdot_calls_in_the_model(machine):
    mach = get_isa("neon").load_machine(machine)
    rowdot = registry.get("rowdot", "neon")
    base = time_program(rowdot.build(640, 2560, **rowdot.params), mach).cycles
    per_token = {n: time_program(sdot.build(640, 2560, N=n), mach).cycles / n for n in (2, 4)}
    assert per_token[4] < per_token[2] < base
    assert base >= 1.4 * per_token[4], (base, per_token)
