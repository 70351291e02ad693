"""Shared checks of the HVX kernel unit tests (tests/unit/test_kernels_*_hvx.py): the functional
run equals the reference on small shapes with random, all -128/127 and all +1/-1 rows."""

from __future__ import annotations

import numpy as np

from kernels import registry
from workbench.reference import ternary_matvec


def assert_exact(name: str, m: int, k: int, *, seed: int = 0, **params) -> None:
    """Run kernel `name` (hvx) on codes [m, k] with rows 0/1 all +1/-1 and three activation rows."""
    spec = registry.get(name, "hvx")
    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0], codes[1] = 1, -1
    program = spec.build(m, k, **{**spec.params, **params})
    for q in (rng.integers(-128, 128, k).astype(np.int8), np.full(k, -128, np.int8),
              np.where(rng.random(k) < 0.5, -128, 127).astype(np.int8)):
        got = registry.run(spec, codes, q, program=program, **params)
        want = ternary_matvec(q[None, :], codes)[0]
        assert np.array_equal(got, want), f"{name} {m}x{k}: rows {np.flatnonzero(got != want)[:4]} differ"


def cycles(name: str, machine: str = "snapdragon-8-gen-3", shape=(2560, 2560)) -> float:
    """The model's cycles of kernel `name` on `shape` (default parameters)."""
    from isa_models.core.timing import time_program
    from isa_models.registry import get_isa
    spec = registry.get(name, "hvx")
    return time_program(spec.build(*shape, **spec.params), get_isa("hvx").load_machine(machine)).cycles
