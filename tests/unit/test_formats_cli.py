"""`workbench formats` list / pack / inspect, through workbench.cli.main."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.cli import main
from workbench.formats import FORMATS


def test_list(capsys):
    assert main(["formats", "list"]) == 0
    out = capsys.readouterr().out
    for name in FORMATS:
        assert name in out


@pytest.mark.parametrize("fmt", ["i2s_x86", "tl1", "tl2", "tmac"])
def test_pack_then_inspect_blob(tmp_path, capsys, fmt):
    out = tmp_path / "q.bin"
    assert main(["formats", "pack", "--format", fmt, "--model", "tiny", "--layer", "1",
                 "--proj", "down", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "M=128 K=384" in text and "round trip exact" in text
    data = np.fromfile(out, dtype=np.uint8)
    assert f"bytes {data.size:,}" in text
    assert main(["formats", "inspect", str(out), "--format", fmt, "-M", "128", "-K", "384"]) == 0
    assert "codes: -1:" in capsys.readouterr().out


def test_inspect_model_files(tmp_path, capsys):
    from workbench.formats.gguf_io import save_gguf
    from workbench.formats.hf_io import save_hf_checkpoint
    from workbench.reference import get_preset, random_weights

    w = random_weights(get_preset("tiny"), seed=1)
    g = save_gguf(w, tmp_path / "t.gguf", weight_type="i2_s")
    assert main(["formats", "inspect", str(g)]) == 0
    out = capsys.readouterr().out
    assert "GGUF, architecture bitnet" in out and "WB_I2_S(0x57420024)" in out
    assert "blk.0.attn_q.weight" in out and "2.0156" in out      # (128*128/4 + 32) * 8 / 16384
    d = save_hf_checkpoint(w, tmp_path / "hf")
    assert main(["formats", "inspect", str(d / "model.safetensors")]) == 0
    assert "2-bit packed along dim 0" in capsys.readouterr().out


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["formats", "pack", "--format", "tq2_0", "--proj", "q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "K=128 is not a positive multiple of 256" in err
    assert main(["formats", "pack", "--format", "nope"]) == 2
    assert "unknown weight format 'nope'" in capsys.readouterr().err
    assert main(["formats", "inspect", "/dev/null"]) == 2
    assert "/dev/null" in capsys.readouterr().err
    blob = tmp_path / "b.bin"
    blob.write_bytes(b"\x00" * 10)
    assert main(["formats", "inspect", str(blob), "-f", "i2s_x86", "-M", "4", "-K", "128"]) == 2
    assert "length 10 is not 160 for M=4 K=128" in capsys.readouterr().err
