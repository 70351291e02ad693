"""The kernel tests' `assert_exact` decides through `kernels.verify`: a kernel one row off fails it
by integer equality, a correct one passes, a bounded kernel outside its bound fails too."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import ISA, assert_exact, random_codes
from kernels import registry


@pytest.fixture
def off_by_one():
    good = registry.get("vnni", ISA)

    def last_row_plus_one(buffers, _result=good.result):
        acc = np.array(_result(buffers))
        acc[-1] += 1
        return acc
    spec = registry.register(dataclasses.replace(good, name="vnni_last_row_off", result=last_row_plus_one))
    yield spec
    registry.unregister(spec.name, spec.isa)


def test_assert_exact_catches_one_wrong_row(off_by_one):
    rng = np.random.default_rng(0)
    codes = random_codes(rng, 8, 256)
    q = rng.integers(-128, 128, 256).astype(np.int8)
    assert_exact("vnni", codes, q)
    with pytest.raises(AssertionError, match=r"vnni_last_row_off/avx2: FAILED: 1 of 8 rows differ; row 7: "):
        assert_exact("vnni_last_row_off", codes, q)


def test_assert_exact_fails_a_bounded_kernel_outside_its_bound():
    codes = np.ones((4, 4096), np.int8)
    q = np.full(4096, 127, np.int8)                 # every int16 lane of i2s wraps
    with pytest.raises(AssertionError, match=r"outside the kernel's bound"):
        assert_exact("i2s", codes, q)
