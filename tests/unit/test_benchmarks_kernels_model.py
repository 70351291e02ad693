"""benchmarks/kernels_model.py: which ISAs it covers by default and one ISA's section on a small shape."""

from __future__ import annotations

import pytest
from benchmark_scripts import benchmark_script

from isa_models.registry import plugins


@pytest.fixture(scope="module")
def km():
    with benchmark_script("kernels_model") as module:
        yield module


def test_default_isas_leave_native_and_own_script_isas_out(km):
    isas = km.default_isas()
    assert "neon" in isas
    for p in plugins():
        if "native" in p.crosschecks or (km.BENCHMARKS / f"{p.name}_kernels.py").is_file():
            assert p.name not in isas
        else:
            assert p.name in isas


def test_section_covers_every_kernel_and_machine(km, monkeypatch):
    from isa_models.core.machine import machine_names
    from kernels import registry

    text = km.section("neon", [(128, 256)])
    for name in machine_names("neon"):
        assert f"#### {name}" in text
    for spec in registry.kernels("neon"):
        assert f"| {spec.name} ({spec.exactness}) | 128x256 |" in text
    assert "`benchmarks/kernels_model.py`" in text


def test_unknown_isa_is_refused_before_any_work(km):
    from workbench.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="unknown ISA 'nope'"):
        km.main(["--isa", "neon,nope", "--no-write"])
