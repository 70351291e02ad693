"""benchmarks/published_figures.py: every published figure of a SoC becomes a row with its ratio."""

from __future__ import annotations

import pytest
from benchmark_scripts import benchmark_script


@pytest.fixture(scope="module")
def pf():
    with benchmark_script("published_figures") as module:
        yield module


def test_rows_and_section_for_one_soc(pf):
    from workbench.soc import load_soc

    rows = pf.figure_rows(["raspberry-pi-5"])
    assert len(rows) == len(load_soc("raspberry-pi-5").published) >= 2
    for row in rows:
        assert row["ours"] > 0 and row["ratio"] == pytest.approx(row["ours"] / row["published"])
        assert row["kernel"] == "tmac" and row["metric"] == "decode tok/s"
    text = pf.render(rows, load_before=0.0, load_after=0.0)
    assert text.count("| raspberry-pi-5 |") == len(rows)
    assert f"of {len(rows)} within 25%" in text
