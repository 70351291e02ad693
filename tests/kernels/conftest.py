"""Shared helpers of the kernel tests: ternary rows with a given density, adversarial inputs, and
`assert_exact` / the sweeps, which decide through the one result checker (`kernels.verify`)."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import registry
from kernels.codegen import run_inprocess
from kernels.verify import check_accumulators, verify
from workbench.reference import ternary_matvec

#: the ISA of the kernels these helpers test by name (the AVX2 kernel modules)
ISA = "avx2"


def random_codes(rng, m: int, k: int) -> np.ndarray:
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0] = 1
    if m > 1:
        codes[1] = -1
    return codes


def assert_exact(name: str, codes: np.ndarray, q: np.ndarray, *, isa: str = ISA, **params) -> None:
    """`kernels.verify.check_accumulators` says VERIFIED: every int32 row equals the reference
    accumulators by integer equality (a bounded kernel outside its bound fails here too)."""
    spec = registry.get(name, isa)
    p = spec.resolve(**params)
    got = registry.run(spec, codes, q, **p)
    check = check_accumulators(spec, codes, q, got, ternary_matvec(q[None], codes)[0], params=p)
    assert check.status == "VERIFIED", f"{name}/{isa}: {check.describe()}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def check_sweep_2b4t_exact(name: str) -> None:
    """`kernels.verify` of an exact kernel: every case of every 2B-4T shape is VERIFIED."""
    result = verify(name, isa=ISA)
    assert result.ok, result.describe()
    assert {c.status for c in result.cases} == {"VERIFIED"}
    assert {c.shape for c in result.cases} == {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}


def adversarial_activations(rng, k: int) -> tuple[np.ndarray, ...]:
    """Random int8, all 127, all -128 and random signs of the extremes, each of length k."""
    return (rng.integers(-128, 128, k).astype(np.int8), np.full(k, 127, np.int8),
            np.full(k, -128, np.int8), rng.choice(np.array([-128, 127], np.int8), k))


def check_small_shape_exact(name: str, *, rows: int, k: int, seed: int) -> None:
    """`assert_exact` on random codes (rows 0/1 all +1/all -1) under every adversarial activation."""
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, rows, k)
    for q in adversarial_activations(rng, k):
        assert_exact(name, codes, q)


def check_native_equals_functional(name: str, *, block: int) -> None:
    """The emitted C run natively equals the functional run, which equals the reference (8 x 3 blocks)."""
    rng = np.random.default_rng(7)
    codes = random_codes(rng, 8, block * 3)
    q = rng.choice(np.array([-128, 127], np.int8), codes.shape[1])
    spec = registry.get(name, ISA)
    assert np.array_equal(registry.run(spec, codes, q, runner=run_inprocess), registry.run(spec, codes, q))
    assert_exact(name, codes, q)


def exact_kernel_tests(name: str, *, block: int):
    """The three tests of an exact AVX2 kernel whose K comes in `block`s, for a test module to bind:

    the 2B-4T sweep (`check_sweep_2b4t_exact`), hypothesis-drawn small shapes (4-12 rows, 1-5
    blocks) under adversarial activations (`check_small_shape_exact`) and the native run
    (`check_native_equals_functional`).
    """
    from hypothesis import given, settings, strategies as st

    @pytest.mark.slow
    def test_sweep_2b4t_exact():
        check_sweep_2b4t_exact(name)

    @settings(max_examples=6, deadline=None)
    @given(m4=st.integers(1, 3), nb=st.integers(1, 5), seed=st.integers(0, 2**16))
    def test_small_shapes_exact(m4, nb, seed):
        check_small_shape_exact(name, rows=4 * m4, k=block * nb, seed=seed)

    def test_native_equals_reference():
        check_native_equals_functional(name, block=block)

    return test_sweep_2b4t_exact, test_small_shapes_exact, test_native_equals_reference
