"""`workbench.claims.evaluate` and `workbench claims` on the real projection.

The figures read from a real `Projection` must reproduce it (the verdict's scenario with no lever
is the projection itself); every seed claim gets a verdict; a user's file runs; the table holds
the figure, the bound and the verdict of every claim.
"""

from __future__ import annotations

import json
import tomllib

import pytest

from workbench.claims import DEFAULT_FILE, KINDS, load_claims
from workbench.claims.evaluate import evaluate, figures, render_table, to_json
from workbench.claims.verdict import scenario
from workbench.cli import main
from workbench.errors import UserError
from workbench.projection import project

USER = """
[[claim]]
id = "tiny-fast"
text = "the tiny model decodes at 1000 tok/s on a Pi"
source = "test"
origin = "test"
soc = "raspberry-pi-5"
model = "tiny"
quantity = "decode_tokens_per_s"
range = [1000, 2000]
[claim.options]
engine = "cpu"
threads = 1
context = 32
prompt_tokens = 8

[[claim]]
id = "tiny-small"
text = "the tiny model saves over 70% of its FP16 memory"
source = "test"
origin = "test"
soc = "raspberry-pi-5"
model = "tiny"
quantity = "memory_reduction_pct"
range = [70, 100]
[claim.options]
engine = "cpu"
threads = 1
context = 32
prompt_tokens = 8
[claim.baseline]
weight_format = "f16"
"""


@pytest.fixture(scope="module")
def tiny():
    return project(soc="raspberry-pi-5", model="tiny", engine="cpu", threads=1, context=32, prompt_tokens=8)


def test_figures_reproduce_the_projection(tiny):
    fig = figures(tiny)
    assert fig.seconds == tiny.decode_seconds and fig.tokens_per_s == pytest.approx(tiny.decode_tokens_per_s)
    assert fig.memory_bytes == tiny.memory["total"] and fig.dram_bytes == tiny.dram_bytes_per_token
    assert fig.joules == tiny.energy.joules and fig.joules_low <= fig.joules <= fig.joules_high
    assert 0 < fig.dram_joules < fig.joules and 0 < fig.static_joules < fig.joules
    names = [p.name for p in fig.parts]
    assert names == ["ternary weights", "embedding + lm_head (tied)"]            # tiny ties its lm_head
    ternary, head = fig.parts
    assert ternary.memory_bytes == tiny.memory["weights"] and ternary.densest_bits < ternary.bits
    assert head.memory_bytes == tiny.memory["embedding"] and head.format == "f16"
    parts_dram = sum(p.dram_bytes for p in fig.parts) + fig.kv_dram_bytes
    assert 0 < parts_dram <= fig.dram_bytes
    assert fig.kv_memory_bytes == tiny.memory["kv_cache"] and fig.context == 32
    assert fig.sustained_gbps < fig.peak_gbps and fig.capacity_gb > 0
    same = scenario(fig)
    assert (same.seconds, same.joules, same.memory_bytes) == (fig.seconds, fig.joules, fig.memory_bytes)
    denser = scenario(fig, denser=("ternary weights",))
    assert denser.memory_bytes < fig.memory_bytes and denser.seconds <= fig.seconds


def test_a_user_file_evaluates_with_the_real_projection(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(USER)
    results = evaluate(load_claims(f))
    assert [r.claim.id for r in results] == ["tiny-fast", "tiny-small"]
    for r in results:
        assert r.verdict.kind in KINDS and r.verdict.text.startswith(r.verdict.kind)
    mem = results[1]
    assert mem.baseline is not None and mem.baseline_config["formats"]["weights"] == "f16"
    assert mem.verdict.figure == pytest.approx(100 * (1 - mem.figures.memory_bytes / mem.baseline.memory_bytes))
    text = render_table(results)
    assert "tiny-fast" in text.splitlines()[2] and "tiny-small" in text.splitlines()[3]
    data = json.loads(json.dumps(to_json(results)))
    assert sum(data["verdicts"].values()) == 2


def test_a_projection_error_names_the_claim(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(USER.replace('engine = "cpu"\nthreads = 1', 'engine = "cpu"\nthreads = 99', 1))
    with pytest.raises(UserError, match="^claim tiny-fast: "):
        evaluate(load_claims(f))


def _seed_ids() -> list[str]:
    with open(DEFAULT_FILE, "rb") as f:
        return [t["id"] for t in tomllib.load(f)["claim"]]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", _seed_ids())
def test_every_seed_claim_gets_a_verdict(claim_id):
    (r,) = evaluate(load_claims(only=claim_id))
    v = r.verdict
    assert v.kind in KINDS and v.text.startswith(v.kind) and r.claim.claimed_text() in v.text
    assert v.bound == r.figures.bound and v.limit_text
    if claim_id.startswith("100b-tok-s-"):
        # a 100B model reads ~20 GB per token: no phone's LPDDR5/5X streams that 5 times a second
        assert v.kind == "impossible" and "GB/s sustained" in v.text
        assert v.limit < 5.0 and v.figure <= v.limit


def test_the_cli_prints_one_table_with_figure_bound_and_verdict(tmp_path, capsys):
    out = tmp_path / "claims.json"
    cid = "memory-vs-fp16-70pct"
    assert main(["claims", "--only", cid, "--json", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for col in ("claim", "hardware", "claimed", "workbench", "limit", "binding bound", "verdict"):
        assert col in lines[0]
    row = lines[2]
    assert row.startswith(cid) and row.rstrip().endswith(KINDS) and ">= 70 %" in row
    data = json.loads(out.read_text())
    (d,) = data["claims"]
    assert d["claim"]["id"] == cid and d["verdict"]["kind"] in KINDS
    assert d["baseline_projection"]["formats"]["weights"] == "f16"
    assert any(line.strip().startswith("verdict: ") for line in lines)
