"""`workbench simulate` through workbench.cli.main: runs with only --isa, layer and whole-token runs,
outputs, cross-check flags, and bad input as one line with exit code 2 (unknown names first)."""

from __future__ import annotations

import json

import pytest

import workbench.flow.defaults
from isa_models.core.machine import load_machine
from isa_models.registry import isa_names, plugins
from kernels.registry import kernels
from workbench.cli import main

BASE = ["simulate", "--isa", "avx2", "--machine", "zen4", "--model", "tiny", "--no-progress"]


def test_only_isa_takes_every_default(monkeypatch, capsys):
    monkeypatch.setattr(workbench.flow.defaults, "DEFAULT_MODEL", "tiny")      # 2B-4T is minutes in a test
    assert main(["simulate", "--isa", "npu", "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "default --machine edge16: the default machine of ISA npu (no npu machine models this CPU)"
    assert lines[1] == "default --kernel npu_gemm: fastest exact npu kernel edge16 runs"
    assert lines[2] == "default --model tiny: the default model"
    assert "whole token (2 layers)" in lines[3] and any(line.startswith("Whole token: 14 projections")
                                                        for line in lines)


def test_layer_run_prints_table_views_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(BASE + ["--kernel", "i2s", "--layer", "0", "--views", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    lines = text.rstrip().splitlines()
    assert text.count(" VERIFIED ") == 7 and lines[-4].startswith("ALL VERIFIED: 7 projections")
    assert lines[-1] == f"wrote {out}"
    for header in ("--- summary view", "--- pressure view", "--- timeline view", "--- bottleneck view"):
        assert header in text
    assert "Resource pressure per iteration" in text and "Timeline of loop" in text
    data = json.loads(out.read_text())
    assert data["verified"] is True and data["defaults"] == []
    assert data["config"]["machine"]["name"] == "zen4" and data["config"]["kernel"]["name"] == "i2s"
    assert data["config"]["model"]["hidden_size"] == 256 and data["config"]["views"] == [
        "summary", "pressure", "timeline", "bottleneck"]
    assert [p["proj"] for p in data["projections"]] == ["q", "k", "v", "o", "gate", "up", "down"]
    assert all(p["cycles"] > 0 and p["binding"] for p in data["projections"])


def test_views_follow_the_engine_packets_and_units_on_a_packet_engine(tmp_path, capsys):
    """--views alone prints every view the machine's engine renders: on a packet-issuing (vliw)
    machine that adds the unit pressure and the packet listing to the four CPU views."""
    from isa_models.core.views import views_for
    isa = next((p for p in plugins() if load_machine(p.default_machine, isa=p.name).engine == "vliw"), None)
    assert isa is not None, "no registered ISA has a vliw default machine (the HVX plug-in should)"
    exact = [s.name for s in kernels(isa.name) if s.exactness == "exact"]
    assert exact, f"no exact {isa.name} kernel registered"
    out = tmp_path / "r.json"
    rc = main(["simulate", "--isa", isa.name, "--model", "tiny", "--layer", "0", "--no-progress", "--workers", "1",
               "--kernel", exact[0], "--views", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    names = views_for("vliw")
    assert {"units", "packets"} < set(names) and set(views_for("ooo")).isdisjoint({"units", "packets"})
    for name in names:
        assert f"--- {name} view, shape" in text
    assert "Packets of loop" in text and "Unit pressure of" in text
    data = json.loads(out.read_text())
    assert data["config"]["views"] == list(names)
    shape = data["shapes"][0]
    assert shape["views"]["packets"]["loops"][0]["packets"] and shape["views"]["units"]["loops"]


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
    (["--isa", "nosuch", "--workers", "0"], f"argument --isa: unknown ISA 'nosuch'; valid: {', '.join(isa_names())}"),
    (["--workers", "0", "--isa", "nosuch"], f"argument --isa: unknown ISA 'nosuch'; valid: {', '.join(isa_names())}"),
    (["--machine", "pentium", "--kernel", "nope", "--views", "flames"], "unknown machine 'pentium' for ISA avx2"),
    (["--kernel", "nope", "--views", "flames", "--layer", "7"], "unknown kernel 'nope' for ISA avx2; valid: "),
    (["--param", "x", "--simulator", "icarus", "--kernel", "nope"], "unknown kernel 'nope' for ISA avx2"),
    (["--kernel", "i2s", "--views", "flames"], "unknown view 'flames'"),
    (["--kernel", "i2s", "--views", "summary,packets"], "view 'packets' does not render the ooo engine of machine "
                                                        "zen4; its views: summary, pressure, timeline, bottleneck"),
    (["--kernel", "i2s", "--layer", "0", "--plot", "x.png"], "--plot needs a whole-token run"),
    (["--kernel", "i2s", "--plot", "x.txt"], "--plot x.txt: unsupported file type '.txt'"),
    (["--kernel", "i2s", "--json", "/nonexistent/dir/r.json"], "--json /nonexistent/dir/r.json: directory "),
    (["--kernel", "i2s", "--workers", "0"], "argument --workers: must be a positive integer, got 0"),
    (["--kernel", "i2s", "--layer", "two"], "argument --layer: invalid int value: 'two'"),
    (["--kernel", "i2s", "--param", "blocks_per_chunk"], "expected KEY=VALUE"),
    (["--kernel", "i2s", "--param", "blocks_per_chunk=many"], "parameter 'blocks_per_chunk' takes an integer"),
    (["--kernel", "i2s", "--param", "tiles=4"], "unknown parameter 'tiles'"),
    (["--kernel", "i2s", "--crosscheck", "qemu"], "unknown cross-check 'qemu'; valid: emulator, native, rtl"),
    (["--kernel", "i2s", "--rtl"], "--crosscheck rtl: does not apply to ISA avx2; the cross-checks of avx2: "),
    (["--kernel", "i2s", "--simulator", "icarus"], "--simulator: only with --rtl"),
    (["--isa", "npu", "--machine", "tiny", "--native"], "--crosscheck native: does not apply to ISA npu; "
                                                        "the cross-checks of npu: rtl"),
    (["--isa", "npu", "--machine", "tiny", "--param", "tiles=4"], "kernel npu_gemm/npu: unknown parameter 'tiles'"),
    (["--isa", "npu", "--machine", "nope"], "unknown machine 'nope' for ISA npu; valid: edge16, kirin-9000-davinci, phone64, tiny"),
])
def test_bad_input_is_one_line_exit_2(argv, culprit, capsys, tmp_path):
    args = list(BASE)
    for flag in ("--isa", "--machine"):
        if flag in argv:
            k = args.index(flag)
            del args[k:k + 2]
    rc = main(args + argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and culprit in err


def test_help_names_every_option_and_every_isa(capsys):
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = capsys.readouterr().out
    for opt in ("--isa", "--machine", "--kernel", "--model", "--layer", "--views", "--json", "--seed",
                "--plot", "--out", "--workers", "--crosscheck", "--native", "--rtl", "--simulator"):
        assert opt in text
    assert "workbench simulate --isa avx2\n" in text and "workbench simulate --isa npu\n" in text


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
    args = [a for a in BASE if a not in ("--machine", "zen4")]               # the default: this CPU's model
    rc = main(args + ["--kernel", "i2s", "--layer", "0", "--native", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and text.startswith("default --machine zen4: models this CPU (EPYC 9R14")
    assert f"on {host} @" in text and "Cross-check native: EPYC 9R14 (AuthenticAMD, family 25, model 17)" in text
    data = json.loads(out.read_text())
    assert data["config"]["machine"]["name"] == host and data["config"]["crosschecks"] == ["native"]
    records = data["crosschecks"]["native"]["records"]
    assert len(records) == len(data["shapes"])
    assert all(r["equal"] is True and r["measured_cycles"] > 0 for r in records)
    table = text[text.index("Cross-check native: "):].splitlines()[2:2 + len(records)]
    assert len(table) == len(records) and all(line.rstrip().endswith("yes") for line in table)


def test_emulator_crosscheck_on_the_x86_target(capsys, monkeypatch):
    _as_zen4_host(monkeypatch)
    assert main(BASE + ["--kernel", "tq2", "--layer", "1", "--crosscheck", "emulator,native"]) == 0
    text = capsys.readouterr().out
    assert "Cross-check emulator: standalone executables of codegen target" in text
    assert "cross-check emulator agrees; cross-check native agrees" in text


def test_native_refuses_a_machine_that_is_not_this_cpu(capsys, monkeypatch):
    _as_zen4_host(monkeypatch)
    args = [a if a != "zen4" else "alderlake-p" for a in BASE]
    assert main(args + ["--kernel", "i2s", "--layer", "0", "--native"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is modelled by machine zen4" in err[0] and "not alderlake-p" in err[0]
    assert main(BASE + ["--kernel", "i2s", "--layer", "0", "--native", "--cold"]) == 2
    assert "cannot check a --cold prediction" in capsys.readouterr().err


def test_machine_host_on_an_unmodelled_cpu_is_one_line(monkeypatch, capsys):
    from kernels.codegen import host

    monkeypatch.setattr(host, "machine_info", lambda: {"model_name": "Zen 5", "vendor": "AuthenticAMD",
                                                       "family": 26, "model": 2, "stepping": 0})
    args = [a if a != "zen4" else "host" for a in BASE]
    assert main(args + ["--kernel", "i2s", "--layer", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--machine host: this host, Zen 5 (AuthenticAMD, family 26, model 2), is " \
        "modelled by no avx2 machine" in err[0]


def test_published_figure_of_the_machine_is_printed_beside_a_whole_token(tmp_path, capsys):
    """A machine's [[published]] figure for the run's model is shown with what each side covers;
    a figure for another model is not."""
    from isa_models.registry import get_isa
    src = get_isa("hvx").load_machine("snapdragon-8-gen-3").path.read_text()
    path = tmp_path / "sd8g3tiny.toml"
    path.write_text(src.replace('name = "snapdragon-8-gen-3"', 'name = "sd8g3tiny"')
                    .replace('model = "bitnet-b1.58-2B-4T"', 'model = "tiny"'))
    assert main(["simulate", "--isa", "hvx", "--machine", str(path), "--model", "tiny", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Published figures on this machine's hardware, same model:" in out
    assert "50 tok/s = 20.0 ms/token" in out and "not included here: lm_head" in out
    assert main(["simulate", "--isa", "hvx", "--model", "tiny", "--no-progress"]) == 0
    assert "Published figures" not in capsys.readouterr().out


def test_qemu_flag_is_the_emulator_crosscheck_with_wall_time(capsys):
    import shutil
    if shutil.which("qemu-aarch64") is None or shutil.which("clang-19") is None:
        pytest.skip("needs qemu-aarch64 and clang-19 (make test installs them as root)")
    assert main(["simulate", "--isa", "neon", "--model", "tiny", "--layer", "0", "--qemu", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Cross-check emulator" in out and "emulated wall s" in out and "cross-check emulator agrees" in out


def test_vliw_report_prints_the_hot_loops_packets_without_views(capsys):
    """The packet listing is a headline view of the VLIW engine: printed without --views for the
    shape with the most cycles per token, cut to its first packets, each instruction in Hexagon
    assembly syntax with virtual registers; CPU engines print none."""
    assert main(["simulate", "--isa", "hvx", "--model", "tiny", "--layer", "0", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "--- packets of the hottest loop, shape M=" in out
    head = out[out.index("--- packets of the hottest loop"):]
    assert "cycles per iteration" in head and "{" in head and "binding: " in head
    packet_lines = [line for line in head.splitlines() if "{" in line or line.rstrip().endswith("}")]
    assert any("vrmpy(" in line for line in packet_lines) and any("vmem(" in line for line in packet_lines)
    assert not any("vrmpy_ubb_vv_acc" in line or "vmem_load " in line for line in packet_lines)
    assert main(["simulate", "--isa", "neon", "--model", "tiny", "--layer", "0", "--no-progress"]) == 0
    assert "of the hottest loop" not in capsys.readouterr().out
