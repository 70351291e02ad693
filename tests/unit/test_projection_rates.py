"""workbench.projection.rates: compute rates from the machines' class tables."""

from __future__ import annotations

import pytest

from isa_models.registry import get_isa, plugins
from workbench.projection.dense_formats import WORK_KINDS
from workbench.projection.rates import machine_rates, reciprocal_throughput


def test_every_roofline_class_exists_on_every_machine_of_its_isa():
    for plugin in plugins():
        assert set(plugin.roofline_classes) <= set(WORK_KINDS), plugin.name
        for name in plugin.machine_names():
            rates = machine_rates(plugin.load_machine(name), plugin)
            assert set(rates) == set(plugin.roofline_classes)
            assert all(r.ops_per_s > 0 for r in rates.values())


def test_ooo_rate_by_hand():
    # cortex-x4: fmla .4s on V0123 (4 pipes) -> 0.25 cycles; 4 lanes x 4 per cycle x 3.3 GHz
    plugin = get_isa("neon")
    m = plugin.load_machine("cortex-x4")
    rthr, units, _ = reciprocal_throughput(m, "neon.fmla")
    assert (rthr, units) == (0.25, 1)
    rates = machine_rates(m, plugin, clock_ghz=2.0)
    assert rates["fp32_fma"].ops_per_s == pytest.approx(4 / 0.25 * 2.0e9)
    # scvtf on V0 with occupancy 2 on cortex-a76: 2 cycles
    assert reciprocal_throughput(plugin.load_machine("cortex-a76"), "neon.scvtf")[0] == 2.0


def test_vliw_rate_counts_slots_units_and_contexts():
    plugin = get_isa("hvx")
    m = plugin.load_machine("snapdragon-8-gen-3")
    rthr, units, _ = reciprocal_throughput(m, "hvx.V6_vrmpybus")
    assert units == m.contexts and rthr == 0.5                       # two multiply units per packet
    assert machine_rates(m, plugin)["int8_mac"].ops_per_s == pytest.approx(128 / 0.5 * m.clock_ghz * 1e9 * units)
