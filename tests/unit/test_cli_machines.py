"""`workbench machines` through workbench.cli.main: every machine file listed, the host marked."""

from __future__ import annotations

import json

from isa_models.core.machine import machine_names
from isa_models.registry import isa_names
from workbench.cli import main


def test_machines_lists_every_file_and_marks_the_host(capsys, monkeypatch):
    from kernels.codegen import host

    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "EPYC 9R14", "vendor": "AuthenticAMD",
                                                       "family": 25, "model": 17, "stepping": 1})
    assert main(["machines"]) == 0
    out = capsys.readouterr().out.splitlines()
    for name in machine_names("avx2") + machine_names("npu"):
        assert any(line.split()[:1] == [name] for line in out), name
    for isa in isa_names():                      # one table per registered ISA, headed by its name
        assert any(line.split()[:1] == [isa] for line in out), isa
    zen4 = next(line for line in out if line.startswith("zen4 "))
    assert zen4.endswith("<- host") and "AMD Zen 4" in zen4 and "FP0/FP1/FP2/FP3" in zen4
    edge16 = next(line for line in out if line.startswith("edge16 "))
    assert "mac_array" in edge16 and "16x16" in edge16 and "2bit" in edge16
    assert sum(line.endswith("<- host") for line in out) == 1
    assert "this CPU: EPYC 9R14 (AuthenticAMD, family 25, model 17): modelled by avx2/zen4" in out


def test_machines_json_and_an_unmodelled_host(capsys, monkeypatch):
    from kernels.codegen import host

    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "Zen 5", "vendor": "AuthenticAMD",
                                                       "family": 26, "model": 2, "stepping": 0})
    assert main(["machines", "--isa", "avx2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == set(machine_names("avx2")) and not any(r["host"] for r in rows)
    alder = next(r for r in rows if r["name"] == "alderlake-p")
    assert alder["vector ALU"] == "p0/p1/p5" and alder["width"] == 6 and alder["engine"] == "ooo"
    assert "avx_vnni" in alder["extensions"] and "avx512_vnni" not in alder["extensions"]


def test_machines_unknown_isa_is_one_line_exit_2(capsys):
    assert main(["machines", "--isa", "sparc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'sparc'" in err[0] and all(isa in err[0] for isa in isa_names())
