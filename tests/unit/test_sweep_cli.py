"""`workbench sweep` through workbench.cli.main: kernel, projection and equivalence sweeps on a
two-worker local cluster writing table, plot and JSON; a cached rerun; bad specs and flags one
line, exit 2, nothing written."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main
from workbench.commands import sweep as sweep_command
from workbench.sweep import execute
from workbench.sweep.table import read_table

KERNEL_SPEC = """
[sweep]
name = "cli-test"
objectives = ["cycles", "bytes"]
[axes]
isa = ["avx2", "neon"]
kernel = ["vnni", "tq2", "rowdot"]
machine = ["zen4", "zen3", "cortex-a55"]
shape = ["256x512", "tiny:k"]
param.chains = [1, 2]
"""


def _spec(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_kernel_sweep_writes_table_plot_and_json_then_reruns_from_cache(tmp_path, scheduler, capsys):
    spec = _spec(tmp_path, KERNEL_SPEC)
    out, plot, js, cache = tmp_path / "t.csv", tmp_path / "p.png", tmp_path / "s.json", tmp_path / "cache"
    argv = ["sweep", spec, "--out", str(out), "--plot", str(plot), "--json", str(js), "--cache-dir", str(cache),
            "--scheduler", scheduler, "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    # avx2: vnni x 2 chains + tq2 on zen4 and zen3; neon: tq2 + rowdot on cortex-a55; x 2 shapes
    assert text.splitlines()[0] == "sweep cli-test (kernel, grid search): 16 points of a 16-point grid"
    assert "dropped" in text and "computed 16, cached 0" in text and "on 2 workers" in text
    assert "Pareto front (cycles min, bytes min)" in text
    assert f"table: {out}" in text and f"plot: {plot}" in text
    rows = read_table(out)
    assert len(rows) == 16 and [r["point"] for r in rows] == [str(i) for i in range(16)]
    assert {r["verdict"] for r in rows} <= {"VERIFIED", "UNSUPPORTED"}
    assert any(r["verdict"] == "UNSUPPORTED" and r["machine"] == "zen3" for r in rows)   # no VNNI on zen3
    summary = json.loads(js.read_text())["summary"]
    assert summary["points"] == 16 and summary["computed"] == 16 and summary["front"]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    first = out.read_bytes()
    assert main(argv) == 0
    assert "computed 0, cached 16" in capsys.readouterr().out
    assert out.read_bytes() == first


def test_projection_and_equivalence_sweeps(tmp_path, scheduler, capsys):
    spec = _spec(tmp_path, '[sweep]\nkind = "projection"\n[axes]\nsoc = ["raspberry-pi-5", "snapdragon-8-gen-3"]\n'
                           'model = ["tiny"]\nengine = ["cpu", "hvx"]\nthreads = [1]\n')
    assert main(["sweep", spec, "--out", str(tmp_path / "p.parquet"), "--plot", str(tmp_path / "p.png"),
                 "--no-cache", "--scheduler", scheduler, "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "3 points of a 3-point grid" in text and "1 x engine the SoC lacks" in text
    rows = read_table(tmp_path / "p.parquet")
    assert [(r["soc"], r["engine"], r["verdict"]) for r in rows] == [
        ("raspberry-pi-5", "cpu", "PROJECTED"), ("snapdragon-8-gen-3", "cpu", "PROJECTED"),
        ("snapdragon-8-gen-3", "hvx", "PROJECTED")]
    assert all(r["tok_s"] > 0 and r["j_per_token"] > 0 for r in rows)

    spec = _spec(tmp_path, '[sweep]\nkind = "equivalence"\ntokens = 2\n[axes]\nisa = ["avx2"]\n'
                           'kernel = ["vnni", "tmac"]\nmachine = ["zen4"]\nshape = ["256x512"]\nmodel = ["tiny"]\n',
                 "e.toml")
    assert main(["sweep", spec, "--out", str(tmp_path / "e.parquet"), "--plot", str(tmp_path / "e.png"),
                 "--no-cache", "--scheduler", scheduler, "--no-progress"]) == 0
    capsys.readouterr()
    rows = {r["kernel"]: r for r in read_table(tmp_path / "e.parquet")}
    assert rows["vnni"]["equivalence"] == "VERIFIED" and rows["vnni"]["identical"] is True
    assert rows["vnni"]["max_kl"] == 0.0
    assert rows["tmac"]["equivalence"] == "LOSSY" and rows["tmac"]["max_kl"] > 0
    assert rows["tmac"]["cycles"] > 0 and rows["tmac"]["steps"] == 3


def test_default_output_places(tmp_path, scheduler, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = _spec(tmp_path, '[sweep]\nname = "here"\n[axes]\nisa = ["avx2"]\nkernel = ["tq2"]\nshape = ["256x512"]\n')
    assert main(["sweep", spec, "--scheduler", scheduler, "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "table: out/sweeps/here/table.parquet" in text and "cache: out/sweeps/cache" in text
    assert (tmp_path / "out/sweeps/here/pareto.png").is_file()


@pytest.mark.parametrize("text, extra, words", [
    ("[sweep]\ncolour = 1\n[axes]\nisa = [\"avx2\"]\nshape = [\"1x1\"]\n", [], "[sweep]: unknown key 'colour'"),
    ("[axes]\nisa = [\"avx2\"]\nshape = [\"big\"]\n", [], "[axes] shape: bad shape 'big'"),
    ("[axes]\nisa = [\"z80\"]\nshape = [\"1x1\"]\n", [], "unknown ISA 'z80'"),
    ("[axes\n", [], "not valid TOML"),
    ("[axes]\nisa = [\"avx2\"]\nshape = [\"1x1\"]\n", ["--out", "t.xlsx"], "unknown table type '.xlsx'"),
    ("[axes]\nisa = [\"avx2\"]\nshape = [\"1x1\"]\n", ["--plot", "p.txt"], "--plot"),
    ("[axes]\nisa = [\"avx2\"]\nshape = [\"1x1\"]\n", ["--workers", "0"], "--workers"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, monkeypatch, text, extra, words):
    monkeypatch.chdir(tmp_path)
    spec = _spec(tmp_path, text)
    assert main(["sweep", spec, "--no-progress", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench sweep: error:") and words in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_missing_spec_and_an_unreachable_scheduler(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT_S", 1.0)
    assert main(["sweep", "missing.toml"]) == 2
    assert "missing.toml" in capsys.readouterr().err
    spec = _spec(tmp_path, '[axes]\nisa = ["avx2"]\nkernel = ["tq2"]\nshape = ["256x512"]\n')
    assert main(["sweep", spec, "--no-cache", "--scheduler", "tcp://127.0.0.1:9", "--out", "t.csv",
                 "--plot", "p.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler tcp://127.0.0.1:9: cannot connect" in err[0]
    assert sweep_command.DEFAULT_ROOT.parts == ("out", "sweeps")
