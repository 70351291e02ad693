"""A sweep's results as one table: Parquet (pyarrow) or CSV, by the output's extension.

Sweep layer (`workbench.sweep`), after `execute.run_points`. `table_rows` joins each point's labels
(the shape as written in the spec) with its result row and numbers the points; `write_table`
writes the rows in point order with the union of their columns in first-seen order (a column a
point lacks is null). Rows hold only the resolved configuration and results, never a timestamp or
a host name, so the same sweep on a local or a remote cluster writes the same table.
"""

from __future__ import annotations

import csv
from pathlib import Path

from workbench.errors import UserError

__all__ = ["TABLE_SUFFIXES", "table_rows", "columns", "write_table", "read_table", "check_table_path"]

TABLE_SUFFIXES = (".parquet", ".csv")


def check_table_path(path) -> Path:
    """`path` if its extension is one of `TABLE_SUFFIXES`; UserError naming it otherwise."""
    p = Path(path)
    if p.suffix.lower() not in TABLE_SUFFIXES:
        raise UserError(f"--out {p}: unknown table type {p.suffix or '(no extension)'!r}; use "
                        f"{' or '.join(TABLE_SUFFIXES)}")
    return p


def table_rows(results: list[dict], labels: list[dict] | None = None) -> list[dict]:
    """One row per point: ``point`` (0-based index), the result's columns, with each label column
    placed after the result's "K" column when it has one (else after ``point``)."""
    labels = labels or [{} for _ in results]
    rows = []
    for i, (result, label) in enumerate(zip(results, labels, strict=True)):
        row = {"point": i}
        placed = "K" not in result
        if placed:
            row.update(label)
        for key, value in result.items():
            row[key] = value
            if key == "K" and not placed:
                row.update(label)
                placed = True
        rows.append(row)
    return rows


def columns(rows: list[dict]) -> list[str]:
    """The union of the rows' keys in first-seen order, every ``param.<name>`` column moved to where
    the first one appears (points of different kernels have different parameters)."""
    names = list(dict.fromkeys(key for row in rows for key in row))
    params = [n for n in names if n.startswith("param.")]
    if not params:
        return names
    at = names.index(params[0])
    rest = [n for n in names if not n.startswith("param.")]
    return rest[:at] + params + rest[at:]


def _column_kind(values: list) -> type | None:
    """int, float, bool or str for a column's non-null values (mixed int/float: float; any
    other mix: str), None when every value is null."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return None
    if kinds <= {int, float}:
        return float if float in kinds else int
    return kinds.pop() if len(kinds) == 1 else str


def _arrow_table(rows: list[dict]):
    import pyarrow as pa

    names = columns(rows)
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kind = _column_kind(values)
        if kind is None:
            arrays[name] = pa.array(values, type=pa.null())
        elif kind is str:
            arrays[name] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        elif kind is float:
            arrays[name] = pa.array([None if v is None else float(v) for v in values], type=pa.float64())
        elif kind is int:
            arrays[name] = pa.array(values, type=pa.int64())
        else:
            arrays[name] = pa.array(values, type=pa.bool_())
    return pa.table(arrays)


def write_table(rows: list[dict], path) -> Path:
    """Write `rows` to `path` (.parquet or .csv, `check_table_path`); returns the path."""
    p = check_table_path(path)
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(_arrow_table(rows), p)
        return p
    names = columns(rows)
    with open(p, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if row.get(n) is None else repr(row[n]) if isinstance(row[n], float) else row[n]
                             for n in names])
    return p


def read_table(path) -> list[dict]:
    """The rows of a table `write_table` wrote (CSV values come back as strings, "" for null)."""
    p = check_table_path(path)
    if p.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(p).to_pylist()
    with open(p, newline="") as fh:
        return list(csv.DictReader(fh))
