"""Machine schema and loader (isa_models/core/machine.py) and the AVX2 machine files."""

import copy
from pathlib import Path

import pytest

from isa_models.core.machine import MachineError, load_machine, machine_from_dict, machine_names
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
    assert m.source_of("core.rob_size").startswith("toy machine")


def test_unknown_key_names_file_and_key():
    data = toy_machine()
    data["core"]["rob_sise"] = 3
    with pytest.raises(MachineError, match=r"toy\.toml: \[core\] unknown key 'rob_sise'"):
        machine_from_dict(data, path="toy.toml")
    data = toy_machine()
    data["classes"]["toy.add"]["latncy"] = 1
    with pytest.raises(MachineError, match=r"\[classes\.toy\.add\] unknown key 'latncy'"):
        machine_from_dict(data, path="toy.toml")


def test_missing_key_and_missing_source():
    data = toy_machine()
    del data["core"]["dispatch_width"]
    with pytest.raises(MachineError, match=r"toy\.toml: \[core\] missing key 'dispatch_width'"):
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
    data["core"]["engine"] = "vliw"
    with pytest.raises(MachineError, match="'engine' has an invalid value 'vliw'"):
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
    with pytest.raises(MachineError, match=r"zen4\.toml: \[core\] unknown key 'robsize'"):
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
    # fitted by benchmarks/zen4_calibration.py (tests/oracle/test_zen4_microbench.py checks the
    # value against the script's data file): mixed FP classes sustain 3-4 uops/cycle, not a flat 3
    assert [c.name for c in m.issue_caps] == ["fp_mixed"] and 3 < m.issue_caps[0].per_cycle < 4
    assert m.port_binding == "dispatch"


@pytest.mark.parametrize("name", AVX2_MACHINES)
def test_avx2_machines_give_store_forwarding_with_sources(name):
    m = load_machine(name, isa="avx2")
    assert m.store_forward_latency is not None and m.store_forward_fail_penalty is not None
    for key in ("core.store_forward_latency", "core.store_forward_fail_penalty"):
        text = m.source_of(key)
        assert "meas-Zen4" in text if name == "zen4" else "assumption" in text, (name, key, text)
    assert m.to_json()["store_forward_latency"] == m.store_forward_latency


def test_store_forward_keys_are_optional_and_checked():
    data = toy_machine()
    assert machine_from_dict(data, path="toy.toml").store_forward_latency is None
    data["core"] = {**data["core"], "store_forward_fail_penalty": "11"}
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
    bad["host"]["vendor"] = "Cyrix"
    with pytest.raises(MachineError, match=r"toy.toml: \[host\] key 'vendor' has an invalid value"):
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
                       'clock_ghz = 3.0\ncores = 2\n'
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
