"""The energy model (workbench/soc/energy.py, energy.toml): sourced values, node scaling, estimates."""

from __future__ import annotations

import math
import tomllib

import pytest

from workbench.errors import UnknownNameError, UserError
from workbench.soc.energy import (DEFAULT_PATH, EVENT_KINDS, EnergyEstimate, EnergyEvents, EnergyModel,
                                  EnergyModelError, scaling_factor)


@pytest.fixture(scope="module")
def model():
    return EnergyModel.load()


# --- the data ------------------------------------------------------------------------------------

def test_every_value_has_a_source(model):
    raw = tomllib.loads(DEFAULT_PATH.read_text())
    tables = [raw["model"], raw["scaling"], *raw["scaling"]["nodes"], *raw["events"].values(),
              *raw["dram"].values()]
    for t in tables:
        assert isinstance(t.get("source"), str) and len(t["source"]) > 20, t
    rows = model.table()
    assert {r["event"] for r in rows} >= set(EVENT_KINDS) - {"dram_bytes"}
    for r in rows:
        assert r["source"].strip(), r
        assert 0 < r["low"] <= r["central"] <= r["high"], r
        assert set(r) == {"event", "low", "central", "high", "unit", "node", "source"}


def test_values_with_no_public_source_say_assumption():
    """A row whose value is chosen rather than read says "assumption:" (the ones this file makes)."""
    raw = tomllib.loads(DEFAULT_PATH.read_text())
    for dtype in ("LPDDR4X", "DDR4", "DDR5"):
        assert "assumption:" in raw["dram"][dtype]["source"], dtype
    for kind in ("scalar_instructions", "vector_instructions", "bytes_l1", "bytes_llc", "bytes_vtcm"):
        assert "assumption:" in raw["events"][kind]["source"], kind


def test_dram_types_cover_the_issue_and_the_soc_schema(model):
    assert {"LPDDR4", "LPDDR4X", "LPDDR5", "LPDDR5X", "DDR4", "DDR5"} <= set(model.dram_types)
    from workbench.soc.records import DRAM_TYPES
    assert set(DRAM_TYPES) <= set(model.dram_types)


def test_every_soc_file_is_priced(model):
    """Each SoC description's node and DRAM type are in the model (else projections fail)."""
    from workbench.soc import load_soc, soc_names
    for name in soc_names():
        soc = load_soc(name)
        model.node_factor(soc.node_nm)
        model.dram_energy(soc.dram.type)


def test_newer_dram_costs_less_per_bit(model):
    c = {t: model.dram_energy(t).central for t in model.dram_types}
    assert c["LPDDR5X"] < c["LPDDR5"] < c["LPDDR4X"] < c["LPDDR4"] < c["DDR5"] < c["DDR4"]


# --- scaling -------------------------------------------------------------------------------------

def test_scaling_is_monotone(model):
    nodes = model.nodes
    assert [f.nm for f in nodes] == sorted((f.nm for f in nodes), reverse=True)
    for big, small in zip(nodes, nodes[1:]):
        assert small.central < big.central, (big, small)
        assert scaling_factor(big.nm, small.nm) < 1 < scaling_factor(small.nm, big.nm)
    for f in nodes:
        assert f.low <= f.central <= f.high
        assert model.scaling_factor(f.nm, f.nm) == 1.0
    assert model.node_factor(model.reference_nm).central == 1.0


def test_scaling_factor_composes_and_bounds(model):
    for a in model.node_nms:
        for b in model.node_nms:
            assert math.isclose(scaling_factor(a, b) * scaling_factor(b, a), 1.0)
            lo, c, hi = (model.scaling_factor(a, b, which=w) for w in ("low", "central", "high"))
            assert lo <= c <= hi
    assert math.isclose(scaling_factor(16, 4), 0.574 / 2.67)


def test_node_outside_the_table_names_the_valid_ones(model):
    with pytest.raises(UnknownNameError, match=r"process node 45 nm .*valid: 16, 10, 7, 5, 4, 3"):
        model.estimate(EnergyEvents(int8_ops=1), node_nm=45, dram_type="DDR4")
    with pytest.raises(UserError, match="process node"):
        scaling_factor(7, 2)
    with pytest.raises(UserError, match="scaling bound"):
        model.scaling_factor(7, 5, which="median")


# --- estimates -----------------------------------------------------------------------------------

def _events(k: float = 1.0) -> EnergyEvents:
    return EnergyEvents(int8_ops=3e9 * k, int32_ops=2e8 * k, fp16_ops=1e6 * k, fp32_ops=5e7 * k,
                        vector_instructions=4e8 * k, scalar_instructions=3e7 * k, bytes_l1=2e9 * k,
                        bytes_l2=6e8 * k, bytes_llc=1e7 * k, bytes_vtcm=5e8 * k, dram_bytes=6e8 * k)


@pytest.mark.parametrize("node", [16.0, 7.0, 4.0, 3.0])
@pytest.mark.parametrize("dram", ["LPDDR4X", "LPDDR5X", "DDR5"])
def test_estimate_adds_up_and_brackets(model, node, dram):
    est = model.estimate(_events(), node_nm=node, dram_type=dram, static_w=3.5, seconds=0.04)
    assert set(est.breakdown) == set(EVENT_KINDS) | {"static"}
    assert math.isclose(sum(est.breakdown.values()), est.joules, rel_tol=1e-12)
    assert est.breakdown["static"] == 3.5 * 0.04
    assert 3.5 * 0.04 < est.low < est.joules < est.high


def test_estimate_breakdown_omits_absent_events_and_scales_with_node(model):
    est = model.estimate(EnergyEvents(int8_ops=1e9), node_nm=7, dram_type="LPDDR5")
    assert set(est.breakdown) == {"int8_ops", "static"} and est.breakdown["static"] == 0.0
    est3 = model.estimate(EnergyEvents(int8_ops=1e9), node_nm=3, dram_type="LPDDR5")
    assert math.isclose(est3.joules / est.joules, scaling_factor(7, 3))
    dram7 = model.estimate(EnergyEvents(dram_bytes=1e9), node_nm=7, dram_type="LPDDR5")
    dram3 = model.estimate(EnergyEvents(dram_bytes=1e9), node_nm=3, dram_type="LPDDR5")
    assert dram7 == dram3        # DRAM bytes are not node-scaled


def test_hand_computed_case(tmp_path):
    """A small table with round numbers, priced by hand."""
    path = tmp_path / "e.toml"
    events = "".join(f'[events.{k}]\nunit = "pJ"\nnode_nm = 7.0\nlow = 1.0\nhigh = 4.0\nsource = "test value"\n'
                     for k in EVENT_KINDS[:-1])
    path.write_text('[model]\nsource = "test"\n[scaling]\nsource = "test"\nreference_nm = 7.0\n'
                    '[[scaling.nodes]]\nnm = 7.0\nlow = 1.0\nhigh = 1.0\nsource = "ref"\n'
                    '[[scaling.nodes]]\nnm = 5.0\nlow = 0.4\ncentral = 0.5\nhigh = 0.6\nsource = "half"\n'
                    + events + '[dram.X]\nlow = 1.0\nhigh = 9.0\nsource = "test dram"\n')
    m = EnergyModel.load(path)
    est = m.estimate(EnergyEvents(int8_ops=1000, bytes_l1=10, dram_bytes=100), node_nm=5, dram_type="X",
                     static_w=2.0, seconds=0.5)
    # central: per event sqrt(1*4) = 2 pJ x 0.5 (node) = 1 pJ; DRAM sqrt(1*9) = 3 pJ/bit = 24 pJ/byte
    assert math.isclose(est.breakdown["int8_ops"], 1000 * 1e-12)
    assert math.isclose(est.breakdown["bytes_l1"], 10 * 1e-12)
    assert math.isclose(est.breakdown["dram_bytes"], 100 * 24e-12)
    assert math.isclose(est.joules, 1010e-12 + 2400e-12 + 1.0)
    # low: 1 pJ x 0.4 per event, 8 pJ/byte of DRAM; high: 4 pJ x 0.6, 72 pJ/byte
    assert math.isclose(est.low, 1010 * 0.4e-12 + 800e-12 + 1.0)
    assert math.isclose(est.high, 1010 * 2.4e-12 + 7200e-12 + 1.0)


def test_events_and_estimates_add_and_scale(model):
    a, b = _events(), _events(0.5)
    assert a + b == _events(1.5) == b * 3 == 3 * b
    assert (a * 0).as_dict() == EnergyEvents().as_dict()
    kw = dict(node_nm=4.0, dram_type="LPDDR5X")
    ea, eb = model.estimate(a, **kw, static_w=1.0, seconds=0.1), model.estimate(b, **kw, static_w=2.0, seconds=0.1)
    s = ea + eb
    assert math.isclose(s.joules, ea.joules + eb.joules) and math.isclose(s.high, ea.high + eb.high)
    assert math.isclose(s.breakdown["static"], 0.3)
    ab = model.estimate(a + b, **kw)
    assert math.isclose(ab.joules, (ea + eb).joules - 0.3, rel_tol=1e-12)
    d = (ea * 2).to_json()
    assert set(d) == {"joules", "low", "high", "breakdown"} and math.isclose(d["joules"], 2 * ea.joules)
    assert EnergyEstimate() + ea == ea


def test_numpy_counts_are_numbers(model):
    np = pytest.importorskip("numpy")
    ev = EnergyEvents(int8_ops=np.int64(1000), dram_bytes=np.float32(64.0)) * np.float64(2.0)
    est = model.estimate(ev, node_nm=np.int64(4), dram_type="LPDDR5X", static_w=np.float64(1.0), seconds=0.5)
    ref = model.estimate(EnergyEvents(int8_ops=2000, dram_bytes=128), node_nm=4.0, dram_type="LPDDR5X",
                         static_w=1.0, seconds=0.5)
    assert math.isclose(est.joules, ref.joules) and math.isclose(est.high, ref.high)


# --- bad input -----------------------------------------------------------------------------------

def test_unknown_dram_type_names_the_valid_ones(model):
    with pytest.raises(UnknownNameError, match=r"unknown DRAM type 'HBM3'.*valid: .*LPDDR5X"):
        model.estimate(EnergyEvents(dram_bytes=1), node_nm=4, dram_type="HBM3")


@pytest.mark.parametrize("bad", [
    lambda m: EnergyEvents(int8_ops=-1),
    lambda m: EnergyEvents(dram_bytes=float("nan")),
    lambda m: EnergyEvents(bytes_l1="3"),
    lambda m: EnergyEvents() * -2,
    lambda m: m.estimate(EnergyEvents(), node_nm=4, dram_type="LPDDR5X", static_w=-1.0, seconds=1.0),
    lambda m: m.estimate(EnergyEvents(), node_nm=4, dram_type="LPDDR5X", static_w=1.0, seconds=float("inf")),
    lambda m: m.estimate({"int8_ops": 1}, node_nm=4, dram_type="LPDDR5X"),
    lambda m: m.estimate(EnergyEvents(), node_nm="4", dram_type="LPDDR5X"),
])
def test_bad_inputs_raise_user_error(model, bad):
    with pytest.raises(UserError):
        bad(model)


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.replace('source = "ref"\n', ""), r"scaling.nodes\[0\]\] missing key 'source'"),
    (lambda s: s.replace("low = 0.4", "low = 0.7"), "low <= central <= high"),
    (lambda s: s.replace("reference_nm = 7.0", "reference_nm = 6.0"), "reference_nm 6 is not one of its nodes"),
    (lambda s: s.replace("[dram.X]\n", "[dram.X]\nwatts = 3\n"), r"\[dram.X\] unknown key 'watts'"),
    (lambda s: s.replace("node_nm = 7.0", "node_nm = 28.0", 1), "node_nm 28 is not a node"),
    (lambda s: s.replace("[events.int8_ops]", "[events.int4_ops]"), "unknown key 'int4_ops'"),
    (lambda s: s.replace("high = 9.0", 'high = "nine"'), "must be a positive number"),
    (lambda s: s + "[[oops", "not valid TOML"),
])
def test_malformed_table_names_file_table_and_key(tmp_path, edit, match):
    events = "".join(f'[events.{k}]\nunit = "pJ"\nnode_nm = 7.0\nlow = 1.0\nhigh = 4.0\nsource = "t"\n'
                     for k in EVENT_KINDS[:-1])
    text = ('[model]\nsource = "test"\n[scaling]\nsource = "test"\nreference_nm = 7.0\n'
            '[[scaling.nodes]]\nnm = 7.0\nlow = 1.0\nhigh = 1.0\nsource = "ref"\n'
            '[[scaling.nodes]]\nnm = 5.0\nlow = 0.4\ncentral = 0.5\nhigh = 0.6\nsource = "half"\n'
            + events + '[dram.X]\nlow = 1.0\nhigh = 9.0\nsource = "test dram"\n')
    path = tmp_path / "bad.toml"
    path.write_text(edit(text))
    with pytest.raises(EnergyModelError, match=match):
        EnergyModel.load(path)
    with pytest.raises(EnergyModelError, match="does not exist"):
        EnergyModel.load(tmp_path / "missing.toml")


def test_docs_table_matches_the_data(model):
    """docs/energy.md lists every per-event, DRAM and node value as the TOML has it (to 3 digits)."""
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "energy.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0] and not cells[0].startswith("-"):
            rows[cells[0]] = cells[1:4]
    expected = {k: (e.low, e.central, e.high) for k, e in model.events.items()}
    expected |= {f"DRAM {t}": (e.low, e.central, e.high) for t, e in model.dram.items()}
    expected |= {f"{f.nm:g} nm": (f.low, f.central, f.high) for f in model.nodes}
    for name, values in expected.items():
        assert name in rows, f"docs/energy.md has no row {name!r}"
        for got, want in zip(rows[name], values):
            assert math.isclose(float(got), want, rel_tol=0.01), (name, got, want)
