"""NPU machine files and the parameter record."""

from __future__ import annotations

import dataclasses

import pytest

from isa_models.npu.params import MACHINE_DIR, NpuMachineError, load_npu_machine, npu_machine_names


def test_machines_load_with_sources():
    assert {"edge16", "phone64", "tiny"} <= set(npu_machine_names())
    for name in npu_machine_names():
        p = load_npu_machine(name)
        assert set(p.sources) == set(p.to_dict()) & set(p.sources)      # every key has a source
        assert len(p.sources) == 14 and all(p.sources.values())


def test_edge_and_phone_sizes():
    e, ph = load_npu_machine("edge16"), load_npu_machine("phone64")
    assert (e.rows, e.cols, e.w_word_bytes, e.wsram_bytes) == (16, 16, 64, 32768)
    assert ph.w_word_bytes == 832 and ph.bits_per_trit == 1.625      # 820 B padded to 13 beats of 64 B
    assert ph.peak_macs_per_cycle == 4096 and ph.dram_bytes_per_s == 64e9


def _write(tmp_path, text):
    path = tmp_path / "m.toml"
    path.write_text(text)
    return path


def test_unknown_key_names_file_and_key(tmp_path):
    base = (MACHINE_DIR / "tiny.toml").read_text()
    path = _write(tmp_path, base + 'bogus = {value = 1, source = "x"}\n')
    with pytest.raises(NpuMachineError, match=r"m\.toml: unknown key 'bogus'"):
        load_npu_machine(path)


def test_missing_key_and_missing_source(tmp_path):
    base = (MACHINE_DIR / "tiny.toml").read_text()
    lines = [ln for ln in base.splitlines() if not ln.startswith("acc_bits")]
    with pytest.raises(NpuMachineError, match="missing key 'acc_bits'"):
        load_npu_machine(_write(tmp_path, "\n".join(lines)))
    bad = base.replace('acc_bits = {value = 20, source', 'acc_bits = {value = 20, sauce')
    with pytest.raises(NpuMachineError, match="acc_bits"):
        load_npu_machine(_write(tmp_path, bad))


def test_unknown_machine_lists_valid():
    with pytest.raises(NpuMachineError, match="valid: .*edge16"):
        load_npu_machine("nope")


@pytest.mark.parametrize("change,match", [
    ({"weight_encoding": "3bit"}, "weight_encoding"),
    ({"act_bits": 4}, "act_bits"),
    ({"acc_bits": 11, "cols": 16}, "acc_bits"),
    ({"w_bank_words": 12}, "power of two"),
    ({"dma_bytes_per_cycle": 3}, "multiple of dma_bytes_per_cycle"),
    ({"rows": 0}, "rows"),
])
def test_invalid_values_name_the_key(change, match):
    with pytest.raises(NpuMachineError, match=match):
        dataclasses.replace(load_npu_machine("tiny"), **change)
