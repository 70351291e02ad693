"""`workbench.sweep.spec`: a valid spec resolved against the registries; every bad spec one
UserError line naming the key (unknown table, key or axis, wrong type, empty axis, unknown names,
bad shapes, objectives)."""

from __future__ import annotations

import pytest

from isa_models.registry import get_isa, isa_names
from kernels import registry
from workbench.errors import UserError
from workbench.sweep.spec import load_spec, parse_shape, parse_spec


def _kernel_spec(**axes):
    data = {"sweep": {"name": "t"}, "axes": {"isa": ["avx2"], "shape": ["256x512"]}}
    data["axes"].update(axes)
    return data


def test_a_kernel_spec_gets_its_defaults_and_names_resolved():
    spec = parse_spec(_kernel_spec(kernel=["vnni"], machine=["zen4"], param={"chains": [1, 2]}))
    assert (spec.kind, spec.search, spec.seed, spec.samples) == ("kernel", "grid", 0, None)
    assert spec.objectives == ("cycles", "bytes") and spec.directions == ("min", "min")
    assert spec.axes["kernel"] == ("vnni",) and spec.axes["machine"] == ("zen4",)
    assert spec.params == {"chains": (1, 2)}


def test_all_expands_from_the_registries():
    spec = parse_spec({"axes": {"isa": "all", "kernel": "all", "machine": "all", "shape": "256x512"}})
    assert spec.axes["isa"] == tuple(isa_names())
    assert set(spec.axes["kernel"]) == {s.name for s in registry.kernels()}
    assert set(spec.axes["machine"]) == {m for i in isa_names() for m in get_isa(i).machine_names()}
    assert spec.name == "sweep" and spec.axes["shape"] == ("256x512",)


def test_projection_spec_and_objective_directions():
    spec = parse_spec({"sweep": {"kind": "projection", "objectives": ["tok_s", "j_per_token"]},
                       "axes": {"soc": ["raspberry-pi-5"], "engine": ["cpu"], "threads": [1, 2]}})
    assert spec.directions == ("max", "min") and spec.axes["threads"] == (1, 2)


def test_shapes():
    assert parse_shape("2560x6912") == (2560, 6912)
    assert parse_shape("bitnet-b1.58-2B-4T:gate") == (6912, 2560)
    for bad in ("2560", "0x5", "ax5", "nope:gate", "bitnet-b1.58-2B-4T:nope"):
        with pytest.raises(UserError, match="shape"):
            parse_shape(bad)


@pytest.mark.parametrize("data, words", [
    ({"axes": {"isa": ["avx2"], "shape": ["1x1"]}, "extra": {}}, "unknown table [extra]"),
    ({"sweep": {"colour": 1}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "[sweep]: unknown key 'colour'"),
    ({"sweep": {"kind": "magic"}, "axes": {"isa": ["avx2"]}}, "kind: 'magic'"),
    ({"sweep": {"search": "random"}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "samples"),
    ({"sweep": {"samples": 4}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "samples"),
    ({"sweep": {"seed": "0"}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "seed: '0' is not an integer"),
    ({"sweep": {"objectives": ["cycles"]}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "objectives"),
    ({"sweep": {"objectives": ["cycles", "tok_s"]}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}},
     "unknown objective 'tok_s'"),
    ({"sweep": {"tokens": 4}, "axes": {"isa": ["avx2"], "shape": ["1x1"]}}, "tokens: only for kind"),
    ({"sweep": {}}, "[axes]"),
    (_kernel_spec(colour=["red"]), "unknown axis 'colour'"),
    (_kernel_spec(soc=["raspberry-pi-5"]), "[axes] soc: not an axis of a kernel sweep"),
    (_kernel_spec(isa=[]), "[axes] isa: empty axis"),
    (_kernel_spec(isa=["z80"]), "unknown ISA 'z80'"),
    (_kernel_spec(isa=[1]), "[axes] isa: 1 is not a string"),
    (_kernel_spec(isa=["avx2", "avx2"]), "given twice"),
    (_kernel_spec(kernel=["warp"]), "[axes] kernel: unknown kernel"),
    (_kernel_spec(machine=["cray-1"]), "[axes] machine: unknown machine"),
    (_kernel_spec(shape=["256by512"]), "[axes] shape: bad shape"),
    (_kernel_spec(kernel=["vnni"], param={"groups": [1]}), "param.groups: not a parameter of any kernel"),
    (_kernel_spec(param={"chains": [1.5]}), "param.chains"),
    (_kernel_spec(kernel=["vnni"], param={"chains": ["two"]}),
     "param.chains: kernel vnni/avx2: parameter 'chains' takes an integer"),
    (_kernel_spec(kernel=["vnni"], param={"chains": [True]}),
     "param.chains: kernel vnni/avx2: parameter 'chains' takes an integer, got True"),
    ({"axes": {"shape": ["1x1"]}}, "needs the axis 'isa'"),
    ({"sweep": {"kind": "projection"}, "axes": {"soc": ["atari-st"]}}, "unknown SoC 'atari-st'"),
    ({"sweep": {"kind": "projection"}, "axes": {"soc": ["raspberry-pi-5"], "model": ["gpt-9"]}},
     "unknown model preset 'gpt-9'"),
    ({"sweep": {"kind": "projection"}, "axes": {"soc": ["raspberry-pi-5"], "engine": ["warp"]}},
     "unknown engine"),
    ({"sweep": {"kind": "projection"}, "axes": {"soc": ["raspberry-pi-5"], "threads": [0]}}, "threads"),
])
def test_bad_specs_are_one_line_user_errors_naming_the_key(data, words):
    with pytest.raises(UserError) as exc:
        parse_spec(data)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_load_spec_reads_toml_and_refuses_bad_files(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nname = "x"\n[axes]\nisa = ["avx2"]\nshape = ["256x512"]\nparam.chains = [1, 2]\n')
    spec = load_spec(path)
    assert spec.name == "x" and spec.params == {"chains": (1, 2)} and spec.path == path
    (tmp_path / "bad.toml").write_text("[sweep\n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_spec(tmp_path / "bad.toml")
    with pytest.raises(UserError, match="no such file"):
        load_spec(tmp_path / "missing.toml")


def test_the_example_specs_are_valid():
    from pathlib import Path

    from workbench.sweep.points import expand

    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    kernel = load_spec(examples / "kernel_sweep.toml")
    assert kernel.kind == "kernel" and len(expand(kernel).configs) == 60
    projection = load_spec(examples / "projection_sweep.toml")
    assert projection.kind == "projection" and projection.directions == ("min", "max")
    assert len(expand(projection).configs) == 21
