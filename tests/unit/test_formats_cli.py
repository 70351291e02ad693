"""`workbench formats` list / pack / inspect, through workbench.cli.main.

Expected shapes, byte counts and bits per weight come from the `tiny` preset and each format's
`nbytes`, so a change of the preset's shapes does not need a change here.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from workbench.cli import main
from workbench.formats import FORMATS
from workbench.reference import PRESETS, get_preset

TINY = get_preset("tiny")


def _packed_size(fmt_name: str, m: int, k: int) -> int:
    fmt = FORMATS[fmt_name]
    return fmt.nbytes(m, k, **fmt.default_layout(m, k))


def test_list(capsys):
    assert main(["formats", "list"]) == 0
    out = capsys.readouterr().out
    for name in FORMATS:
        assert name in out


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_pack_then_inspect_blob(tmp_path, capsys, fmt):
    m, k = TINY.projection_shape("down")
    size = _packed_size(fmt, m, k)
    bpw = f"bpw {8 * size / (m * k):.4f}"
    out = tmp_path / "q.bin"
    assert main(["formats", "pack", "--format", fmt, "--model", "tiny", "--layer", "1",
                 "--proj", "down", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"M={m} K={k}" in text and "round trip exact" in text
    assert f"bytes {size:,}" in text and bpw in text
    assert np.fromfile(out, dtype=np.uint8).size == size
    assert main(["formats", "inspect", str(out), "--format", fmt, "-M", str(m), "-K", str(k)]) == 0
    text = capsys.readouterr().out
    assert f"M={m} K={k}" in text and f"bytes {size:,}" in text and bpw in text
    assert "codes: -1:" in text


def test_inspect_model_files(tmp_path, capsys):
    from workbench.formats.gguf_io import save_gguf
    from workbench.formats.hf_io import save_hf_checkpoint
    from workbench.reference import random_weights

    w = random_weights(TINY, seed=1)
    g = save_gguf(w, tmp_path / "t.gguf", weight_type="i2_s")
    assert main(["formats", "inspect", str(g)]) == 0
    out = capsys.readouterr().out
    assert "GGUF, architecture bitnet" in out and "WB_I2_S(0x57420024)" in out
    m, k = TINY.projection_shape("q")
    size = _packed_size("i2s_x86", m, k)
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["blk.0.attn_q.weight"])
    # name, type, shape "[m," "k]", bytes, bpw
    assert row == ["blk.0.attn_q.weight", "WB_I2_S(0x57420024)", f"[{m},", f"{k}]", f"{size:,}",
                   f"{8 * size / (m * k):.4f}"]
    d = save_hf_checkpoint(w, tmp_path / "hf")
    assert main(["formats", "inspect", str(d / "model.safetensors")]) == 0
    out = capsys.readouterr().out
    m, k = TINY.projection_shape("k")
    row = next(line for line in out.splitlines() if "model.layers.0.self_attn.k_proj.weight " in line)
    assert f"[{m // 4}, {k}]" in row and f"{m * k // 4:,}" in row and "2-bit packed along dim 0" in row


def test_errors_are_one_line_exit_2(tmp_path, capsys, monkeypatch):
    # A preset whose hidden size (the K of q) is not a multiple of TQ's 256-weight block.
    narrow = dataclasses.replace(TINY, name="tiny-k128", hidden_size=128, intermediate_size=384,
                                 head_dim=32)
    k = narrow.projection_shape("q")[1]
    assert k % 256
    monkeypatch.setitem(PRESETS, narrow.name, narrow)
    assert main(["formats", "pack", "--format", "tq2_0", "--model", narrow.name, "--proj", "q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"K={k} is not a positive multiple of 256" in err
    assert main(["formats", "pack", "--format", "nope"]) == 2
    assert "unknown weight format 'nope'" in capsys.readouterr().err
    assert main(["formats", "inspect", "/dev/null"]) == 2
    assert "/dev/null" in capsys.readouterr().err
    blob = tmp_path / "b.bin"
    blob.write_bytes(b"\x00" * 10)
    assert main(["formats", "inspect", str(blob), "-f", "i2s_x86", "-M", "4", "-K", "128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"length 10 is not {FORMATS['i2s_x86'].nbytes(4, 128)} for M=4 K=128" in err
