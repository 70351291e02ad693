"""`workbench kernels` and `workbench emit` through workbench.cli.main."""

from __future__ import annotations

import json
import shutil

import pytest

from kernels.registry import kernels
from workbench.cli import main


def test_kernels_lists_every_registered_kernel(capsys):
    assert main(["kernels"]) == 0
    out = capsys.readouterr().out
    for spec in kernels():
        line = next(ln for ln in out.splitlines() if ln.split()[:2] == [spec.name, spec.isa])
        assert spec.weight_format in line and spec.exactness in line
        if spec.exactness == "bounded":
            assert spec.bound[:40] in line


def test_kernels_json(capsys):
    assert main(["kernels", "--isa", "avx2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in data} == {s.name for s in kernels("avx2")}
    assert all(d["isa"] == "avx2" and d["exactness"] in ("exact", "bounded", "lossy") for d in data)


def test_kernels_unknown_isa(capsys):
    assert main(["kernels", "--isa", "sparc"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unknown ISA 'sparc'" in err and "avx2" in err


def test_emit_c_and_program(capsys):
    spec = kernels("avx2")[0]
    assert main(["emit", "--kernel", spec.name, "--isa", "avx2", "--lang", "c", "--shape", "640,2560"]) == 0
    c = capsys.readouterr().out
    assert "#include" in c and "_mm256_" in c and "void wb_" in c
    assert main(["emit", "--kernel", spec.name, "--isa", "avx2", "--lang", "program", "--shape", "640,2560"]) == 0
    assert capsys.readouterr().out.startswith("program ")


@pytest.mark.skipif(shutil.which("gcc") is None, reason="--lang asm compiles the C with gcc")
def test_emit_asm_has_mca_regions(capsys):
    assert main(["emit", "--kernel", "vnni", "--lang", "asm", "--shape", "640,2560"]) == 0
    asm = capsys.readouterr().out
    assert "# LLVM-MCA-BEGIN" in asm and "# LLVM-MCA-END" in asm and "vpdpbusd" in asm


@pytest.mark.parametrize("argv, culprit", [
    (["--kernel", "nope"], "unknown kernel 'nope'"),
    (["--kernel", "nope", "--isa", "avx2"], "unknown kernel 'nope' for ISA avx2; valid: "),
    (["--kernel", "i2s", "--isa", "z80"], "unknown ISA 'z80'"),
    (["--kernel", "i2s", "--isa", "avx2", "--shape", "12"], "--shape '12': expected M,K"),
    (["--kernel", "i2s", "--isa", "avx2", "--shape", "640,100"], "i2s"),
    (["--kernel", "i2s", "--shape", "640,2560"], "ambiguous kernel 'i2s' (name an ISA)"),
])
def test_emit_bad_input(argv, culprit, capsys):
    assert main(["emit", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and culprit in err
