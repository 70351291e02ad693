"""workbench.projection.project: whole tokens on SoCs, engines, defaults, JSON, report and plot."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from workbench.errors import UserError
from workbench.projection import Projection, project
from workbench.projection.plot import plot_projection, roofline_points
from workbench.projection.report import render_text
from workbench.soc import load_soc

SOCS = Path(load_soc("snapdragon-8-gen-3").path).parent


@pytest.fixture(scope="module")
def tiny_pi():
    return project(soc="raspberry-pi-5", model="tiny", engine="cpu", threads=1, context=32, prompt_tokens=8)


def test_token_is_the_sum_of_its_ops(tiny_pi):
    r = tiny_pi
    assert r.decode_seconds == pytest.approx(sum(o.seconds for o in r.ops))
    assert r.decode_tokens_per_s == pytest.approx(1 / r.decode_seconds)
    assert r.ttft_s == pytest.approx(sum(o.seconds for o in r.prefill))
    assert r.prefill_tokens_per_s == pytest.approx(8 / r.ttft_s)
    assert sum(v["share"] for v in r.by_class().values()) == pytest.approx(1.0)
    assert r.dram_bytes_per_token == pytest.approx(sum(o.dram_bytes for o in r.ops))
    assert {o.name for o in r.ops if o.cls == "ternary"} == {"q", "k", "v", "o", "gate", "up", "down"}


def test_energy_adds_up_with_its_range(tiny_pi):
    e = tiny_pi.energy
    assert e.low <= e.joules <= e.high and e.joules > 0
    assert e.joules == pytest.approx(sum(o.joules for o in tiny_pi.ops))
    assert "static" in e.breakdown


def test_memory_footprint(tiny_pi):
    m = tiny_pi.memory
    assert m["embedding"] == 512 * 256 * 2 and m["lm_head"] == 0          # tied f16
    assert m["kv_cache"] == 2 * 2 * 128 * 32 * 2
    assert m["total"] == sum(v for k, v in m.items() if k != "total")
    assert not tiny_pi.warnings


def test_defaults_are_recorded_with_reasons(tiny_pi):
    d = "\n".join(tiny_pi.config["defaults"])
    assert "--embed-format f16" in d and "--head-format f16: tied" in d and "--kernel" in d
    assert tiny_pi.config["threads"] == 1 and tiny_pi.config["engine"] == "cpu"


def test_json_round_trips(tiny_pi):
    data = json.loads(json.dumps(tiny_pi.to_json()))
    again = Projection.from_json(data)
    assert again.to_json() == data
    assert data["decode_tokens_per_s"] == tiny_pi.decode_tokens_per_s


def test_report_and_plot(tiny_pi, tmp_path):
    text = render_text(tiny_pi)
    for needle in ("Projection: tiny on raspberry-pi-5", "Op classes of one decode token", "ternary",
                   "decode:", "time to first token", "J/token", "memory:"):
        assert needle in text, needle
    for suffix in (".png", ".svg"):
        path = plot_projection(tiny_pi, tmp_path / f"p{suffix}")
        assert path.stat().st_size > 1000
    assert {p["cls"] for p in roofline_points(tiny_pi)} >= {"ternary", "lm_head"}
    with pytest.raises(UserError, match="--plot"):
        plot_projection(tiny_pi, tmp_path / "p.txt")


def _soc_with_npu(tmp_path, base="raspberry-pi-5") -> str:
    """A copy of SoC `base` with an NPU array added (the phone64 machine), as a file."""
    text = (SOCS / f"{base}.toml").read_text().replace(f'name = "{base}"', 'name = "npu-test"', 1)
    text += ('\n[[accelerators]]\nsource = "test: an NPU array on this SoC"\nname = "npu"\nkind = "npu"\n'
             'machine = "phone64"\nclock_ghz = 1.0\nactive_power_w = 1.5\nidle_power_w = 0.02\ndram_gbps = 10.0\n')
    path = tmp_path / "npu-test.toml"
    path.write_text(text)
    return str(path)


def test_auto_picks_the_fastest_engine(tmp_path):
    r = project(soc=_soc_with_npu(tmp_path), model="tiny", threads=1, context=16, prompt_tokens=4)
    tried = [a for a in r.alternatives if "decode_tokens_per_s" in a]
    assert {a["engine"] for a in tried} == {"cpu", "npu"}
    assert r.decode_tokens_per_s == pytest.approx(max(a["decode_tokens_per_s"] for a in tried))
    assert any(line.startswith("--engine ") for line in r.config["defaults"])


def test_default_threads_is_the_fastest_cluster_boundary():
    r = project(soc="raspberry-pi-5", model="bitnet-b1.58-2B-4T", engine="cpu", context=16, prompt_tokens=1)
    tried = {a["threads"]: a["decode_tokens_per_s"] for a in r.alternatives}
    assert set(tried) == {1, 4}
    assert r.config["threads"] == max(tried, key=tried.get)
    assert any(line.startswith(f"--threads {r.config['threads']}:") for line in r.config["defaults"])


def test_hvx_engine_runs_ternary_there_float_on_the_cpu():
    r = project(soc="snapdragon-8-gen-3", model="tiny", engine="hvx", threads=1, context=16, prompt_tokens=4)
    where = {o.name: o.engine for o in r.ops}
    assert "hvx" in where["gate"] and "hvx" not in where["rope"] and "hvx" not in where["attn_norm"]


def test_npu_engine(tmp_path):
    r = project(soc=_soc_with_npu(tmp_path), model="tiny", engine="npu", threads=1, context=16, prompt_tokens=4)
    assert r.config["kernel"]["name"] == "npu_gemm"
    where = {o.name: o.engine for o in r.ops}
    assert "npu" in where["q"] and "npu" not in where["rope"]


def test_fp16_baseline_reads_more_bytes():
    kw = dict(soc="raspberry-pi-5", model="tiny", engine="cpu", threads=1, context=16, prompt_tokens=4)
    tern, dense = project(**kw), project(weight_format="f16", **kw)
    assert {o.cls for o in dense.ops} >= {"dense_proj"} and "ternary" not in {o.cls for o in dense.ops}
    assert dense.memory["weights"] > 4 * tern.memory["weights"]
    assert dense.dram_bytes_per_token > tern.dram_bytes_per_token


def test_footprint_that_does_not_fit_warns():
    soc = load_soc("raspberry-pi-5")
    small = dataclasses.replace(soc, dram=dataclasses.replace(soc.dram, capacity_gb=1e-5))
    r = project(soc=small, model="tiny", engine="cpu", threads=1, context=16, prompt_tokens=4)
    assert r.warnings and "does not fit" in r.warnings[0]


@pytest.mark.parametrize("kw, culprit", [
    (dict(engine="npu"), "no npu engine"),
    (dict(engine="gpu"), "unknown engine 'gpu'"),
    (dict(threads=99), "--threads 99"),
    (dict(context=257), "--context 257"),
    (dict(prompt_tokens=300), "--prompt-tokens 300"),
    (dict(engine="cpu", kernel="nosuch"), "nosuch"),
    (dict(kernel="rowdot"), "--kernel rowdot: name the engine"),
    (dict(head_format="q3"), "--head-format"),
    (dict(weight_format="int4"), "--weight-format"),
    (dict(model="huge"), "'huge'"),
])
def test_bad_inputs_are_user_errors(kw, culprit):
    args = {"soc": "snapdragon-8-gen-3", "model": "tiny", **kw}
    with pytest.raises(UserError, match=culprit.replace("(", r"\(")):
        project(**args)


def test_kernel_that_cannot_take_a_shape():
    with pytest.raises(UserError, match="tq2.*cannot take shape"):
        project(soc="raspberry-pi-5", model="bitnet-b1.58-3B", engine="cpu", threads=1, kernel="tq2")


@pytest.mark.slow
def test_2b4t_on_snapdragon_8_gen_3_default_run():
    start = time.time()
    r = project(soc="snapdragon-8-gen-3", model="bitnet-b1.58-2B-4T")
    assert time.time() - start < 60
    assert 1 < r.decode_tokens_per_s < 1000 and r.ttft_s > 0 and r.energy.joules > 0
    assert r.memory["embedding"] == 128256 * 2560 * 2
    by = r.by_class()
    assert by["lm_head"]["dram_bytes"] == 128256 * 2560 * 2
    assert r.bound


def test_cli_prints_the_report_and_writes_json_and_plot(tmp_path, capsys):
    from workbench.cli import main

    out_json, out_plot = tmp_path / "p.json", tmp_path / "p.png"
    code = main(["project", "--soc", "raspberry-pi-5", "--model", "tiny", "--engine", "cpu", "--threads", "1",
                 "--context", "32", "--prompt-tokens", "8", "--json", str(out_json), "--plot", str(out_plot)])
    out = capsys.readouterr().out
    assert code == 0 and "decode:" in out and "J/token" in out
    data = json.loads(out_json.read_text())
    assert data["config"]["soc"]["name"] == "raspberry-pi-5" and data["decode_tokens_per_s"] > 0
    assert out_plot.stat().st_size > 1000


def test_model_file_gives_shapes_and_formats(tmp_path):
    from workbench.formats.gguf_io import save_gguf
    from workbench.reference import get_preset, random_weights

    path = save_gguf(random_weights(get_preset("tiny"), seed=0), tmp_path / "tiny.gguf", weight_type="i2_s_fork",
                     embed_type="q8_0")
    r = project(soc="raspberry-pi-5", model_file=str(path), engine="cpu", threads=1, context=16, prompt_tokens=4)
    f = r.config["formats"]
    assert f["embedding"] == "q8_0" and f["lm_head"] == "q8_0" and f["lm_head_tied"]
    assert f["model_file_ternary"] == "i2s_x86"
    assert r.config["model"]["hidden_size"] == 256
    assert any("the embedding's format in" in line for line in r.config["defaults"])
