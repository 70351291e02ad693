"""workbench.flow.defaults: names checked in command-line order, defaults filled from the ISA's
plug-in (machine modelling this CPU, fastest exact kernel the machine runs, 2B-4T) with the reason."""

from __future__ import annotations

import pytest

from isa_models.registry import get_isa, isa_names
from kernels.codegen import host
from workbench.errors import UnknownNameError, UserError
from workbench.flow import DEFAULT_MODEL, resolve
from workbench.flow.defaults import choose_kernel, resolve_machine
from workbench.reference import get_preset


def _as_host(monkeypatch, vendor: str, family: int, model: int, name: str = "test CPU") -> None:
    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": name, "vendor": vendor, "family": family,
                                                       "model": model, "stepping": 0})


def test_machine_defaults_to_the_one_modelling_this_cpu(monkeypatch):
    _as_host(monkeypatch, "AuthenticAMD", 25, 17, "EPYC 9R14")
    machine, why = resolve_machine(get_isa("avx2"), None)
    assert machine.name == "zen4" and why.startswith("--machine zen4: models this CPU (EPYC 9R14")
    assert resolve_machine(get_isa("avx2"), "host")[0].name == "zen4"
    assert resolve_machine(get_isa("avx2"), "skylake")[1] is None


def test_machine_defaults_to_the_isas_default_elsewhere(monkeypatch):
    _as_host(monkeypatch, "AuthenticAMD", 26, 2, "Zen 5")
    plugin = get_isa("avx2")
    machine, why = resolve_machine(plugin, None)
    assert machine.name == plugin.default_machine
    assert why == (f"--machine {plugin.default_machine}: the default machine of ISA avx2 (no avx2 machine "
                   f"models this CPU)")
    with pytest.raises(UserError, match="--machine host: this host, Zen 5 .* is modelled by no avx2 machine"):
        resolve_machine(plugin, "host")
    npu = get_isa("npu")
    assert resolve_machine(npu, None)[0].name == npu.default_machine


def test_kernel_default_skips_kernels_the_machine_cannot_run():
    config = get_preset("tiny")
    plugin = get_isa("avx2")
    runner, why = choose_kernel(plugin, resolve_machine(plugin, "zen4")[0], config, {})
    assert runner.spec.name == plugin.kernel_preference[0]
    assert why == f"--kernel {runner.spec.name}: fastest exact avx2 kernel zen4 runs"
    runner, why = choose_kernel(plugin, resolve_machine(plugin, "zen3")[0], config, {})
    assert runner.spec.exactness == "exact" and not runner.spec.name.startswith("vnni")
    assert "vnni2 needs avx512_vnni, avx512vl, which zen3 lacks" in why
    assert why.startswith(f"--kernel {runner.spec.name}: fastest exact avx2 kernel zen3 runs (")


def test_resolve_records_every_default_and_fills_the_machine_param():
    r = resolve(isa="npu", model="tiny")
    assert r.machine.name == get_isa("npu").default_machine
    assert r.spec.machine_param and r.params[r.spec.machine_param] == r.machine.name
    assert [line.split(":")[0] for line in r.defaults] == [f"--machine {r.machine.name}",
                                                          f"--kernel {r.spec.name}"]
    r = resolve(isa="npu", machine="tiny", kernel="npu_gemm")
    assert r.params["machine"] == "tiny" and r.config.name == DEFAULT_MODEL
    assert r.defaults == (f"--model {DEFAULT_MODEL}: the default model",)
    with pytest.raises(UserError, match="--param machine=edge16 conflicts with --machine tiny"):
        resolve(isa="npu", machine="tiny", model="tiny", params={"machine": "edge16"})


@pytest.mark.parametrize("kw, culprit", [
    (dict(isa="nosuch", machine="nope", kernel="nope", model="nope"), f"unknown ISA 'nosuch'; valid: {', '.join(isa_names())}"),
    (dict(isa="avx2", machine="nope", kernel="nope", model="nope"), "unknown machine 'nope' for ISA avx2; valid:"),
    (dict(isa="avx2", machine="zen4", kernel="nope", model="nope"), "unknown kernel 'nope' for ISA avx2; valid:"),
    (dict(isa="avx2", machine="zen4", kernel="i2s", model="nope"), "unknown model preset 'nope'"),
])
def test_unknown_names_come_in_command_line_order(kw, culprit):
    with pytest.raises(UnknownNameError, match=culprit.replace("(", r"\(")):
        resolve(**kw)


def test_named_kernel_the_machine_lacks_an_extension_for_is_refused():
    with pytest.raises(UserError, match="machine alderlake-p lacks avx512_vnni, avx512vl"):
        resolve(isa="avx2", machine="alderlake-p", kernel="vnni2", model="tiny")


def test_params_are_validated_on_every_isa():
    with pytest.raises(UserError, match="unknown parameter 'tiles'"):
        resolve(isa="avx2", machine="zen4", kernel="i2s", model="tiny", params={"tiles": 4})
    with pytest.raises(UserError, match="kernel npu_gemm/npu: unknown parameter 'tiles'"):
        resolve(isa="npu", model="tiny", params={"tiles": 4})
