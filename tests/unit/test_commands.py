"""`workbench.commands`: the argument helpers every command shares (kernel parameter parsing)."""

from __future__ import annotations

import pytest

from workbench.commands import parse_param_lists, parse_param_value, parse_params
from workbench.errors import UserError


def test_param_and_values_flags_parse_ints_none_and_names():
    assert parse_param_value("16") == 16 and parse_param_value("none") is None
    assert parse_param_value("Auto") is None and parse_param_value("zen4") == "zen4"
    assert parse_params(["groups=2", "BM=none"]) == {"groups": 2, "BM": None}
    assert parse_param_lists(["BK=96,192", "unroll=1"]) == {"BK": [96, 192], "unroll": [1]}
    for bad in (["groups"], ["=2"], ["groups="]):
        with pytest.raises(UserError, match="--param"):
            parse_params(bad)
    with pytest.raises(UserError, match="--values"):
        parse_param_lists(["BK=,"])
