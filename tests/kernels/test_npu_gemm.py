"""kernels.npu_gemm: NPU GEMV/GEMM Programs equal workbench.reference.ternary_matvec, bit for bit.

The registry side (``npu_gemm`` / ``npu`` in kernels.registry) is in tests/kernels/test_registry.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isa_models.npu import load_npu_machine, lower, npu_machine_names, time_lowered
from kernels.npu_gemm.npu import gemm_program, plan_gemm, run_gemm
from workbench.reference import get_preset, ternary_matvec

MACHINES = npu_machine_names()
SHAPES_2B4T = sorted(set(get_preset("bitnet-b1.58-2B-4T").projection_shapes().values()))


def _random(rng, m, k, tokens, *, p_zero=1 / 3):
    codes = np.where(rng.random((m, k)) < p_zero, 0, rng.choice([-1, 1], size=(m, k))).astype(np.int8)
    x = rng.integers(-128, 128, size=(tokens, k)).astype(np.int8)
    return codes, x


def test_2b4t_shape_list():
    assert SHAPES_2B4T == [(640, 2560), (2560, 2560), (2560, 6912), (6912, 2560)]


#: Rows of a 6912-wide 2B-4T shape the 4x8 `tiny` array runs (its 6912x2560 and 2560x6912 GEMVs
#: are ~170k commands, 10-20 s each here). 520 rows = 130 row tiles = 65 passes of its 2
#: accumulator banks (the plan repeats per pass), at the full K, so 2560x6912 still splits K
#: into its two accumulator-safe segments. Every other machine runs the full shapes.
TINY_ROWS_OF_6912_WIDE = 520


@pytest.mark.slow
@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("shape", SHAPES_2B4T, ids=lambda s: f"{s[0]}x{s[1]}")
def test_gemv_equals_reference_on_2b4t_shapes(machine, shape):
    params = load_npu_machine(machine)
    m, k = shape
    rng = np.random.default_rng(m * 7 + k)
    if machine == "tiny" and 6912 in shape:
        m = TINY_ROWS_OF_6912_WIDE
    codes, x = _random(rng, m, k, 1)
    acc, prog, _ = run_gemm(params, codes, x)
    ref = ternary_matvec(x, codes)
    assert acc.dtype == np.int32 and acc.shape == ref.shape
    assert np.array_equal(acc, ref)
    assert prog.meta["macs"] == m * k
    assert (len(plan_gemm(params, m, k).segments) > 1) == (k > params.max_exact_k)


@pytest.mark.parametrize("machine", MACHINES)
def test_gemm_several_tokens(machine):
    params = load_npu_machine(machine)
    rng = np.random.default_rng(5)
    # 3 tokens over 2560-wide rows (tiny: 2 accumulator banks, so a full and a partial token
    # group, streamed activations); 128 rows on tiny, whose 640-row GEMM is ~50k commands.
    wide_rows = 128 if machine == "tiny" else 640
    for tokens, (m, k) in ((3, (wide_rows, 2560)), (5, (100, 700))):
        codes, x = _random(rng, m, k, tokens)
        acc, prog, _ = run_gemm(params, codes, x)
        assert np.array_equal(acc, ternary_matvec(x, codes)), (tokens, m, k)
        assert prog.meta["kind"] == "gemm"


@pytest.mark.parametrize("machine", MACHINES)
def test_adversarial_extremes_at_largest_k(machine):
    """Rows of all -1 times x = -128 and all +1 times 127 at K = 6912: the accumulator extremes.

    On machines whose accumulators cannot hold 128 * 6912, the plan must split K into segments.
    """
    params = load_npu_machine(machine)
    k = 6912
    codes = np.ones((2 * params.rows + 3, k), dtype=np.int8)
    codes[::2] = -1
    x = np.stack([np.full(k, -128, np.int8), np.full(k, 127, np.int8)])
    acc, _, _ = run_gemm(params, codes, x)
    assert np.array_equal(acc, ternary_matvec(x, codes))
    assert acc[0, 0] == 128 * k
    plan = plan_gemm(params, codes.shape[0], k, tokens=2)
    assert (len(plan.segments) > 1) == (k > params.max_exact_k)


@settings(max_examples=25, deadline=None)
@given(machine=st.sampled_from(MACHINES), m=st.integers(1, 70), k=st.integers(1, 600),
       tokens=st.integers(1, 4), seed=st.integers(0, 2 ** 32 - 1), p_zero=st.sampled_from([0.0, 1 / 3, 0.9]))
def test_random_shapes_equal_reference(machine, m, k, tokens, seed, p_zero):
    params = load_npu_machine(machine)
    codes, x = _random(np.random.default_rng(seed), m, k, tokens, p_zero=p_zero)
    acc, _, _ = run_gemm(params, codes, x)
    assert np.array_equal(acc, ternary_matvec(x, codes))


def test_double_buffering_overlaps_dma_with_macs():
    """Bank s % 2 is filled while the array reads bank (s-1) % 2: a MAC and a DMA overlap in time,
    and turning prefetch off makes the same product slower."""
    params = load_npu_machine("edge16")
    import dataclasses
    plan = plan_gemm(params, 256, 2560)
    on = time_lowered(lower(gemm_program(params, 256, 2560, plan=plan)))
    off = time_lowered(lower(gemm_program(
        params, 256, 2560, plan=dataclasses.replace(plan, prefetch=0))))
    assert on.total_cycles < off.total_cycles
    macs = [s for s in on.schedule if s.command.unit == "mac"]
    dmas = [s for s in on.schedule if s.command.op == "dmaw"]
    assert any(d.issue < mc.end and mc.issue < d.end for mc in macs for d in dmas)


def test_tiny_streams_activations_when_k_exceeds_the_activation_sram():
    params = load_npu_machine("tiny")
    plan = plan_gemm(params, 64, 2560)
    assert not plan.resident and plan.rows_per_pass == params.acc_banks
    assert plan.chunk_words * plan.rows_per_pass <= params.w_bank_words


def test_bad_inputs_name_the_culprit():
    params = load_npu_machine("tiny")
    with pytest.raises(ValueError, match="K=0"):
        plan_gemm(params, 4, 0)
    with pytest.raises(ValueError, match="rows_per_pass=3"):
        plan_gemm(params, 64, 64, rows_per_pass=3)
    with pytest.raises(ValueError, match="x must be int8"):
        run_gemm(params, np.zeros((4, 8), np.int8), np.zeros(9, np.int8))
