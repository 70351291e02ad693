"""workbench.sweep.param_space: candidate values per kernel parameter and the supported grid."""

from __future__ import annotations

import itertools

import pytest

from kernels import registry
from kernels.registry import KernelSpec
from workbench.errors import UserError
from workbench.sweep.param_space import candidates, grid, parameter_space, tunable

#: (isa, kernel, M, K): kernels with int, small-int, 0/flag, None-block and tokens parameters
KERNELS = [("avx2", "vnni2", 256, 2560), ("avx2", "i2s", 2560, 2560), ("neon", "rowdot", 256, 2560),
           ("hvx", "tman", 256, 1024), ("hvx", "i2s", 512, 2560), ("avx2", "tl2", 256, 2560),
           ("neon", "tl1", 256, 1024), ("avx2", "prefill_maddubs", 256, 2560), ("npu", "npu_gemm", 256, 2560),
           ("neon", "tq2", 256, 2560)]


def _spec(isa, name):
    return registry.get(name, isa)


@pytest.mark.parametrize("isa,name,M,K", KERNELS)
def test_every_point_is_supported_and_the_default_comes_first(isa, name, M, K):
    spec = _spec(isa, name)
    space = parameter_space(spec, None, M, K)
    g = grid(spec, space, M, K)
    assert g.points, f"{name}: no supported configuration"
    for p in g.points:
        assert spec.supports(M, K, **p), p
    for p, reason in g.refused:
        assert not spec.supports(M, K, **p) and reason
    default = {k: v for k, v in spec.params.items() if k != spec.machine_param}
    assert g.points[0] == default
    assert len(g.points) + len(g.refused) == len(list(itertools.product(*space.values())))
    assert spec.machine_param not in space
    for key, values in space.items():
        assert values[0] == spec.params[key]              # the default first
        assert set(g.space[key]) <= set(values)


def test_tokens_parameter_stays_fixed_unless_valued():
    spec = _spec("avx2", "prefill_maddubs")
    assert spec.tokens_param == "N" and "N" not in tunable(spec)
    assert parameter_space(spec, None, 256, 2560)["N"] == [spec.params["N"]]
    space = parameter_space(spec, None, 256, 2560, values={"N": [4, 8, 3]})
    g = grid(spec, space, 256, 2560)
    assert {p["N"] for p in g.points} == {4, 8}             # N=3 is refused by the kernel
    assert any(p["N"] == 3 for p, _ in g.refused)


def test_fixed_parameters_are_respected():
    spec = _spec("neon", "rowdot")
    space = parameter_space(spec, None, 256, 2560, fixed={"groups": 2})
    assert space["groups"] == [2] and len(space["unroll"]) > 1
    g = grid(spec, space, 256, 2560)
    assert g.points and all(p["groups"] == 2 for p in g.points)
    assert g.default["groups"] == 2


def test_values_override_the_derived_candidates():
    spec = _spec("avx2", "i2s")
    space = parameter_space(spec, None, 256, 2560, values={"blocks_per_chunk": [8, 8, 300]})
    assert space["blocks_per_chunk"] == [8, 300]            # duplicates dropped, order kept
    g = grid(spec, space, 256, 2560)
    assert [p["blocks_per_chunk"] for p in g.points] == [8]
    assert len(g.refused) == 1 and "blocks_per_chunk=300" in g.refused[0][1]


def test_declared_param_values_replace_the_generic_rule():
    spec = _spec("avx2", "tl2")
    assert spec.param_values["BK"][0] is None
    space = parameter_space(spec, None, 256, 2560)
    assert space["BK"] == list(spec.param_values["BK"])
    g = grid(spec, space, 256, 2560)
    # BK need not divide K: K mod BK a multiple of 32 (2560 mod 96 = 64), every BK a multiple of 24
    assert {p["BK"] for p in g.points} - {None} == {96, 192, 240}


def test_param_values_naming_an_unknown_parameter_is_refused():
    spec = _spec("neon", "rowdot")
    with pytest.raises(ValueError, match="param_values"):
        KernelSpec(name="x", isa="neon", weight_format="rows4", description="", params={"a": 1}, exactness="exact",
                   build=spec.build, prepare=spec.prepare, result=spec.result, check_shape=spec.check_shape,
                   param_values={"b": (1, 2)})


@pytest.mark.parametrize("default,expected", [
    (True, [True, False]), (0, [0, 1, 2, 4]), ("edge16", ["edge16"]),
    (2, [2, 1, 3, 4, 8]), (None, [None, 4, 8, 16, 32, 64])])
def test_candidates_rule(default, expected):
    # 96 = 2^5 * 3: a default of 2 also gets the divisor 3 (in 2/2..2*2)
    assert candidates(default, 64, 96) == expected


def test_candidates_of_a_larger_default_include_divisors_near_it():
    got = candidates(32, 2560, 2560)
    assert got[0] == 32
    assert {8, 16, 64, 128} <= set(got) and {20, 40} <= set(got)     # 2560 = 2^9 * 5
    assert max(got) == 128 and min(got) == 8


def test_unknown_or_machine_parameters_are_user_errors():
    with pytest.raises(UserError, match="no parameter 'nope'"):
        parameter_space(_spec("neon", "rowdot"), None, 64, 64, fixed={"nope": 1})
    with pytest.raises(UserError, match="--values nope"):
        parameter_space(_spec("neon", "rowdot"), None, 64, 64, values={"nope": [1]})
    with pytest.raises(UserError, match="from --machine"):
        parameter_space(_spec("npu", "npu_gemm"), None, 64, 64, fixed={"machine": "tiny"})
    with pytest.raises(UserError, match="give one"):
        parameter_space(_spec("neon", "rowdot"), None, 64, 64, fixed={"groups": 1}, values={"groups": [1, 2]})
    with pytest.raises(UserError, match="^--values groups: kernel rowdot/neon: parameter 'groups' takes an integer"):
        parameter_space(_spec("neon", "rowdot"), None, 64, 64, values={"groups": [1, "two"]})
    with pytest.raises(UserError, match="^--param groups: "):
        parameter_space(_spec("neon", "rowdot"), None, 64, 64, fixed={"groups": "two"})
