"""The HVX machine files (isa_models/machines/hvx/*.toml) against the HVX ISA and their sources.

Every file loads as a ``[vliw]`` machine, covers every scheduling class of `isa_models.hvx.ISA`
with one use stage per input of the form, follows the SoC -> Hexagon version mapping, keeps the
v69+ single-multiply vrmpy-accumulate, and marks each value that is not public "assumption:".
"""

from __future__ import annotations

import pytest

from isa_models.core.machine import load_machine, machine_names
from isa_models.hvx import ISA, PLUGIN

#: file -> (Hexagon version, SoC) (tensorflow/tensorflow .../qualcomm/core/schema/soc_table.cc)
EXPECTED = {"snapdragon-8-gen-1": (69, "SM8450"), "snapdragon-8-gen-2": (73, "SM8550"),
            "snapdragon-8-gen-3": (75, "SM8650"), "snapdragon-8-elite": (79, "SM8750")}


def test_the_four_machines_exist():
    assert set(machine_names("hvx")) == set(EXPECTED)
    assert PLUGIN.default_machine in EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_machine_loads_with_its_version_and_soc(name):
    m = load_machine(name, isa="hvx")
    version, soc = EXPECTED[name]
    assert (m.isa, m.engine, m.version, m.slots) == ("hvx", "vliw", version, 4)
    assert m.units == ("LD", "ST", "XLANE", "SHIFT", "MPY0", "MPY1")
    assert soc in m.description and soc in m.source_of("vliw.version") and f"V{version}" in m.source_of("vliw.version")
    assert m.vtcm_bytes == 8 * 1024 * 1024
    assert f"hvxv{version}" in m.extensions and f"hvxv{version + 2}" not in m.extensions
    assert 0 < m.dram_gbps_core < m.dram_gbps_chip
    assert m.contexts <= m.threads


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_hvx_class_is_timed_with_one_stage_per_input(name):
    m = load_machine(name, isa="hvx")
    for d in ISA.instructions.values():
        cls = m.vliw_class(d.sched_class)
        # forms sharing an opcode (vlo/vhi read a pair as V6_vassign) keep the longest list
        assert len(cls.use_stages) >= len(d.ins), d.name
        assert len(cls.use_stages) == max(len(e.ins) for e in ISA.instructions.values()
                                          if e.sched_class == d.sched_class), d.name
        # every machine takes its own CPU's itineraries: LLVM 19 up to v73, LLVM 22 for v75/v79
        llvm = 19 if m.version <= 73 else 22
        assert cls.source.startswith(f"[llvm{llvm}-itin hexagonv{m.version}"), d.name
        assert d.attrs["llvm"] in cls.source
        if llvm > 19:                  # the probe compared each with the same LLVM's hexagonv73
            assert cls.source.endswith("hexagonv73's itinerary"), d.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_itinerary_facts_of_isa_md(name):
    """isa.md §3.2-§3.3 (LLVM itineraries, checked with llvm-mc packets)."""
    m = load_machine(name, isa="hvx")
    any4 = ({"XLANE"}, {"SHIFT"}, {"MPY0"}, {"MPY1"})
    vadd = m.vliw_class("hvx.V6_vaddb")
    assert [set(a) for a in vadd.resources[0]] == list(any4) and (vadd.def_stage, vadd.use_stages) == (9, (7, 7))
    acc = m.vliw_class("hvx.V6_vrmpybusv_acc")        # one multiply from v69 on, accumulator late
    assert [set(a) for a in acc.resources[0]] == [{"MPY0"}, {"MPY1"}]
    assert acc.slots == (frozenset({2}), frozenset({3})) and acc.use_stages == (7, 5, 5)
    lut = m.vliw_class("hvx.V6_vlutvwh_nm")           # vlut16: XLANE+SHIFT together, early sources
    assert lut.resources == ((frozenset({"XLANE", "SHIFT"}),),) and lut.use_stages == (5, 5, 2)
    assert m.vliw_class("hvx.V6_vL32b_tmp_ai").resource_names == ("LD",)
    assert m.vliw_class("hvx.V6_vL32b_ai").resource_names == ("LD", "VA")
    assert m.vliw_class("hvx.V6_vL32Ub_ai").slots == (frozenset({0, 1}),)
    assert m.vliw_class("hvx.V6_vS32b_ai").slots == (frozenset({0}),)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_non_public_values_say_assumption(name):
    m = load_machine(name, isa="hvx")
    for key in ("machine.clock_ghz", "vliw.threads", "vliw.contexts", "vliw.l2_latency_cycles",
                "vliw.dma_bytes_per_cycle", "vliw.dma_latency_cycles", "memory.dram_gbps_core",
                "memory.levels[0]"):
        assert m.source_of(key).startswith("assumption:"), key
    for key in ("vliw.version", "vliw.vtcm_bytes", "vliw.vtcm_loads_per_packet"):
        assert not m.source_of(key).startswith("assumption:"), key
