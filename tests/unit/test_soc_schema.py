"""The SoC descriptions (workbench/soc): every file loads, every value has a source, bad files fail in one line.

Tests of `workbench.soc.schema` and the `workbench socs` command: each SoC of workbench/soc/socs/
loads with machines of the named ISA, DRAM figures derive from rate x width, every value in each
TOML has a provenance (walked key by key) and values not public say "assumption"; corrupted
copies (unknown key, wrong type, missing machine, machine of another ISA, negative clock, missing
key, malformed TOML) raise a SoCError naming the file, table and key, or the SoC and cluster.
"""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from workbench.cli import main
from workbench.errors import UnknownNameError, UserError
from workbench.soc import DRAM_TYPES, SoCError, load_soc, soc_names
from workbench.soc.schema import SOCS_DIR, walk_values

EXPECTED = {"snapdragon-8-gen-3", "snapdragon-8-elite", "snapdragon-x-elite", "kirin-9000", "raspberry-pi-5",
            "epyc-7v13", "i7-13800h", "i7-13700h"}


@pytest.fixture(scope="module", params=soc_names())
def soc(request):
    return load_soc(request.param)


def test_the_expected_socs_are_listed():
    assert EXPECTED <= set(soc_names())


def test_soc_loads_with_machines_of_its_isa(soc):
    assert soc.clusters and soc.cores == sum(c.count for c in soc.clusters)
    for unit in (*soc.clusters, *soc.accelerators):
        m = unit.load_machine()
        assert m.isa == getattr(unit, "isa", None) or m.isa == getattr(unit, "kind", None)
        assert m.name == unit.machine
    clocks = [c.clock_ghz for c in soc.clusters]
    assert clocks == sorted(clocks, reverse=True)                   # biggest first
    for c in soc.clusters:
        assert c.machine_at_clock().clock_ghz == c.clock_ghz         # the SoC's clock overrides the file's
        assert 0 <= c.idle_power_w <= c.active_power_w
    assert soc.dram.type in DRAM_TYPES
    assert soc.dram.peak_gbps == pytest.approx(soc.dram.mt_s * soc.dram.bus_bits / 8000)
    assert 0 < soc.dram.sustained_gbps < soc.dram.peak_gbps
    assert soc.node_nm > 0 and soc.dram.capacity_gb > 0


def test_every_value_has_a_source(soc):
    data = tomllib.loads(soc.path.read_text())
    keys = walk_values(data)
    assert "soc.node_nm" in keys and "dram.mt_s" in keys and "clusters[0].clock_ghz" in keys
    for key in keys + ["dram.peak_gbps", "dram.sustained_gbps"]:
        assert len(soc.source_of(key)) > 15, key
    for i, c in enumerate(soc.clusters):
        assert soc.source_of(f"clusters.{c.name}.clock_ghz") == soc.source_of(f"clusters[{i}].clock_ghz")
        assert soc.source_of(f"clusters[{i}].dram_gbps_core")        # own value or the machine's
    assert soc.source_of("dram.peak_gbps").startswith("derived:")
    assert "efficiency" in soc.source_of("dram.sustained_gbps")


def test_values_not_public_are_marked(soc):
    """Power figures with no public measurement say so: at least one assumption per SoC is marked,
    and each marked one gives a reason (more than the word)."""
    marked = [v for v in soc.sources.values() if "assumption" in v]
    assert marked
    for text in marked:
        assert re.search(r"assumption:\s*\S.{20,}", text), text


def test_published_figures_are_well_formed(soc):
    from workbench.reference.config import PRESETS

    engines = {"cpu", *(a.kind for a in soc.accelerators)}
    for p in soc.published:
        assert (p.tokens_per_s is None) != (p.joules_per_token is None)
        assert p.engine in engines and p.threads >= 1 and p.source
        assert p.model in PRESETS, p.model                     # a model the projection can run
        assert p.phase in ("decode", "prefill")


def test_the_published_anchors_of_the_issue_are_recorded():
    """The figures the projection is checked against sit on the SoC they were measured on."""
    def figures(name):
        return {(p.model, p.phase, p.threads, p.engine, p.tokens_per_s or p.joules_per_token)
                for p in load_soc(name).published}
    assert ("bitnet-b1.58-2B-4T", "decode", 1, "cpu", 15.49) in figures("epyc-7v13")
    assert ("bitnet-b1.58-2B-4T", "decode", 1, "cpu", 13.28) in figures("i7-13800h")
    assert {("bitnet-b1.58-3B", "decode", 1, "cpu", 8.03), ("bitnet-b1.58-3B", "decode", 2, "cpu", 11.09)} \
        <= figures("raspberry-pi-5")
    assert {("bitnet-b1.58-3B", "decode", 1, "cpu", 20), ("bitnet-b1.58-3B", "decode", 4, "cpu", 48)} \
        <= figures("snapdragon-x-elite")
    assert ("bitnet-b1.58-2B-4T", "decode", 4, "hvx", 50) in figures("snapdragon-8-gen-3")
    energy = [p for p in load_soc("i7-13700h").published if p.joules_per_token is not None]
    assert sorted(p.joules_per_token for p in energy) == [0.384, 1.367, 17.33]


def test_the_kirin_npu_and_the_elite_cores_are_marked_as_assumptions():
    kirin = load_soc("kirin-9000")
    npu = kirin.accelerator("npu")
    assert npu is not None and npu.load_machine().rows * npu.load_machine().cols == 8192
    for key in ("rows", "cols", "weight_encoding", "w_bank_words", "dma_bytes_per_cycle"):
        assert npu.load_machine().source_of(f"mac_array.{key}").startswith("assumption:"), key
    assert [c.machine for c in kirin.clusters] == ["cortex-a77", "cortex-a77", "cortex-a55"]
    elite = load_soc("snapdragon-8-elite")
    for i, c in enumerate(elite.clusters):
        assert c.machine == "oryon" and "1st-generation model" in elite.source_of(f"clusters[{i}]")


def test_boost_clock_applies_up_to_its_core_count():
    host = load_soc("i7-13800h").clusters[0]
    assert (host.clock_for(1), host.clock_for(2), host.clock_for(3), host.clock_for(6)) == (5.2, 5.2, 4.0, 4.0)
    assert host.power_for(1) == host.boost_power_w and host.power_for(6) == host.active_power_w
    assert host.machine_at_clock(busy=1).clock_ghz == 5.2 and host.machine_at_clock().clock_ghz == 4.0
    pi = load_soc("raspberry-pi-5").clusters[0]
    assert pi.boost_ghz is None and pi.clock_for(1) == pi.clock_ghz == 2.4


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError, match="unknown SoC 'nope'; valid: .*raspberry-pi-5"):
        load_soc("nope")


# --- bad files ------------------------------------------------------------------------------------

def _copy(tmp_path, edit, name="raspberry-pi-5"):
    """A copy of SoC `name` named bad.toml, its text passed through `edit`."""
    text = (SOCS_DIR / f"{name}.toml").read_text().replace(f'name = "{name}"', 'name = "bad"', 1)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "bad.toml"
    path.write_text(edit(text))
    return path


BAD = {
    "unknown key": (lambda t: t.replace("node_nm = 16.0", "node_nm = 16.0\nnode_mn = 3"),
                    r"bad\.toml: \[soc\] unknown key 'node_mn'"),
    "wrong type": (lambda t: t.replace("count = 4", 'count = "four"'),
                   r"bad\.toml: \[clusters\[0\]\] key 'count' has the wrong type"),
    "float count": (lambda t: t.replace("count = 4", "count = 4.0"),
                    r"\[clusters\[0\]\] key 'count' has the wrong type"),
    "negative clock": (lambda t: t.replace("clock_ghz = 2.4", "clock_ghz = -2.4"),
                       r"bad\.toml: \[clusters\[0\]\] key 'clock_ghz' is -2\.4, outside \(0, 10\]"),
    "missing key": (lambda t: t.replace("mt_s = 4267\n", ""), r"bad\.toml: \[dram\] missing key 'mt_s'"),
    "missing source": (lambda t: t.replace('source = "BCM2712: 4x', 'origin = "BCM2712: 4x'),
                       r"\[clusters\[0\]\] missing key 'source'"),
    "sources names unknown key": (lambda t: t.replace('capacity_gb = "assumption', 'capacity = "assumption'),
                                  r"\[dram\]\.sources names unknown key 'capacity'"),
    "unknown dram type": (lambda t: t.replace('type = "LPDDR4X"', 'type = "LPDDR6"'),
                          r"\[dram\] key 'type' is 'LPDDR6'; valid: LPDDR4X"),
    "idle above active": (lambda t: t.replace("idle_power_w = 0.05", "idle_power_w = 5.0"),
                          r"\[clusters\[0\]\] key 'idle_power_w' is 5 W, above active_power_w"),
    "unknown isa": (lambda t: t.replace('isa = "neon"', 'isa = "mips"'),
                    r"\[clusters\[0\]\] key 'isa' is 'mips'; valid: "),
    "missing machine": (lambda t: t.replace('machine = "cortex-a76"', 'machine = "cortex-a99"'),
                        r"SoC bad: \[clusters\[0\]\] 'a76': machine 'cortex-a99' of ISA 'neon': unknown machine"),
    "machine of another isa": (lambda t: t.replace('machine = "cortex-a76"', 'machine = "zen3"'),
                               r"SoC bad: \[clusters\[0\]\] 'a76': machine 'zen3' of ISA 'neon'"),
    "per-core dram above peak": (lambda t: t.replace("idle_power_w = 0.05\n", "idle_power_w = 0.05\ndram_gbps_core = 99.0\n"),
                                 r"\[clusters\[0\]\] key 'dram_gbps_core' is 99\.0, outside \(0, 17\.068\]"),
    "published needs one figure": (lambda t: t.replace("tokens_per_s = 8.03", "joules_per_token = 1.0\ntokens_per_s = 8.03"),
                                   r"\[published\[0\]\] needs exactly one of 'tokens_per_s' and 'joules_per_token'"),
    "published engine": (lambda t: t.replace('engine = "cpu"', 'engine = "gpu"', 1),
                         r"\[published\[0\]\] key 'engine' is 'gpu'; valid: cpu"),
    "unknown table": (lambda t: t + "\n[gpu]\nsource = \"x\"\n", r"unknown table 'gpu'"),
    "name differs from file": (lambda t: t.replace('name = "bad"', 'name = "other"', 1),
                               r"\[soc\] key 'name' is 'other', the file is named 'bad'"),
    "clusters out of order": (lambda t: t.replace("[[published]]", t[t.index("[[clusters]]"):t.index("[[published]]")]
                                                  .replace('name = "a76"', 'name = "a76-fast"')
                                                  .replace("clock_ghz = 2.4", "clock_ghz = 3.0") + "[[published]]", 1),
                              r"\[clusters\[1\]\] key 'clock_ghz' 3 is above the previous cluster's 2\.4"),
    "malformed toml": (lambda t: t.replace("node_nm = 16.0", "node_nm = = 16.0"),
                       r"bad\.toml: not valid TOML: "),
    "boost without its partners": (lambda t: t.replace("idle_power_w = 0.05\n", "idle_power_w = 0.05\nboost_ghz = 2.8\n"),
                                   r"\[clusters\[0\]\] missing key 'boost_cores' \(boost_ghz, boost_cores and"),
    "boost below the clock": (lambda t: t.replace("idle_power_w = 0.05\n", "idle_power_w = 0.05\nboost_ghz = 2.0\n"
                                                  "boost_cores = 1\nboost_power_w = 3.0\n"),
                              r"\[clusters\[0\]\] key 'boost_ghz' is 2\.0, outside \(2\.4, 10\]"),
    "boost on more cores than the cluster": (lambda t: t.replace("idle_power_w = 0.05\n", "idle_power_w = 0.05\n"
                                                                 "boost_ghz = 2.8\nboost_cores = 5\nboost_power_w = 3.0\n"),
                                             r"\[clusters\[0\]\] key 'boost_cores' is 5, outside \[1, 4\]"),
    "unknown phase": (lambda t: t.replace('engine = "cpu"', 'engine = "cpu"\nphase = "train"', 1),
                      r"\[published\[0\]\] key 'phase' is 'train'; valid: decode, prefill"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_names_the_culprit(tmp_path, case):
    edit, pattern = BAD[case]
    path = _copy(tmp_path, edit)
    assert path.read_text() != _copy(tmp_path / "good", lambda t: t).read_text()    # the edit took
    with pytest.raises(SoCError) as exc:
        load_soc(path)
    message = str(exc.value)
    assert isinstance(exc.value, UserError) and "\n" not in message
    assert re.search(pattern, message), message


def test_an_accelerator_machine_must_be_of_its_kind(tmp_path):
    path = _copy(tmp_path, lambda t: t.replace('machine = "snapdragon-8-gen-3"', 'machine = "cortex-x4"'),
                 name="snapdragon-8-gen-3")
    with pytest.raises(SoCError, match=r"SoC bad: \[accelerators\[0\]\] 'hvx': machine 'cortex-x4' of ISA 'hvx'"):
        load_soc(path)


def test_a_file_is_loaded_once_per_version(tmp_path):
    import os

    path = _copy(tmp_path, lambda t: t)
    first = load_soc(path)
    assert load_soc(path) is first
    path.write_text(path.read_text().replace("count = 4", "count = 2"))
    os.utime(path, ns=(first.path.stat().st_atime_ns, first.path.stat().st_mtime_ns + 10**9))
    again = load_soc(path)
    assert again is not first and again.clusters[0].count == 2


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(SoCError, match="does not exist"):
        load_soc(tmp_path / "none.toml")


# --- the command ----------------------------------------------------------------------------------

def test_cli_lists_every_soc(capsys):
    assert main(["socs"]) == 0
    out = capsys.readouterr().out
    for name in soc_names():
        assert f"{name}: " in out
    assert "DRAM LPDDR5X-9600 x64: peak 76.8 GB/s" in out
    assert "cluster prime: 1 x neon/cortex-x4 @ 3.3 GHz" in out


def test_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "socs.json"
    assert main(["socs", "raspberry-pi-5", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["name"] for r in rows] == ["raspberry-pi-5"]
    assert rows[0]["dram"]["peak_gbps"] == pytest.approx(17.068)
    assert rows[0]["clusters"][0]["machine"] == "cortex-a76"
    assert rows[0]["sources"]["dram.peak_gbps"].startswith("derived:")


def test_cli_unknown_soc_is_one_line(capsys):
    assert main(["socs", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("workbench socs: error: unknown SoC 'nope'")
