"""Shared helpers of the kernel tests: ternary rows with a given density and adversarial inputs."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import registry
from workbench.reference import ternary_matvec


def random_codes(rng, m: int, k: int) -> np.ndarray:
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0] = 1
    if m > 1:
        codes[1] = -1
    return codes


def assert_exact(name: str, codes: np.ndarray, q: np.ndarray, **params) -> None:
    """The kernel's int32 result equals the reference accumulators (integer equality)."""
    got = registry.run(registry.get(name, "avx2"), codes, q, **params)
    expected = ternary_matvec(q[None], codes)[0]
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{name}: row {bad[0]}: expected {expected[bad[0]]}, got {got[bad[0]]}"


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
