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


def test_section_covers_every_kernel_on_the_machines(km):
    from kernels import registry

    machines = ["cortex-a55", "cortex-a520"]          # in-order: fast to time on a small shape
    text = km.section("neon", [(128, 256)], machines=machines)
    for name in machines:
        assert f"#### {name}" in text
    assert "#### cortex-x4" not in text
    for spec in (s for s in registry.kernels("neon") if not s.batched):   # GEMV table
        assert text.count(f"| {spec.name} ({spec.exactness}) | 128x256 |") == 2
    assert "`benchmarks/kernels_model.py`" in text


def test_unknown_isa_is_refused_before_any_work(km):
    from workbench.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="unknown ISA 'nope'"):
        km.main(["--isa", "neon,nope", "--no-write"])
