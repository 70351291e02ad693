"""`workbench.sweep.table`: rows numbered with their labels, the union of columns (parameters
together), Parquet and CSV written and read back in point order, mixed columns typed, a bad
extension one line."""

from __future__ import annotations

import pytest

from workbench.errors import UserError
from workbench.sweep.table import columns, read_table, table_rows, write_table

RESULTS = [{"isa": "avx2", "kernel": "vnni", "M": 256, "K": 512, "param.chains": 1, "seed": 0, "verdict": "VERIFIED",
            "cycles": 1234.5, "bytes": 100, "reason": None},
           {"isa": "neon", "kernel": "rowdot", "M": 256, "K": 512, "param.groups": 4, "seed": 0, "verdict": "VERIFIED",
            "cycles": 2000, "bytes": 90, "reason": None},
           {"isa": "neon", "kernel": "tl1", "M": 256, "K": 512, "param.BM": None, "seed": 0,
            "verdict": "UNSUPPORTED", "cycles": None, "bytes": None, "reason": "K too small"}]
LABELS = [{"shape": "256x512"}, {"shape": "256x512"}, {"shape": "tiny:q"}]


def test_rows_are_numbered_with_labels_after_k_and_params_grouped():
    rows = table_rows(RESULTS, LABELS)
    assert [r["point"] for r in rows] == [0, 1, 2]
    assert list(rows[0])[:6] == ["point", "isa", "kernel", "M", "K", "shape"]
    assert columns(rows) == ["point", "isa", "kernel", "M", "K", "shape", "param.chains", "param.groups",
                             "param.BM", "seed", "verdict", "cycles", "bytes", "reason"]
    with pytest.raises(ValueError):
        table_rows(RESULTS, LABELS[:1])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_tables_round_trip_in_point_order(tmp_path, suffix):
    rows = table_rows(RESULTS, LABELS)
    path = write_table(rows, tmp_path / f"t{suffix}")
    back = read_table(path)
    assert [r["kernel"] for r in back] == ["vnni", "rowdot", "tl1"]
    assert list(back[0]) == columns(rows)
    if suffix == ".parquet":
        assert back[1]["cycles"] == 2000.0 and isinstance(back[1]["cycles"], float)   # int/float column: float
        assert back[0]["param.groups"] is None and back[2]["param.BM"] is None
        assert back[2]["reason"] == "K too small"
    else:
        assert back[0]["cycles"] == "1234.5" and back[2]["cycles"] == ""
    write_table(rows, tmp_path / f"u{suffix}")
    assert (tmp_path / f"t{suffix}").read_bytes() == (tmp_path / f"u{suffix}").read_bytes()   # deterministic


def test_a_column_mixing_strings_and_numbers_is_text(tmp_path):
    rows = [{"point": 0, "param.tile": 4}, {"point": 1, "param.tile": "auto"}]
    back = read_table(write_table(rows, tmp_path / "m.parquet"))
    assert [r["param.tile"] for r in back] == ["4", "auto"]


def test_an_unknown_extension_is_one_line(tmp_path):
    with pytest.raises(UserError, match=r"--out .*t\.xlsx: unknown table type '.xlsx'; use .parquet or .csv"):
        write_table([], tmp_path / "t.xlsx")
