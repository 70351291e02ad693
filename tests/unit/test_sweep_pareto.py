"""`workbench.sweep.pareto` and `plot`: the non-dominated front for min and max objectives, ties
kept, FAILED, UNSUPPORTED and non-numeric points never on it; the plot written."""

from __future__ import annotations

import pytest

from workbench.errors import UserError
from workbench.sweep.pareto import candidates, pareto_front, point_label
from workbench.sweep.plot import plot_pareto


def _row(x, y, verdict="VERIFIED", **kw):
    return {"kernel": "k", "machine": "m", "M": 4, "K": 8, "verdict": verdict, "cycles": x, "bytes": y, **kw}


ROWS = [_row(10, 100), _row(20, 50), _row(15, 80), _row(30, 50), _row(20, 50), _row(25, 60),
        _row(5, 10, "FAILED"), _row(None, None, "UNSUPPORTED"), _row(40, 5, "LOSSY"), _row(float("nan"), 1)]


def test_front_minimising_both():
    assert candidates(ROWS, ("cycles", "bytes")) == [0, 1, 2, 3, 4, 5, 8]
    # 10/100, 15/80, 20/50 twice (an exact tie), 40/5 (lossy); 30/50 and 25/60 are dominated
    assert pareto_front(ROWS, ("cycles", "bytes"), ("min", "min")) == [0, 2, 1, 4, 8]


def test_front_with_a_maximised_objective():
    rows = [{"verdict": "PROJECTED", "tok_s": t, "j": j} for t, j in ((10, 1.0), (20, 2.0), (15, 3.0), (20, 1.5))]
    assert pareto_front(rows, ("j", "tok_s"), ("min", "max")) == [0, 3]
    assert pareto_front(rows, ("tok_s", "j"), ("max", "min")) == [3, 0]


def test_a_single_point_and_no_points():
    assert pareto_front([_row(1, 1)], ("cycles", "bytes"), ("min", "min")) == [0]
    assert pareto_front([_row(1, 1, "FAILED")], ("cycles", "bytes"), ("min", "min")) == []


def test_labels():
    assert point_label(_row(1, 1, shape="tiny:q", **{"param.chains": 2})) == "k/m tiny:q [chains=2]"
    assert point_label({"soc": "s", "engine": "cpu", "threads": 2, "model": "tiny"}) == "s cpu 2t tiny"


def test_plot_is_written_and_a_bad_suffix_refused(tmp_path):
    path = plot_pareto(ROWS, ("cycles", "bytes"), ("min", "min"), tmp_path / "p.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_pareto([], ("cycles", "bytes"), ("min", "min"), tmp_path / "empty.svg")
    with pytest.raises(UserError, match="--plot"):
        plot_pareto(ROWS, ("cycles", "bytes"), ("min", "min"), tmp_path / "p.txt")
