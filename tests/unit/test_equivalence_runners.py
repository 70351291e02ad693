"""`workbench.equivalence.runners`: the functional default, the native runner's refusal on a host
that cannot run a target, the emulator's prefix, and one compiled kernel per Program."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from isa_models.registry import plugins
from kernels import registry
from kernels.codegen.targets import target_for_isa
from workbench.equivalence.runners import MODES, make_runner
from workbench.errors import UnknownNameError, UserError


def _program(isa):
    spec = next(s for s in registry.kernels(isa) if s.exactness == "exact" and not s.batched
                and s.machine_param is None and s.supports(256, 256))
    return spec, spec.build(256, 256, **spec.resolve())


def _targets():
    return [p.name for p in plugins() if p.codegen_target is not None]


def test_functional_is_the_executor_and_unknown_modes_are_refused():
    assert MODES == ("functional", "native", "emulator")
    assert make_runner("functional", isa=_targets()[0], programs=[]) is None
    with pytest.raises(UnknownNameError, match="unknown run mode 'fast'"):
        make_runner("fast", isa=_targets()[0], programs=[])


@pytest.mark.parametrize("isa", _targets())
def test_native_refuses_in_one_line_where_the_target_cannot_run(isa):
    spec, program = _program(isa)
    problem = target_for_isa(isa).native_problem(())
    if problem is None:
        runner = make_runner("native", isa=isa, programs=[program])
        codes = np.random.default_rng(0).integers(-1, 2, (256, 256)).astype(np.int8)
        q = np.random.default_rng(1).integers(-128, 128, 256).astype(np.int8)
        got = registry.run(spec, codes, q, runner=runner, program=program)
        assert np.array_equal(got, codes.astype(np.int32) @ q.astype(np.int32))
        assert runner(program, spec.prepare(codes, q)) is not None   # the kernel is kept per Program
        assert len(runner._kernels) == 1
    else:
        with pytest.raises(UserError, match="^--native: ") as info:
            make_runner("native", isa=isa, programs=[program])
        assert "\n" not in str(info.value)


@pytest.mark.parametrize("isa", _targets())
def test_emulator_runs_behind_the_targets_prefix(isa):
    _, program = _program(isa)
    target = target_for_isa(isa)
    if target.native_problem(()) is not None and target.emulator and shutil.which(target.emulator[0]) is None:
        with pytest.raises(UserError, match="not on PATH"):
            make_runner("emulator", isa=isa, programs=[program])
        return
    assert callable(make_runner("emulator", isa=isa, programs=[program]))
