"""NPU machine files and the parameter record built from them (isa_models/npu/params.py)."""

from __future__ import annotations

import dataclasses

import pytest

from isa_models.core.machine import MachineError, load_machine, machine_from_dict
from isa_models.core.machine.mac_array import MAC_ARRAY_KEYS
from isa_models.npu.params import MACHINE_DIR, NpuParams, load_npu_machine, npu_machine_names


def test_machines_load_with_sources():
    assert {"edge16", "phone64", "tiny"} <= set(npu_machine_names())
    for name in npu_machine_names():
        p = load_npu_machine(name)
        assert p == NpuParams.from_machine(load_machine(name, isa="npu"))
        assert set(p.sources) == set(MAC_ARRAY_KEYS) | {"clock_mhz"}      # every key has a source
        assert len(p.sources) == 14 and all(p.sources.values())


def test_edge_and_phone_sizes():
    e, ph = load_npu_machine("edge16"), load_npu_machine("phone64")
    assert (e.rows, e.cols, e.w_word_bytes, e.wsram_bytes) == (16, 16, 64, 32768)
    assert ph.w_word_bytes == 832 and ph.bits_per_trit == 1.625      # 820 B padded to 13 beats of 64 B
    assert ph.peak_macs_per_cycle == 4096 and ph.dram_bytes_per_s == 64e9
    assert (e.clock_mhz, ph.clock_mhz, load_npu_machine("tiny").clock_mhz) == (500.0, 1000.0, 100.0)
    assert e.sources["clock_mhz"].startswith("assumption: an edge ASIC clock")


def _write(tmp_path, text):
    path = tmp_path / "m.toml"
    path.write_text(text.replace('name = "tiny"', 'name = "m"'))
    return path


def test_unknown_key_names_file_and_key(tmp_path):
    base = (MACHINE_DIR / "tiny.toml").read_text()
    path = _write(tmp_path, base.replace("rows = 4\n", "rows = 4\nbogus = 1\n"))
    with pytest.raises(MachineError, match=r"m\.toml: \[mac_array\] unknown key 'bogus'"):
        load_npu_machine(path)


def test_missing_key_and_missing_source(tmp_path):
    base = (MACHINE_DIR / "tiny.toml").read_text()
    lines = [ln for ln in base.splitlines() if not ln.startswith("cols")]
    with pytest.raises(MachineError, match=r"m\.toml: \[mac_array\] missing key 'cols'"):
        load_npu_machine(_write(tmp_path, "\n".join(lines)))
    bad = base.replace('[mac_array]\nsource = "test', '[mac_array]\nsauce = "test')
    with pytest.raises(MachineError, match=r"\[mac_array\] missing key 'source'"):
        load_npu_machine(_write(tmp_path, bad))


def test_unknown_machine_lists_valid():
    with pytest.raises(MachineError, match="unknown machine 'nope' for ISA npu; valid: .*edge16"):
        load_npu_machine("nope")


def test_a_cpu_machine_is_not_an_npu():
    with pytest.raises(MachineError, match="machine zen4 .* is not a MAC array"):
        NpuParams.from_machine(load_machine("zen4", isa="avx2"))


def test_command_word_limits_name_the_file_and_key(tmp_path):
    """A value the [mac_array] schema accepts but the command word cannot encode (4-bit bank fields)."""
    path = _write(tmp_path, (MACHINE_DIR / "tiny.toml").read_text().replace("w_banks = 2", "w_banks = 32"))
    assert load_machine(path).w_banks == 32
    with pytest.raises(MachineError, match=r"m\.toml: \[mac_array\] key 'w_banks' = 32 exceeds 16"):
        load_npu_machine(path)


@pytest.mark.parametrize("change,match", [
    ({"weight_encoding": "3bit"}, "weight_encoding"),
    ({"act_bits": 4}, "act_bits"),
    ({"acc_bits": 11, "cols": 16}, "acc_bits"),
    ({"w_bank_words": 12}, "power of two"),
    ({"dma_bytes_per_cycle": 3}, "dma_bytes_per_cycle = 3 does not divide"),
    ({"rows": 0}, "rows"),
    ({"acc_banks": 17}, "acc_banks = 17 exceeds 16"),
    ({"clock_mhz": 0.0}, "clock_mhz"),
])
def test_invalid_values_name_the_key(change, match):
    with pytest.raises(MachineError, match=match):
        dataclasses.replace(load_npu_machine("tiny"), **change)


def test_from_a_machine_dict():
    """A MAC-array machine given as a dict (generated machines) gives the same parameters."""
    import tomllib

    data = tomllib.loads((MACHINE_DIR / "tiny.toml").read_text())
    data["mac_array"]["weight_encoding"] = "base3"
    p = NpuParams.from_machine(machine_from_dict(data, path="tiny.toml"))
    assert p == dataclasses.replace(load_npu_machine("tiny"), weight_encoding="base3")
