"""`workbench verify` through workbench.cli.main: a passing sweep, a failing one (exit 1), errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from kernels import registry
from workbench.cli import main


def test_verify_exact_kernel_passes(tmp_path, capsys):
    out = tmp_path / "v.json"
    rc = main(["verify", "--kernel", "vnni", "--isa", "avx2", "--model", "tiny", "--projections", "q,down",
               "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.splitlines()[0] == "kernel vnni/avx2 on tiny: OK"
    assert "layer 0 q 256x256 realistic: exact" in text and "layer 0 down 256x512 max: exact" in text
    data = json.loads(out.read_text())
    assert data["ok"] is True and len(data["cases"]) == 6


def test_verify_mismatch_exits_1(monkeypatch, capsys):
    registry.kernels()                                   # load the built-in kernels first
    good = registry.get("vnni", "avx2")

    def wrong_row_3(buffers, _result=good.result):
        acc = np.array(_result(buffers))
        acc[3] ^= 1
        return acc
    broken = dataclasses.replace(good, name="vnni_broken", result=wrong_row_3)
    monkeypatch.setitem(registry._REGISTRY, ("vnni_broken", "avx2"), broken)
    rc = main(["verify", "--kernel", "vnni_broken", "--model", "tiny", "--projections", "k",
               "--inputs", "realistic"])
    text = capsys.readouterr().out
    assert rc == 1
    assert text.splitlines()[0] == "kernel vnni_broken/avx2 on tiny: FAILED"
    assert "layer 0 k 128x256 realistic: mismatch; row 3: expected" in text


@pytest.mark.parametrize("argv, culprit", [
    (["--kernel", "nope"], "unknown kernel 'nope' for ISA 'avx2'; valid: "),
    (["--kernel", "vnni", "--isa", "arm9"], "unknown ISA 'arm9'"),
    (["--kernel", "vnni", "--model", "tiny", "--layers", "7"], "model 'tiny' has layers 0..1, not 7"),
    (["--kernel", "vnni", "--model", "tiny", "--projections", "qq"], "unknown projection 'qq'"),
    (["--kernel", "vnni", "--model", "nano"], "unknown model preset 'nano'"),
])
def test_verify_bad_input(argv, culprit, capsys):
    assert main(["verify", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and culprit in err
