"""`workbench verify` through workbench.cli.main: a passing sweep, a failing one (exit 1), the
default kernel, and bad input (one line, exit 2, the unknown ISA first, nothing written)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from isa_models.registry import get_isa, isa_names
from kernels import registry
from workbench.cli import main


def test_verify_exact_kernel_passes(tmp_path, capsys):
    out = tmp_path / "v.json"
    rc = main(["verify", "--kernel", "vnni", "--isa", "avx2", "--model", "tiny", "--projections", "q,down",
               "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.splitlines()[0] == "kernel vnni/avx2 on tiny: VERIFIED (6 VERIFIED)"
    assert "layer 0 q 256x256 realistic: VERIFIED (256 rows equal)" in text
    assert "layer 0 down 256x512 max: VERIFIED (256 rows equal)" in text
    assert "compared: every int32 accumulator" in text
    data = json.loads(out.read_text())
    assert data["ok"] is True and data["status"] == "VERIFIED" and len(data["cases"]) == 6
    assert {c["status"] for c in data["cases"]} == {"VERIFIED"}


def test_verify_defaults_to_the_isas_fastest_exact_kernel(capsys):
    preferred = next(n for n in get_isa("avx2").kernel_preference
                     if n in {s.name for s in registry.kernels("avx2")})
    rc = main(["verify", "--isa", "avx2", "--model", "tiny", "--projections", "k", "--inputs", "max"])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.splitlines()[0] == f"kernel: {preferred} (default for avx2: its fastest exact kernel)"
    assert text.splitlines()[1].startswith(f"kernel {preferred}/avx2 on tiny: VERIFIED")


@pytest.fixture
def broken_vnni():
    """vnni with row 3 of every result off by one, registered as vnni_broken/avx2."""
    good = registry.get("vnni", "avx2")

    def wrong_row_3(buffers, _result=good.result):
        acc = np.array(_result(buffers))
        acc[3] ^= 1
        return acc
    spec = registry.register(dataclasses.replace(good, name="vnni_broken", result=wrong_row_3))
    yield spec
    registry.unregister(spec.name, spec.isa)


def test_verify_mismatch_exits_1(broken_vnni, capsys):
    rc = main(["verify", "--kernel", "vnni_broken", "--isa", "avx2", "--model", "tiny", "--projections", "k",
               "--inputs", "realistic"])
    text = capsys.readouterr().out
    assert rc == 1
    assert text.splitlines()[0] == "kernel vnni_broken/avx2 on tiny: FAILED (1 FAILED)"
    assert "layer 0 k 128x256 realistic: FAILED: 1 of 128 rows differ; row 3: expected" in text


def test_verify_bounded_kernel_outside_its_bound_fails(capsys):
    """i2s on 2B-4T's k (20 blocks of 128 per int16 lane chunk) with all-127 activations and an
    all-+1 row: the wrap is a FAILED case (exit 1), its rows counted outside the bound, the same
    verdict `workbench simulate` gives; realistic activations stay inside the bound."""
    rc = main(["verify", "--kernel", "i2s", "--isa", "avx2", "--projections", "k", "--inputs", "realistic,max"])
    text = capsys.readouterr().out
    assert rc == 1
    assert text.splitlines()[0] == "kernel i2s/avx2 on bitnet-b1.58-2B-4T: FAILED (1 VERIFIED, 1 FAILED)"
    line = next(t for t in text.splitlines() if " max: " in t)
    assert "FAILED: " in line and "of them outside the kernel's bound" in line
    assert "[inputs outside the kernel's bound: exact iff" in line


@pytest.mark.parametrize("argv, culprit", [
    (["--isa", "avx2", "--kernel", "nope"], "unknown kernel 'nope' for ISA avx2; valid: "),
    (["--kernel", "vnni", "--isa", "arm9"], "unknown ISA 'arm9'; valid: " + ", ".join(isa_names())),
    (["--isa", "arm9", "--kernel", "nope", "--model", "nano", "--layers", "x"], "unknown ISA 'arm9'"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--layers", "7"],
     "model 'tiny' has layers 0..1, not 7"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--layers", "x"], "--layers 'x': expected an integer"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--projections", "qq"], "unknown projection 'qq'"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--inputs", "huge"], "unknown input 'huge'"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "nano"], "unknown model preset 'nano'"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--seed", "-1"], "--seed: must be a non-negative"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--param", "BM"], "--param 'BM': expected KEY=VALUE"),
    (["--isa", "avx2", "--kernel", "tl2", "--model", "tiny", "--param", "BM=x"], "parameter 'BM' takes an integer"),
    (["--isa", "avx2", "--kernel", "vnni", "--model", "tiny", "--param", "BM=3"], "unknown parameter 'BM'"),
    (["--kernel", "vnni"], "--isa"),
])
def test_verify_bad_input(argv, culprit, capsys):
    assert main(["verify", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and culprit in err


@pytest.mark.parametrize("where", ["missing/v.json", "."])
def test_verify_json_path_is_checked_before_the_sweep(tmp_path, where, capsys, monkeypatch):
    import kernels.verify

    def no_sweep(*a, **k):
        raise AssertionError("the sweep ran before --json was checked")
    monkeypatch.setattr(kernels.verify, "verify", no_sweep)
    assert main(["verify", "--isa", "avx2", "--kernel", "vnni", "--model", "tiny",
                 "--json", str(tmp_path / where)]) == 2
    captured = capsys.readouterr()
    assert "--json" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert captured.out == ""
