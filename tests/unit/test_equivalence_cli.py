"""`workbench equivalence` through workbench.cli.main: an exact kernel's identity (exit 0), a lossy
kernel's divergence with and without tolerances (exit 0 / 1), JSON and plot outputs, and bad
input (one line on stderr, exit 2, nothing written)."""

from __future__ import annotations

import json

import pytest

from kernels import registry
from workbench.cli import main

EXACT = next(s for s in registry.kernels() if s.exactness == "exact" and not s.batched and s.machine_param is None
             and s.isa == "avx2" and s.name == "vnni2")
LOSSY = next(s for s in registry.kernels() if s.exactness == "lossy")


def test_exact_kernel_reports_bitwise_identical_logits(tmp_path, capsys):
    out, png = tmp_path / "eq.json", tmp_path / "eq.png"
    rc = main(["equivalence", "--isa", EXACT.isa, "--kernel", EXACT.name, "--model", "tiny", "--tokens", "4",
               "--prompt-ids", "1,2", "--json", str(out), "--plot", str(png), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.splitlines()[0].startswith(f"equivalence: kernel {EXACT.name}/{EXACT.isa} (exact)")
    assert "verdict: VERIFIED: bitwise-identical logits over 5 steps" in text
    assert "summary: identical True, max |logit diff| 0," in text
    data = json.loads(out.read_text())
    assert data["summary"]["identical"] is True and len(data["steps"]) == 5
    assert data["prompt_ids"] == [1, 2] and data["steps"][0]["position"] == 1
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_lossy_kernel_divergence_with_and_without_tolerance(tmp_path, capsys):
    base = ["equivalence", "--isa", LOSSY.isa, "--kernel", LOSSY.name, "--tokens", "2", "--quiet"]
    assert main(base) == 0
    text = capsys.readouterr().out
    assert "verdict: LOSSY: logits differ" in text and "no tolerance set" in text
    assert "accumulator error per projection" in text
    out = tmp_path / "l.json"
    assert main(base + ["--json", str(out)]) == 0
    capsys.readouterr()
    kl = json.loads(out.read_text())["summary"]["max_kl"]
    assert kl > 0
    assert main(base + ["--max-kl", repr(kl * 2)]) == 0
    assert "verdict: LOSSY: within tolerance: max KL" in capsys.readouterr().out
    assert main(base + ["--max-kl", repr(kl / 2)]) == 1
    assert "verdict: FAILED: tolerance violated: max KL" in capsys.readouterr().out


def test_default_kernel_is_taken_and_said(capsys):
    assert main(["equivalence", "--isa", EXACT.isa, "--tokens", "0", "--quiet"]) == 0
    assert "default --kernel " in capsys.readouterr().out


@pytest.mark.parametrize("argv,culprit", [
    (["--isa", "nosuch"], "nosuch"),
    (["--isa", "avx2", "--kernel", "nosuch"], "unknown kernel 'nosuch'"),
    (["--isa", "avx2", "--model", "nosuch"], "nosuch"),
    (["--isa", "avx2", "--prompt-ids", "1,x"], "--prompt-ids: 'x' is not an integer"),
    (["--isa", "avx2", "--prompt-ids", "1,9999"], "token id 9999 is outside the vocabulary"),
    (["--isa", "avx2", "--min-top1", "1.5"], "--min-top1 1.5: must be a fraction in [0, 1]"),
    (["--isa", "avx2", "--min-top1", "-0.1"], "--min-top1"),
    (["--isa", "avx2", "--max-kl", "-1"], "--max-kl -1.0: must be a finite number >= 0"),
    (["--isa", "avx2", "--max-kl", "nan"], "--max-kl"),
    (["--isa", "avx2", "--max-kl", "abc"], "--max-kl: invalid float value"),
    (["--isa", "avx2", "--tokens", "-2"], "--tokens"),
    (["--isa", "avx2", "--param", "oops"], "--param 'oops': expected KEY=VALUE"),
    (["--isa", "avx2", "--plot", "x.txt"], "unsupported file type"),
    (["--isa", "avx2", "--native", "--emulator"], "not allowed with"),
    (["--isa", "avx2", "--model", "tiny", "--model-file", "x"], "not allowed with"),
    (["--isa", "avx2", "--model-file", "/nonexistent/model.gguf"], "no such file"),
])
def test_bad_input_is_one_line_exit_2(argv, culprit, tmp_path, capsys):
    out = tmp_path / "never.json"
    rc = main(["equivalence", *argv, "--json", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "error:" in err and culprit in err
    assert not out.exists()


def test_corrupt_model_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    rc = main(["equivalence", "--isa", EXACT.isa, "--kernel", EXACT.name, "--model-file", str(bad), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and str(bad) in err


def test_model_file_runs_and_matches_the_preset_it_was_saved_from(tmp_path, capsys):
    from workbench.formats.gguf_io import save_gguf
    from workbench.reference import get_preset, random_weights

    path = tmp_path / "tiny.gguf"
    save_gguf(random_weights(get_preset("tiny"), seed=0), path)
    out_file, out_preset = tmp_path / "f.json", tmp_path / "p.json"
    base = ["equivalence", "--isa", EXACT.isa, "--kernel", EXACT.name, "--tokens", "3", "--quiet"]
    assert main(base + ["--model-file", str(path), "--json", str(out_file)]) == 0
    assert main(base + ["--model", "tiny", "--json", str(out_preset)]) == 0
    capsys.readouterr()
    from_file, from_preset = (json.loads(p.read_text()) for p in (out_file, out_preset))
    assert from_file["summary"]["identical"] is True
    assert from_file["kernel_tokens"] == from_preset["kernel_tokens"]
