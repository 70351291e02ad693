"""`workbench.equivalence.hook.KernelHook`: the kernel's accumulators per call, the token count of a
batched kernel's calls, per-step errors, the first contract break and error statistics."""

from __future__ import annotations

import dataclasses

import numpy as np
from kernels import registry
from workbench.equivalence.hook import ContractBreak, ErrorStats, KernelHook
from workbench.reference import TernaryLinear, ternary_matvec

RNG = np.random.default_rng(0)
CODES = RNG.integers(-1, 2, (256, 256)).astype(np.int8)
Q = RNG.integers(-60, 61, (3, 256)).astype(np.int8)


def _linear(codes=CODES):
    return TernaryLinear(codes, np.float32(1.0))


def _exact(isa=None, batched=False):
    return next(s for s in registry.kernels(isa) if s.exactness == "exact" and s.batched == batched
                and s.machine_param is None and s.supports(256, 256))


def test_exact_kernel_rows_equal_the_reference_and_are_recorded_per_step():
    spec = _exact()
    hook = KernelHook(spec, spec.resolve())
    got = hook(0, "q", Q, _linear())
    assert got.dtype == np.int32 and np.array_equal(got, ternary_matvec(Q, CODES))
    hook.step = 1
    hook(1, "down", Q[:1], _linear())
    assert hook.step_errors == [{"0.q": 0}, {"1.down": 0}]
    assert hook.first_break is None and hook.calls == 4
    assert hook.errors["0.q"].values == 3 * 256 and hook.errors["0.q"].rel_rms == 0.0


def test_batched_kernel_takes_the_row_count_when_supported_else_pads():
    spec = next(s for s in registry.kernels() if s.batched and s.machine_param is None
                and s.supports(256, 256, **{s.tokens_param: 1}) and not s.supports(256, 256, **{s.tokens_param: 3}))
    hook = KernelHook(spec, spec.resolve())
    assert hook.tokens_per_call(256, 256, 1) == 1
    assert hook.tokens_per_call(256, 256, 3) == 1          # 3 unsupported: the smallest N it takes
    got = hook(0, "q", Q, _linear())
    assert np.array_equal(got, ternary_matvec(Q, CODES)) and hook.calls == 3
    fixed = KernelHook(spec, spec.resolve(), fixed_tokens=True)
    n = spec.params[spec.tokens_param]
    assert fixed.tokens_per_call(256, 256, 3) == n
    assert np.array_equal(fixed(0, "q", Q, _linear()), ternary_matvec(Q, CODES)) and fixed.calls == -(-3 // n)


def test_a_broken_exact_kernel_is_recorded_once_with_the_first_break():
    spec = next(s for s in registry.kernels() if s.exactness == "exact" and not s.batched
                and not s.result_needs_shape and s.supports(256, 256))

    def result(buffers):                                    # an exact kernel with an off-by-one row 5
        out = np.array(spec.result(buffers), dtype=np.int32)
        out[5] += 1
        return out

    broken = dataclasses.replace(spec, name="broken", result=result)
    hook = KernelHook(broken, broken.resolve())
    hook.step = 2
    got = hook(1, "gate", Q, _linear())
    assert np.array_equal(got - ternary_matvec(Q, CODES), np.eye(1, 256, 5, dtype=np.int32).repeat(3, 0))
    b = hook.first_break
    assert isinstance(b, ContractBreak)
    assert (b.step, b.layer, b.proj, b.rows, b.outside_bound, b.within_bound) == (2, 1, "gate", 3, 0, 0)
    assert b.detail.startswith("token 0 row 5: expected")
    hook.step = 3
    hook(1, "up", Q, _linear())
    assert hook.first_break is b and hook.step_errors[3]["1.up"] == 1
    assert hook.errors["1.gate"].differing == 3 and hook.errors["1.gate"].max_abs == 1


def test_lossy_kernel_gets_error_statistics_not_a_break():
    spec = next(s for s in registry.kernels() if s.exactness == "lossy")
    hook = KernelHook(spec, spec.resolve())
    hook(0, "q", Q, _linear())
    assert hook.first_break is None
    stats = hook.errors["0.q"]
    assert 0 < stats.rel_rms < 0.05 and stats.max_abs > 0 and stats.max_abs == hook.step_errors[0]["0.q"]


def test_error_stats_accumulate():
    s = ErrorStats()
    s.add(np.array([3, 4]), np.array([0, 1]))
    s.add(np.array([0]), np.array([-2]))
    assert s.calls == 2 and s.values == 3 and s.differing == 2 and s.max_abs == 2
    assert np.isclose(s.rel_rms, np.sqrt(5 / 25))
