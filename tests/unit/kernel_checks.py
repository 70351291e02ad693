"""Shared checks of the kernel unit tests (tests/unit/test_kernels_*_{neon,hvx}.py): a functional run
equals the reference on small shapes with all +1 / all -1 rows and adversarial activations, the
2B-4T sweep of an exact kernel is VERIFIED on every shape, and the model's cycles of a kernel."""

from __future__ import annotations

import numpy as np

from kernels import registry
from kernels.verify import verify
from workbench.reference import ternary_matvec

SHAPES_2B4T = {(2560, 2560), (640, 2560), (6912, 2560), (2560, 6912)}
#: the activation rows `activation_rows` makes, by name
ACTIVATIONS = ("random", "min", "max", "extremes")


def random_codes(rng, m: int, k: int) -> np.ndarray:
    """Random ternary codes int8 [m, k] whose first row is all +1 and last row (m > 1) all -1."""
    codes = rng.integers(-1, 2, (m, k)).astype(np.int8)
    codes[0] = 1
    codes[-1] = -1 if m > 1 else codes[-1]
    return codes


def activation_rows(rng, k: int, kinds=ACTIVATIONS) -> list[np.ndarray]:
    """int8 [k] activation rows of `kinds`: random, all -128 (min), all 127 (max), random -128/127."""
    make = {"random": lambda: rng.integers(-128, 128, k).astype(np.int8), "min": lambda: np.full(k, -128, np.int8),
            "max": lambda: np.full(k, 127, np.int8),
            "extremes": lambda: rng.choice(np.array([-128, 127], np.int8), k)}
    return [make[kind]() for kind in kinds]


def assert_exact(name: str, isa: str, m: int, k: int, *, seed: int = 0, kinds=ACTIVATIONS, **params) -> None:
    """Kernel `name` on `isa`, built once for [m, k] with `params`, equals the reference on
    `random_codes` under every activation row of `kinds`."""
    spec = registry.get(name, isa)
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, m, k)
    program = spec.build(m, k, **spec.resolve(**params))
    for q in activation_rows(rng, k, kinds):
        got = registry.run(spec, codes, q, program=program, **params)
        want = ternary_matvec(q[None, :], codes)[0]
        assert np.array_equal(got, want), f"{name}/{isa} {m}x{k}: rows {np.flatnonzero(got != want)[:4]} differ"


def dynamic_count(program, op: str) -> int:
    """Executions of instruction `op` in `program` (loop trips multiplied out)."""
    total = 0
    for stack, ins in program.instructions():
        if ins.op == op:
            n = 1
            for loop in stack:
                n *= loop.trip
            total += n
    return total


def token_batch(rng, n: int, k: int) -> np.ndarray:
    """int8 [n, k]: every `activation_rows` kind in turn (random, -128, 127, -128/127 mixes)."""
    kinds = [ACTIVATIONS[t % len(ACTIVATIONS)] for t in range(n)]
    return np.stack(activation_rows(rng, k, kinds))


def assert_batch_exact(name: str, isa: str, m: int, k: int, *, n: int, seed: int = 0, **params) -> None:
    """Batched kernel `name` on random codes [m, k] and a `token_batch` of n tokens equals the
    reference for every token (int32 [n, m], integer equality)."""
    rng = np.random.default_rng(seed)
    codes = random_codes(rng, m, k)
    q = token_batch(rng, n, k)
    got = registry.run(registry.get(name, isa), codes, q, **params)
    assert got.shape == (n, m) and got.dtype == np.int32
    assert np.array_equal(got, ternary_matvec(q, codes))


def assert_sweep_exact(name: str, isa: str, **options) -> None:
    """`kernels.verify` of kernel `name` covers the four 2B-4T shapes and VERIFIES every case."""
    result = verify(name, isa=isa, **options)
    assert {c.shape for c in result.cases} == SHAPES_2B4T
    assert {c.status for c in result.cases} == {"VERIFIED"}, result.describe()


def cycles(name: str, isa: str, machine: str, shape=(2560, 2560)) -> float:
    """The model's cycles of kernel `name` on `isa` for `shape` (default parameters) on `machine`."""
    from isa_models.core.timing import time_program
    from isa_models.registry import get_isa
    spec = registry.get(name, isa)
    return time_program(spec.build(*shape, **spec.params), get_isa(isa).load_machine(machine)).cycles
