"""rtl.synthesis against the external tools: Debian Yosys 0.23 (synth_ice40, synth) and nextpnr-ice40."""

from __future__ import annotations

import shutil

import pytest

from rtl.synthesis import SynthesisError, pe_target, synthesize, yosys_path

pytestmark = pytest.mark.skipif(yosys_path() is None, reason="Debian yosys (/usr/bin/yosys) not installed")


def test_pe_synthesizes_with_cells_from_yosys_stat(tmp_path):
    res = synthesize(pe_target(), work_dir=tmp_path, place_and_route=shutil.which("nextpnr-ice40") is not None)
    assert res.luts > 0 and res.carries > 0
    assert res.flip_flops == 0 and res.brams == 0          # the PE is combinational, no memory
    assert res.generic_cells > 0 and sum(res.generic_by_type.values()) == res.generic_cells
    assert res.ice40_cells["SB_LUT4"] == res.luts
    assert (tmp_path / "ice40_stat.json").is_file()
    if shutil.which("nextpnr-ice40"):
        assert res.fmax_mhz is not None and res.fmax_mhz > 0, res.pnr_note
        assert res.device == "iCE40HX8K-ct256"
        assert res.wrapper_flip_flops == 8 + 2 + 9 + 1


def test_missing_yosys_is_one_clear_error(monkeypatch):
    import rtl.synthesis as syn

    monkeypatch.setattr(syn, "yosys_path", lambda: None)
    with pytest.raises(SynthesisError, match="yosys not found"):
        syn.synthesize(pe_target(), place_and_route=False)


def test_cli_report_pe(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "synth.json"
    assert main(["rtl", "report", "--config", "tiny", "--parts", "pe", "--no-pnr", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "pe" in text and out.is_file()
    assert main(["rtl", "report", "--config", "tiny", "--parts", "alu"]) == 2
    assert "unknown part 'alu'" in capsys.readouterr().err
