"""The claims file (`workbench.claims.schema`): the seed's claims load, bad files fail in one line."""

from __future__ import annotations

import pytest

from workbench.claims.schema import (DEFAULT_FILE, QUANTITIES, ClaimsError, claims_from_dict, load_claims)
from workbench.cli import main

SOCS, MODELS = {"kirin-9000", "snapdragon-8-gen-3"}, {"bitnet-100B", "bitnet-b1.58-2B-4T"}

GOOD = """
[[claim]]
id = "mine"
text = "a 2B model at 100 tok/s"
source = "my notes"
origin = "my measurement"
soc = "snapdragon-8-gen-3"
model = "bitnet-b1.58-2B-4T"
quantity = "decode_tokens_per_s"
range = [100, 120]
[claim.options]
context = 512
"""


def table(**over):
    t = {"id": "x", "text": "t", "source": "s", "origin": "o", "soc": "kirin-9000", "model": "bitnet-100B",
         "quantity": "decode_tokens_per_s", "range": [5, 7]}
    t.update(over)
    return {k: v for k, v in t.items() if v is not None}


def load(*tables):
    return claims_from_dict({"claim": list(tables)}, where="f.toml", socs=SOCS, models=MODELS)


def test_the_seed_claims_load_and_cover_every_seed_number():
    claims = load_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids)) >= 9
    by_q = {}
    for c in claims:
        by_q.setdefault(c.quantity, []).append(c)
        assert c.text and c.source and c.origin
        assert c.low <= c.high
    assert set(by_q) == set(QUANTITIES)
    tok = by_q["decode_tokens_per_s"]
    assert {c.soc for c in tok} >= {"kirin-9000", "snapdragon-8-gen-3"}
    assert all(c.model == "bitnet-100B" and (c.low, c.high) == (5.0, 7.0) for c in tok)
    energy = {c.id: c for c in by_q["energy_reduction_pct"]}
    assert {(c.low, c.high) for c in energy.values()} >= {(55.0, 70.0), (72.0, 82.0)}
    assert all(c.baseline and c.baseline["weight_format"] == "f16" for c in energy.values())
    j = by_q["joules_per_token"][0]
    assert j.low == j.high == 0.028 and "2504.12285" in j.origin
    assert any("0.347" in c.text and "Qwen2.5 1.5B" in c.origin for c in energy.values())
    assert by_q["memory_reduction_pct"][0].low == 70.0


def test_only_selects_one_claim_and_refuses_an_unknown_id():
    first = load_claims()[0]
    assert [c.id for c in load_claims(only=first.id)] == [first.id]
    with pytest.raises(ClaimsError, match="no claim with id 'nope'; valid: "):
        load_claims(only="nope")


def test_a_user_file_loads(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(GOOD)
    (c,) = load_claims(f)
    assert (c.id, c.low, c.high, dict(c.options)) == ("mine", 100.0, 120.0, {"context": 512})
    assert c.claimed_text() == "100-120 tok/s" and c.needed == 100.0


@pytest.mark.parametrize("over, message", [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"origin": None}, "missing key 'origin'"),
    ({"range": [7, 5]}, "key 'range' must have 0 <= low <= high"),
    ({"range": [5]}, "key 'range' must be [low, high]"),
    ({"range": ["5", 7]}, "key 'range' must be [low, high]"),
    ({"range": "5-7"}, "key 'range' must be an array"),
    ({"soc": "kirin-990"}, "unknown SoC 'kirin-990'; valid: kirin-9000, snapdragon-8-gen-3"),
    ({"model": "gpt-4"}, "unknown model preset 'gpt-4'"),
    ({"quantity": "speed"}, "unknown quantity 'speed'; valid: decode_tokens_per_s"),
    ({"id": "Bad Id"}, "key 'id' must be lower-case"),
    ({"text": 5}, "key 'text' must be a string, got 5"),
    ({"options": {"threads": "8"}}, "key 'options.threads' must be an integer"),
    ({"options": {"threads": 0}}, "must be >= 1"),
    ({"options": {"turbo": True}}, "unknown key 'options.turbo'; valid: engine, threads"),
    ({"baseline": {"weight_format": "f16"}}, "key 'baseline' is only for a *_reduction_pct quantity"),
    ({"quantity": "memory_reduction_pct", "range": [70, 100]}, "needs a [claim.baseline] table"),
    ({"quantity": "memory_reduction_pct", "range": [70, 120], "baseline": {"weight_format": "f16"}},
     "must stay <= 100 %"),
    ({"quantity": "memory_reduction_pct", "baseline": {"soc": "m1"}}, "unknown SoC baseline.soc 'm1'"),
])
def test_bad_claims_fail_naming_the_file_claim_and_key(over, message):
    with pytest.raises(ClaimsError) as exc:
        load(table(**over))
    text = str(exc.value)
    assert text.startswith("f.toml: claim 1")
    assert message in text
    assert "\n" not in text


def test_file_level_errors():
    with pytest.raises(ClaimsError, match="no \\[\\[claim\\]\\] tables"):
        claims_from_dict({}, where="f.toml", socs=SOCS, models=MODELS)
    with pytest.raises(ClaimsError, match="unknown top-level key 'claims'"):
        claims_from_dict({"claims": []}, where="f.toml", socs=SOCS, models=MODELS)
    with pytest.raises(ClaimsError, match="claim 2: duplicate id 'x'"):
        load(table(), table())


@pytest.mark.parametrize("content, message", [
    ("[[claim]\nid = 1", "not valid TOML"),
    (GOOD.replace('soc = "snapdragon-8-gen-3"', 'soc = "pixel-9"'), "unknown SoC 'pixel-9'"),
    (GOOD + "\n[claim.baseline]\nweight_format = 'f16'\n", "key 'baseline' is only for"),
])
def test_the_cli_refuses_a_bad_file_in_one_line(tmp_path, capsys, content, message):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    assert main(["claims", "--file", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench claims: error: ") and message in err[0]
    assert str(f) in err[0]


def test_the_cli_refuses_a_missing_file_and_an_unknown_id(tmp_path, capsys):
    assert main(["claims", "--file", str(tmp_path / "none.toml")]) == 2
    assert "--file" in capsys.readouterr().err
    assert main(["claims", "--only", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no claim with id 'nope'" in err[0] and str(DEFAULT_FILE) in err[0]
