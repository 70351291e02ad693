"""Machine schema and loader (isa_models/core/machine/): common part, engine sections, extensions,
the AVX2 and NPU machine files."""

import copy
import re
from pathlib import Path

import pytest

from isa_models.core.machine import (MachineError, MissingExtensionError, load_machine, machine_from_dict,
                                     machine_names, missing_extensions)
from isa_models.core.toy import toy_machine

AVX2_MACHINES = ["zen4", "zen3", "skylake", "alderlake-p"]
ISA_MD_12 = ["vpshufb", "vpshufb.x", "vpmaddubsw", "vpmaddwd", "vpdpbusd", "vpaddb", "vpaddw", "vpaddd",
             "vpsubb", "vpaddsb", "vpsignb", "vpabsb", "vpand", "vpor", "vpxor", "vpcmpeqb", "vpsrlw",
             "vpsllw", "vpsraw", "vpsrlw.count", "vpunpcklbw", "vpunpckhbw", "vpmovsxbw", "vpbroadcastb",
             "vpbroadcastw", "vpbroadcastd", "broadcast_load", "vpermq", "vperm2i128", "vinserti128",
             "vextracti128", "vpackssdw", "vpacksswb", "vpalignr", "vphaddd", "vphaddw", "vpmullw",
             "vpmulld", "vpsadbw", "vpblendvb", "vpmovmskb", "load", "store"]


def test_toy_machine_loads_with_sources():
    m = machine_from_dict(toy_machine(), path="toy.toml")
    assert m.timing("toy.mac").operand_latency == {0: 1}
    assert m.port_groups["ALU"] == ("A0", "A1")
    assert m.source_of("ooo.rob_size").startswith("toy machine")


def test_unknown_key_names_file_and_key():
    data = toy_machine()
    data["ooo"]["rob_sise"] = 3
    with pytest.raises(MachineError, match=r"toy\.toml: \[ooo\] unknown key 'rob_sise'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["classes"]["toy.add"]["latncy"] = 1
    with pytest.raises(MachineError, match=r"\[classes\.toy\.add\] unknown key 'latncy'"):
        machine_from_dict(data, path="toy.toml")


def test_missing_key_and_missing_source():
    data = toy_machine()
    del data["ooo"]["dispatch_width"]
    with pytest.raises(MachineError, match=r"toy\.toml: \[ooo\] missing key 'dispatch_width'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    del data["classes"]["toy.mul"]["source"]
    with pytest.raises(MachineError, match=r"\[classes\.toy\.mul\] missing key 'source'"):
        machine_from_dict(data, path="toy.toml")


def test_bad_values():
    data = toy_machine()
    data["classes"]["toy.add"]["ports"] = ["NOPE"]
    with pytest.raises(MachineError, match="unknown port or group 'NOPE'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["ooo"]["engine"] = "inorder"
    with pytest.raises(MachineError, match=r"\[ooo\] key 'engine' is not needed"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["classes"]["toy.add"]["uops"] = 2
    with pytest.raises(MachineError, match="lists 1 port groups for 2 uops"):
        machine_from_dict(data, path="toy.toml")


def test_unknown_class_and_unknown_machine():
    m = machine_from_dict(toy_machine(), path="toy.toml")
    with pytest.raises(MachineError, match="machine toy: class toy.nope has no timing"):
        m.timing("toy.nope")
    with pytest.raises(LookupError, match=r"unknown machine 'zen9'.*valid: .*zen4"):
        load_machine("zen9")


@pytest.mark.parametrize("name", AVX2_MACHINES)
def test_avx2_machines_load_and_cover_isa_md(name):
    m = load_machine(name, isa="avx2")
    assert m.isa == "avx2" and m.engine == "ooo"
    missing = [c for c in ISA_MD_12 if f"avx2.{c}" not in m.classes]
    assert not missing, f"{name} lacks {missing}"
    for cls in m.classes.values():
        assert cls.source.strip()
    assert name in machine_names("avx2")


def test_machine_file_round_trip_through_path(tmp_path: Path):
    src = load_machine("zen4").path.read_text()
    bad = tmp_path / "zen4.toml"
    bad.write_text(src.replace("rob_size = 320", "rob_size = 320\nrobsize = 1"))
    with pytest.raises(MachineError, match=r"zen4\.toml: \[ooo\] unknown key 'robsize'"):
        load_machine(str(bad))


def test_zen4_covers_every_sched_class_of_the_avx2_isa():
    avx2 = pytest.importorskip("isa_models.avx2")
    m = load_machine("zen4")
    missing = sorted(avx2.ISA.sched_classes() - set(m.classes))
    assert not missing, f"zen4.toml lacks {missing}"
    for name in AVX2_MACHINES[1:]:
        other = load_machine(name)
        assert not sorted(avx2.ISA.sched_classes() - set(other.classes)), name


def test_zen4_uses_measured_values():
    m = load_machine("zen4")
    assert m.timing("avx2.vpshufb").latency == 2          # [meas-Zen4] 2/0.5, not mca19's 2/1.0
    assert m.timing("avx2.vpermq").latency == 4
    assert "[meas-Zen4]" in m.timing("avx2.vpdpbusd").source
    # fitted by benchmarks/probes/x86/zen4_calibration.py (tests/oracle/test_zen4_microbench.py checks the
    # value against the script's data file): mixed FP classes sustain 3-4 uops/cycle, not a flat 3
    assert [c.name for c in m.issue_caps] == ["fp_mixed"] and 3 < m.issue_caps[0].per_cycle < 4
    assert m.port_binding == "dispatch"


@pytest.mark.parametrize("name", AVX2_MACHINES)
def test_avx2_machines_give_store_forwarding_with_sources(name):
    m = load_machine(name, isa="avx2")
    assert m.store_forward_latency is not None and m.store_forward_fail_penalty is not None
    for key in ("ooo.store_forward_latency", "ooo.store_forward_fail_penalty"):
        text = m.source_of(key)
        assert "meas-Zen4" in text if name == "zen4" else "assumption" in text, (name, key, text)
    assert m.to_json()["store_forward_latency"] == m.store_forward_latency


def test_store_forward_keys_are_optional_and_checked():
    data = toy_machine()
    assert machine_from_dict(data, path="toy.toml").store_forward_latency is None
    data["ooo"] = {**data["ooo"], "store_forward_fail_penalty": "11"}
    with pytest.raises(MachineError, match="store_forward_fail_penalty"):
        machine_from_dict(data, path="toy.toml")


def test_host_table_is_optional_checked_and_matches_by_model_or_flags():
    data = toy_machine()
    assert machine_from_dict(data, path="toy.toml").host is None
    data["host"] = {"source": "test", "vendor": "GenuineIntel", "family": 6, "models": [151],
                    "flags": ["amx_tile", "avx512_fp16"], "core": "Golden Cove"}
    host = machine_from_dict(data, path="toy.toml").host
    assert host.matches(vendor="GenuineIntel", family=6, model=151, flags=())
    # a KVM guest reporting another model number is still recognised by its flags
    assert host.matches(vendor="GenuineIntel", family=6, model=167, flags={"amx_tile", "avx512_fp16", "avx2"})
    assert not host.matches(vendor="GenuineIntel", family=6, model=167, flags={"amx_tile"})
    assert not host.matches(vendor="AuthenticAMD", family=6, model=151, flags=())
    bad = copy.deepcopy(data)
    bad["host"]["vendor"] = " "
    with pytest.raises(MachineError, match=r"toy.toml: \[host\] key 'vendor' has an invalid value"):
        machine_from_dict(bad, path="toy.toml")
    bad = copy.deepcopy(data)
    bad["host"]["family"] = "6"
    with pytest.raises(MachineError, match=r"\[host\] key 'family' has the wrong type"):
        machine_from_dict(bad, path="toy.toml")
    bad = copy.deepcopy(data)
    del bad["host"]["models"], bad["host"]["flags"]
    with pytest.raises(MachineError, match=r"\[host\] needs 'models' or 'flags'"):
        machine_from_dict(bad, path="toy.toml")
    bad = copy.deepcopy(data)
    bad["host"]["stepping"] = 3
    with pytest.raises(MachineError, match=r"\[host\] unknown key 'stepping'"):
        machine_from_dict(bad, path="toy.toml")


def test_avx2_hosts_are_disjoint():
    """No CPU is claimed by two AVX2 machines (so host_machine's choice is unambiguous)."""
    hosts = {n: load_machine(n, isa="avx2").host for n in machine_names("avx2")}
    assert all(h is not None for h in hosts.values())
    claimed = {}
    for name, h in hosts.items():
        for model in h.models:
            assert (h.vendor, h.family, model) not in claimed, (name, claimed.get((h.vendor, h.family, model)))
            claimed[(h.vendor, h.family, model)] = name
    zen4 = hosts["zen4"]
    assert zen4.matches(vendor="AuthenticAMD", family=25, model=17, flags=())     # this project's EPYC 9xx4
    assert not hosts["zen3"].matches(vendor="AuthenticAMD", family=25, model=17, flags=())


def test_based_on_takes_the_missing_tables_from_the_named_machine(tmp_path: Path):
    base = load_machine("alderlake-p", isa="avx2")
    (tmp_path / "alderlake-p.toml").write_text(base.path.read_text())
    derived = tmp_path / "derived.toml"
    derived.write_text('based_on = "alderlake-p"\n'
                       '[machine]\nsource = "test"\nname = "derived"\nisa = "avx2"\ndescription = "d"\n'
                       'clock_ghz = 3.0\ncores = 2\nextensions = ["avx2"]\n'
                       '[memory]\nsource = "test"\ndram_gbps_core = 10.0\ndram_gbps_chip = 20.0\n'
                       '[[memory.levels]]\nsource = "test"\nname = "L1"\nsize_bytes = 1024\nbytes_per_cycle = 8.0\n')
    m = load_machine(derived)
    assert m.classes == base.classes and m.ports == base.ports and m.dispatch_width == base.dispatch_width
    assert m.clock_ghz == 3.0 and [lv.size_bytes for lv in m.memory] == [1024]
    assert m.host is None                             # identity is never inherited: it claims no CPU
    assert load_machine("graniterapids", isa="avx2").classes == base.classes     # one copy of Golden Cove
    derived.write_text(derived.read_text().replace('"alderlake-p"', '"nope"'))
    with pytest.raises(MachineError, match=r"derived.toml: key 'based_on' names no machine file 'nope'"):
        load_machine(derived)
    (tmp_path / "chained.toml").write_text('based_on = "derived"\n')
    derived.write_text(derived.read_text().replace('"nope"', '"alderlake-p"'))
    with pytest.raises(MachineError, match="which is itself based on another machine"):
        load_machine(tmp_path / "chained.toml")


# ---- the common part and the engine-section dispatch

def test_one_engine_section_is_required():
    data = toy_machine()
    del data["ooo"]
    with pytest.raises(MachineError, match=r"toy\.toml: no engine section; a machine has one of "
                                           r"\[inorder\], \[mac_array\], \[ooo\]"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["core"] = data.pop("ooo")                     # the schema before engine sections
    with pytest.raises(MachineError, match=r"\[core\] became the engine section"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["inorder"] = dict(data["ooo"])
    with pytest.raises(MachineError, match=r"2 engine sections \(\[ooo\], \[inorder\]\); a machine has exactly one"):
        machine_from_dict(data, path="toy.toml")


@pytest.mark.parametrize("table,key", [("machine", "name"), ("machine", "clock_ghz"), ("machine", "extensions"),
                                       ("memory", "dram_gbps_core"), ("ooo", "rob_size"), ("ports", "names"),
                                       ("classes.toy.add", "latency")])
def test_missing_key_of_each_table_names_file_table_and_key(table, key):
    data = toy_machine()
    where = data
    for part in ("classes", table[len("classes."):]) if table.startswith("classes.") else (table,):
        where = where[part]
    del where[key]
    with pytest.raises(MachineError, match=rf"toy\.toml: \[{re.escape(table)}\] missing key '{key}'"):
        machine_from_dict(data, path="toy.toml")


@pytest.mark.parametrize("table", ["machine", "memory", "ooo", "ports", "host"])
def test_unknown_key_of_each_table_names_file_table_and_key(table):
    data = toy_machine()
    data["host"] = {"source": "test", "vendor": "ACME", "models": [1], "core": "c"}
    data[table]["bogus"] = 1
    with pytest.raises(MachineError, match=rf"toy\.toml: \[{table}\] unknown key 'bogus'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["systolic"] = {"source": "later"}             # not an engine kind: an unknown table
    with pytest.raises(MachineError, match=r"\[\(top level\)\] unknown key 'systolic'"):
        machine_from_dict(data, path="toy.toml")


def test_inorder_section_reads_the_cpu_keys():
    data = toy_machine()
    data["inorder"] = data.pop("ooo")
    m = machine_from_dict(data, path="toy.toml")
    assert m.engine == "inorder" and m.dispatch_width == 4 and m.section.kind == "inorder"
    assert m.source_of("inorder.dispatch_width").startswith("toy machine")
    data["inorder"]["widht"] = 2
    with pytest.raises(MachineError, match=r"\[inorder\] unknown key 'widht'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    del data["ports"]
    with pytest.raises(MachineError, match=r"an \[ooo\] machine needs a \[ports\] table"):
        machine_from_dict(data, path="toy.toml")


def test_extensions_are_required_distinct_strings_with_a_source():
    m = machine_from_dict(toy_machine(machine={"extensions": ["avx2", "fma"]}), path="toy.toml")
    assert m.extensions == ("avx2", "fma") and m.to_json()["extensions"] == ["avx2", "fma"]
    for bad in (["avx2", "avx2"], ["avx2", 3], "avx2"):
        with pytest.raises(MachineError, match=r"\[machine\] key 'extensions'"):
            machine_from_dict(toy_machine(machine={"extensions": bad}), path="toy.toml")
    for name in machine_names():
        m = load_machine(name)
        assert m.source_of("machine.extensions") != m.source_of("machine.name"), name   # its own source


def test_host_vendor_is_any_string_and_family_optional():
    data = toy_machine()
    data["host"] = {"source": "test", "vendor": "ARM", "models": [0xd0b], "core": "Cortex-A76"}
    host = machine_from_dict(data, path="toy.toml").host
    assert host.family is None
    assert host.matches(vendor="ARM", family=None, model=0xd0b, flags=())
    assert not host.matches(vendor="ARM", family=None, model=0xd05, flags=())
    data["host"]["family"] = 8
    host = machine_from_dict(data, path="toy.toml").host
    assert host.matches(vendor="ARM", family=8, model=0xd0b, flags=()) and \
        not host.matches(vendor="ARM", family=7, model=0xd0b, flags=())


def test_avx2_machines_extensions_follow_the_vendors():
    ext = {n: set(load_machine(n, isa="avx2").extensions) for n in machine_names("avx2")}
    assert all({"avx", "avx2", "fma"} <= e for e in ext.values())
    assert {"avx512_vnni", "avx512vl", "avx512f"} <= ext["zen4"] and "avx_vnni" not in ext["zen4"]
    for name in ("zen3", "skylake"):
        assert not {"avx512_vnni", "avx_vnni"} & ext[name] and not any(f.startswith("avx512") for f in ext[name])
    assert "avx_vnni" in ext["alderlake-p"] and not any(f.startswith("avx512") for f in ext["alderlake-p"])
    assert {"avx512_vnni", "avx512vl", "avx_vnni", "amx_tile", "amx_int8"} <= ext["graniterapids"]


# ---- the extensions check

def test_alderlake_refuses_vnni2s_evex_vpdpbusd_and_zen4_times_it():
    from isa_models.core.timing import time_program
    from kernels.registry import get

    program = get("vnni2", "avx2").build(64, 256)
    alder = load_machine("alderlake-p", isa="avx2")
    missing = missing_extensions(alder, program)
    assert missing and all(set(v) == {"avx512_vnni", "avx512vl"} for v in missing.values())
    assert all(f.startswith("vpdpbusd") for f in missing)
    with pytest.raises(MissingExtensionError) as info:
        time_program(program, alder)
    text = str(info.value)
    assert "\n" not in text and text.startswith("machine alderlake-p lacks avx512_vnni, avx512vl, needed by vpdpbusd")
    assert text.endswith(f"in program {program.name}")
    assert isinstance(info.value, MachineError) and isinstance(info.value, ValueError)
    zen4 = load_machine("zen4", isa="avx2")
    assert missing_extensions(zen4, program) == {}
    zen4.check_program(program)                       # no error
    assert time_program(program, zen4).cycles > 0
    # a kernel without EVEX forms times on every AVX2 machine
    i2s = get("i2s", "avx2").build(64, 256)
    for name in machine_names("avx2"):
        load_machine(name, isa="avx2").check_program(i2s)


def test_machine_errors_are_user_errors():
    from workbench.errors import UnknownNameError, UserError

    with pytest.raises(UnknownNameError, match="valid:"):
        load_machine("zen9")
    with pytest.raises(UserError, match="does not exist"):
        load_machine("/nonexistent/zen9.toml")
    assert issubclass(MachineError, UserError)


# ---- the MAC-array section

def test_mac_array_machines_load_through_the_common_loader():
    for name in machine_names("npu"):
        m = load_machine(name, isa="npu")
        assert m.engine == "mac_array" and m.isa == "npu" and m.extensions == ()
        assert m.memory == () and m.cores == 1
        # DRAM bandwidth is derived from the DMA bus, and says so
        assert m.dram_gbps_core == pytest.approx(m.dma_bytes_per_cycle * m.clock_ghz)
        assert "derived" in m.source_of("memory.dram_gbps_core")
        for key in ("rows", "cols", "weight_encoding", "acc_bits", "dma_latency_cycles", "dataflow"):
            assert m.source_of(f"mac_array.{key}").strip()
        js = m.to_json()
        assert js["engine"] == "mac_array" and js["rows"] == m.rows
    edge = load_machine("npu/edge16")
    assert (edge.rows, edge.cols, edge.weight_encoding, edge.clock_ghz) == (16, 16, "2bit", 0.5)
    assert edge.source_of("mac_array.rows").startswith("Gemmini default mesh")


def _npu_file(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "tiny.toml"
    text = load_machine("tiny", isa="npu").path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old,new,match", [
    ("rows = 4\n", "", r"tiny\.toml: \[mac_array\] missing key 'rows'"),
    ("acc_bits = 20\n", "", r"\[mac_array\]\.sources names unknown key 'acc_bits'"),
    ("acc_bits = 20\n", "acc_bits = 20\nacc_bitz = 1\n", r"\[mac_array\] unknown key 'acc_bitz'"),
    ("rows = 4\n", 'rows = "4"\n', r"\[mac_array\] key 'rows' has the wrong type"),
    ('weight_encoding = "2bit"', 'weight_encoding = "3bit"', r"\[mac_array\] key 'weight_encoding' = '3bit' is not one of"),
    ("w_bank_words = 16", "w_bank_words = 12", r"\[mac_array\] key 'w_bank_words' = 12 must be a power of two"),
    ("dma_bytes_per_cycle = 4", "dma_bytes_per_cycle = 3", r"key 'dma_bytes_per_cycle' = 3 does not divide"),
    ("acc_bits = 20", "acc_bits = 11", r"key 'acc_bits' = 11 cannot hold one 8-lane word sum"),
    ('dataflow = "output-stationary', 'dataflaw = "output-stationary', r"\[mac_array\]\.sources names unknown key 'dataflaw'"),
    ("[mac_array]\nsource", "[mac_array]\nsauce", r"\[mac_array\] missing key 'source'"),
    ("[memory]", "[ports]\nsource = 'x'\nnames = ['P']\nload = []\nstore = []\n[memory]", r"unknown key 'ports'"),
])
def test_mac_array_section_errors_name_file_and_key(tmp_path, old, new, match):
    with pytest.raises(MachineError, match=match):
        load_machine(_npu_file(tmp_path, old, new))


def test_published_figures_are_optional_checked_and_sourced():
    data = toy_machine()
    assert machine_from_dict(data, path="toy.toml").published == ()
    fig = {"source": "a paper", "what": "someone's decode", "model": "tiny", "tokens_per_s": 12.5,
           "includes": "the whole decode step"}
    data["published"] = [fig]
    m = machine_from_dict(data, path="toy.toml")
    assert m.published[0].tokens_per_s == 12.5 and m.published[0].source == "a paper"
    assert m.to_json()["published"][0]["model"] == "tiny"
    for key, value, match in [("tokens_per_s", 0, r"\[published\[0\]\] key 'tokens_per_s' has an invalid value"),
                              ("tokens_per_s", "50", r"key 'tokens_per_s' has the wrong type"),
                              ("model", " ", r"key 'model' has an invalid value"),
                              ("typo", 1, r"\[published\[0\]\] unknown key 'typo'")]:
        bad = copy.deepcopy(data)
        bad["published"][0][key] = value
        with pytest.raises(MachineError, match=match):
            machine_from_dict(bad, path="toy.toml")
    bad = copy.deepcopy(data)
    del bad["published"][0]["source"]
    with pytest.raises(MachineError, match=r"published\[0\].*source"):
        machine_from_dict(bad, path="toy.toml")
    bad = copy.deepcopy(data)
    bad["published"] = {"what": "x"}
    with pytest.raises(MachineError, match=r"published"):
        machine_from_dict(bad, path="toy.toml")
