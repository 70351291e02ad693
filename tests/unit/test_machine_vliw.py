"""The ``[vliw]`` engine section (isa_models/core/machine/vliw.py): parsing, lookups and errors.

A minimal in-memory VLIW machine is read back; every malformed value is refused with a
MachineError naming the file, the table and the key, as the other engine sections do.
"""

from __future__ import annotations

import copy

import pytest

from isa_models.core.machine import ENGINE_SECTIONS, MachineError, VliwClass, machine_from_dict

BASE = {
    "machine": {"source": "test", "name": "v", "isa": "toyvliw", "description": "a small VLIW core",
                "clock_ghz": 1.0, "cores": 1, "extensions": []},
    "memory": {"source": "test", "dram_gbps_core": 8.0, "dram_gbps_chip": 16.0,
               "levels": [{"source": "test", "name": "L2", "size_bytes": 65536, "bytes_per_cycle": 32.0}]},
    "vliw": {"source": "test", "version": 73, "slots": 4, "threads": 4, "contexts": 2,
             "units": ["LD", "ST", "XLANE", "SHIFT", "MPY0", "MPY1"], "vtcm_bytes": 1 << 20,
             "vtcm_loads_per_packet": 1, "vtcm_stores_per_packet": 1, "l2_latency_cycles": 100,
             "dma_bytes_per_cycle": 32.0, "dma_latency_cycles": 500,
             "sources": {"contexts": "assumption: two for the test"}},
    "resource_groups": {"source": "test", "VA": ["XLANE", "SHIFT", "MPY0", "MPY1"],
                        "VX_DV": [["MPY0", "MPY1"]]},
    "classes": {
        "t.add": {"source": "itin add", "slots": [0, 1, 2, 3], "resources": ["VA"], "def_stage": 9,
                  "use_stages": [7, 7]},
        "t.mpy": {"source": "itin mpy", "slots": [2, 3], "resources": ["VX_DV"], "def_stage": 9,
                  "use_stages": [7, 5, 5]},
        "t.ldu": {"source": "itin ldu", "slots": [[0, 1]], "resources": ["LD", "XLANE"], "def_stage": 9,
                  "use_stages": [1]},
        "t.scalar": {"source": "itin scalar", "slots": [0, 1, 2, 3], "def_stage": 3, "use_stages": [2, 2]},
    },
}


def load(data=None):
    return machine_from_dict(copy.deepcopy(BASE if data is None else data), path="v.toml")


def test_registered_as_an_engine_section():
    assert "vliw" in ENGINE_SECTIONS
    assert ENGINE_SECTIONS["vliw"].tables == ("resource_groups", "classes")


def test_reads_the_section_and_classes():
    m = load()
    assert m.engine == "vliw"
    assert (m.version, m.slots, m.threads, m.contexts) == (73, 4, 4, 2)
    assert m.units == ("LD", "ST", "XLANE", "SHIFT", "MPY0", "MPY1")
    add = m.vliw_class("t.add")
    assert isinstance(add, VliwClass)
    assert add.slots == (frozenset({0}), frozenset({1}), frozenset({2}), frozenset({3}))
    assert add.resources == ((frozenset({"XLANE"}), frozenset({"SHIFT"}), frozenset({"MPY0"}),
                              frozenset({"MPY1"})),)
    assert (add.def_stage, add.use_stages, add.source) == (9, (7, 7), "itin add")
    assert m.vliw_class("t.mpy").resources == ((frozenset({"MPY0", "MPY1"}),),)
    ldu = m.vliw_class("t.ldu")
    assert ldu.slots == (frozenset({0, 1}),)
    assert ldu.resources == ((frozenset({"LD"}),), (frozenset({"XLANE"}),))
    assert m.vliw_class("t.scalar").resources == ()
    assert m.source_of("vliw.contexts") == "assumption: two for the test"
    assert m.source_of("vliw.slots") == "test"
    assert m.source_of("classes.t.mpy") == "itin mpy"
    j = m.to_json()
    assert j["engine"] == "vliw" and j["classes"]["t.ldu"]["slots"] == [[0, 1]]
    assert m.summary()["units"] == "LD/ST/XLANE/SHIFT/MPY0/MPY1"


def test_unknown_class_names_machine_and_class():
    with pytest.raises(MachineError, match="machine v: class t.nope has no timing"):
        load().vliw_class("t.nope")


def _broken(path: tuple, value):
    data = copy.deepcopy(BASE)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, message", [
    (("vliw", "slots"), 0, r"\[vliw\] key 'slots' has an invalid value 0"),
    (("vliw", "threads"), KeyError, r"\[vliw\] missing key 'threads'"),
    (("vliw", "contexts"), 8, r"\[vliw\] key 'contexts' = 8 exceeds threads = 4"),
    (("vliw", "units"), [], r"\[vliw\] key 'units' must list at least one unit"),
    (("vliw", "units"), ["LD", "LD"], r"\[vliw\] key 'units' must list distinct"),
    (("vliw", "dma_bytes_per_cycle"), "fast", r"\[vliw\] key 'dma_bytes_per_cycle' has the wrong type"),
    (("vliw", "extra"), 1, r"\[vliw\] unknown key 'extra'"),
    (("resource_groups", "VA"), ["XLANE", "FPU"], r"\[resource_groups\] key 'VA' lists 'FPU'"),
    (("resource_groups", "LD"), ["LD"], r"\[resource_groups\] key 'LD' repeats a unit"),
    (("resource_groups", "EMPTY"), [], r"\[resource_groups\] key 'EMPTY' must list at least one"),
    (("classes", "t.add", "slots"), [4], r"\[classes.t.add\] key 'slots' lists 4"),
    (("classes", "t.add", "slots"), [], r"\[classes.t.add\] key 'slots' must list at least one"),
    (("classes", "t.add", "resources"), ["VQ"], r"\[classes.t.add\] key 'resources' names unknown unit or group 'VQ'"),
    (("classes", "t.add", "use_stages"), [7, -1], r"\[classes.t.add\] key 'use_stages' must list"),
    (("classes", "t.add", "def_stage"), KeyError, r"\[classes.t.add\] missing key 'def_stage'"),
    (("classes", "t.add", "source"), KeyError, r"\[classes.t.add\] missing key 'source'"),
    (("classes", "t.add", "latency"), 3, r"\[classes.t.add\] unknown key 'latency'"),
])
def test_bad_values_name_file_table_and_key(path, value, message):
    with pytest.raises(MachineError, match=r"v\.toml: " + message):
        load(_broken(path, value))


def test_missing_owned_tables():
    data = copy.deepcopy(BASE)
    del data["resource_groups"]
    with pytest.raises(MachineError, match=r"a \[vliw\] machine needs a \[resource_groups\] table"):
        load(data)
