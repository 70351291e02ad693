"""`workbench simulate` through workbench.cli.main: layer and whole-token runs, outputs, errors."""

from __future__ import annotations

import json
import sys

import pytest

from workbench.cli import main

BASE = ["simulate", "--isa", "avx2", "--machine", "zen4", "--model", "tiny", "--no-progress"]


def test_layer_run_prints_table_views_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(BASE + ["--kernel", "i2s", "--layer", "0", "--views", "summary,pressure,timeline,bottleneck",
                      "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert text.count(" VERIFIED ") == 7 and text.rstrip().splitlines()[-2] == "ALL VERIFIED"
    for header in ("--- summary view", "--- pressure view", "--- timeline view", "--- bottleneck view"):
        assert header in text
    assert "Resource pressure per iteration" in text and "Timeline of loop" in text
    data = json.loads(out.read_text())
    assert data["verified"] is True
    assert data["config"]["machine"]["name"] == "zen4" and data["config"]["kernel"]["name"] == "i2s"
    assert data["config"]["model"]["hidden_size"] == 256
    assert [p["proj"] for p in data["projections"]] == ["q", "k", "v", "o", "gate", "up", "down"]
    assert all(p["cycles"] > 0 and p["binding"] for p in data["projections"])


def test_whole_token_with_plot_and_out_dir(tmp_path, capsys):
    png = tmp_path / "tok.png"
    rc = main(BASE + ["--kernel", "vnni", "--plot", str(png), "--out", str(tmp_path / "o")])
    text = capsys.readouterr().out
    assert rc == 0
    assert "Whole token: 14 projections (2 layers x 7), 14 verified" in text
    assert "tokens/s" in text and "DRAM roofline" in text
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("simulate.json", "config.json", "report.txt"):
        assert (tmp_path / "o" / name).is_file()
    tok = json.loads((tmp_path / "o" / "simulate.json").read_text())["token"]
    assert [row["cores"] for row in tok["by_cores"]] == [1, 2]


@pytest.mark.parametrize("argv, culprit", [
    (["--kernel", "nope"], "unknown kernel 'nope' for ISA 'avx2'; valid: "),
    (["--kernel", "i2s", "--machine", "pentium"], "unknown machine 'pentium' for ISA avx2; valid: "),
    (["--kernel", "i2s", "--isa", "mips"], "unknown ISA 'mips'"),
    (["--kernel", "i2s", "--views", "flames"], "unknown view 'flames'"),
    (["--kernel", "i2s", "--layer", "0", "--plot", "x.png"], "--plot needs a whole-token run"),
    (["--kernel", "i2s", "--param", "blocks_per_chunk"], "expected KEY=VALUE"),
    (["--kernel", "i2s", "--param", "blocks_per_chunk=many"], "parameter 'blocks_per_chunk' takes an integer"),
    (["--kernel", "i2s", "--param", "tiles=4"], "unknown parameter 'tiles'"),
])
def test_bad_input_is_one_line_exit_2(argv, culprit, capsys):
    args = list(BASE)
    for flag in ("--isa", "--machine"):
        if flag in argv:
            k = args.index(flag)
            del args[k:k + 2]
    rc = main(args + argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and culprit in err


def test_npu_dispatch_without_npu_flow(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "workbench.npu_flow", None)
    rc = main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--layer", "0"])
    assert rc == 2
    assert capsys.readouterr().err.strip() == ("workbench simulate: error: the NPU flow is not built in "
                                               "this checkout (workbench/npu_flow.py is missing)")


def test_help_names_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for opt in ("--isa", "--machine", "--kernel", "--model", "--layer", "--views", "--json", "--seed",
                "--plot", "--out"):
        assert opt in text


def _as_zen4_host(monkeypatch) -> str:
    """Run natively on this x86 AVX2 CPU, but let host detection see an AMD Zen 4 (EPYC 9004), so
    `--machine host` is zen4 whatever machine CI runs on (the refusal rule is what is tested;
    the native run and its byte-for-byte check are real)."""
    import platform

    from kernels.codegen import host

    if platform.machine() not in ("x86_64", "AMD64") or host.missing_cpu_flags(["avx2"]):
        pytest.skip("--native runs the emitted C: it needs an x86-64 AVX2 host")
    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "EPYC 9R14", "vendor": "AuthenticAMD",
                                                       "family": 25, "model": 17, "stepping": 1})
    return "zen4"


def test_native_runs_the_emitted_c_beside_the_model(tmp_path, capsys, monkeypatch):
    host = _as_zen4_host(monkeypatch)
    out = tmp_path / "r.json"
    args = [a if a != "zen4" else "host" for a in BASE]
    rc = main(args + ["--kernel", "i2s", "--layer", "0", "--native", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and text.rstrip().splitlines()[-2] == "ALL VERIFIED"      # then "wrote <json>"
    assert f"on {host} @" in text and "Native on EPYC 9R14 (AuthenticAMD, family 25, model 17)" in text
    data = json.loads(out.read_text())
    assert data["config"]["machine"]["name"] == host
    shapes = data["shapes"]
    assert shapes and all(s["native"]["equal"] is True and s["native"]["cycles"] > 0 for s in shapes)
    table = text[text.index("Native on "):].splitlines()[2:2 + len(shapes)]
    assert len(table) == len(shapes) and all(line.rstrip().endswith("yes") for line in table)


def test_native_refuses_a_machine_that_is_not_this_cpu(capsys, monkeypatch):
    _as_zen4_host(monkeypatch)
    args = [a if a != "zen4" else "alderlake-p" for a in BASE]
    assert main(args + ["--kernel", "i2s", "--layer", "0", "--native"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is modelled by machine zen4" in err[0] and "not alderlake-p" in err[0]
    assert main(["simulate", "--isa", "npu", "--machine", "tiny", "--model", "tiny", "--native"]) == 2
    assert "--native: native runs exist for --isa avx2 only" in capsys.readouterr().err
    assert main(BASE + ["--kernel", "i2s", "--layer", "0", "--native", "--cold"]) == 2
    assert "it cannot check a --cold prediction" in capsys.readouterr().err


def test_machine_host_on_an_unmodelled_cpu_is_one_line(monkeypatch, capsys):
    from kernels.codegen import host

    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "Zen 5", "vendor": "AuthenticAMD",
                                                       "family": 26, "model": 2, "stepping": 0})
    args = [a if a != "zen4" else "host" for a in BASE]
    assert main(args + ["--kernel", "i2s", "--layer", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--machine host: this host, Zen 5 (AuthenticAMD, family 26, model 2), is " \
        "modelled by no avx2 machine" in err[0]
