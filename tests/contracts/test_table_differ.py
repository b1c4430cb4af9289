"""The `TableDiffer` port: schema and row changes between two versions of a table, rows matched by
key or by position, in every format: the text ones and Parquet (pyarrow, a dev dependency)."""

import csv
import json
import pathlib
from typing import Any

import pytest

from pivot.adapters.tables import streaming_differ
from pivot.domain import data_diff, errors
from pivot.ports import table_differ

Fmt = data_diff.TableFormat
FORMATS = [Fmt.CSV, Fmt.TSV, Fmt.JSON, Fmt.JSONL, Fmt.PARQUET]

ADAPTERS = {
    # Keyed rows in an in-memory SQLite database, or spilled to a temporary file (every input).
    "streaming": lambda: streaming_differ.StreamingDiffer(spill_bytes=1 << 30),
    "streaming-spilled": lambda: streaming_differ.StreamingDiffer(spill_bytes=0),
}


@pytest.fixture(params=sorted(ADAPTERS))
def differ(request: pytest.FixtureRequest) -> table_differ.TableDiffer:
    return ADAPTERS[request.param]()


@pytest.fixture(params=FORMATS, ids=str)
def fmt(request: pytest.FixtureRequest) -> Fmt:
    return request.param


def _table(path: pathlib.Path, fmt: Fmt, columns: list[str], rows: list[list[Any]]) -> pathlib.Path:
    path = path.with_suffix(f".{fmt}")
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    if fmt in (Fmt.CSV, Fmt.TSV):
        with path.open("w", newline="") as f:
            writer = csv.writer(f, delimiter="," if fmt is Fmt.CSV else "\t")
            writer.writerow(columns)
            writer.writerows(rows)
    elif fmt is Fmt.JSON:
        path.write_text(json.dumps(records))
    elif fmt is Fmt.PARQUET:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(records), path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _text(change: data_diff.RowChange) -> tuple[dict[str, str], dict[str, tuple[Any, Any]]]:
    """A sample with its values as text: CSV reads strings, JSON reads numbers."""

    def t(v: Any) -> Any:
        return None if v is None else str(v)

    return (
        {k: str(v) for k, v in change.row.items()},
        {c: (t(a), t(b)) for c, (a, b) in change.changes.items()},
    )


COLUMNS = ["id", "name", "score"]
OLD = [[1, "a", 10], [2, "b", 20], [3, "c", 30]]


def test_keyed_rows_added_removed_and_modified(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, COLUMNS, [[3, "c", 31], [1, "a", 10], [4, "d", 40]])

    diff = differ.diff(old, new, fmt, ("id",))

    assert diff.changed
    assert (diff.format, diff.key) == (fmt, ("id",))
    assert (diff.old_rows, diff.new_rows) == (3, 3)
    assert (diff.added, diff.removed, diff.modified, diff.reordered) == (1, 1, 1, False)
    assert [_text(s) for s in diff.samples_added] == [
        ({"id": "4"}, {"name": (None, "d"), "score": (None, "40")})
    ]
    assert [_text(s) for s in diff.samples_removed] == [
        ({"id": "2"}, {"name": ("b", None), "score": ("20", None)})
    ]
    assert [_text(s) for s in diff.samples_modified] == [({"id": "3"}, {"score": ("30", "31")})]


def test_without_a_key_rows_are_matched_by_position(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, COLUMNS, [*OLD[:2], [3, "c", 31], [4, "d", 40]])

    diff = differ.diff(old, new, fmt)

    assert diff.key == ()
    assert (diff.added, diff.removed, diff.modified) == (1, 0, 1)
    assert [_text(s) for s in diff.samples_modified] == [({"row": "3"}, {"score": ("30", "31")})]
    assert [_text(s) for s in diff.samples_added] == [
        ({"row": "4"}, {"id": (None, "4"), "name": (None, "d"), "score": (None, "40")})
    ]


@pytest.mark.parametrize("key", [(), ("id",)], ids=["positional", "keyed"])
def test_identical_versions_have_no_changes(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt, key: tuple[str, ...]
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, COLUMNS, OLD)

    diff = differ.diff(old, new, fmt, key)

    assert not diff.changed
    assert (diff.old_rows, diff.new_rows) == (3, 3)
    assert (diff.samples_added, diff.samples_removed, diff.samples_modified) == ((), (), ())


@pytest.mark.parametrize("key", [(), ("id",)], ids=["positional", "keyed"])
def test_same_rows_in_another_order_are_reordered_not_changed(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt, key: tuple[str, ...]
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, COLUMNS, OLD[::-1])

    diff = differ.diff(old, new, fmt, key)

    assert diff.reordered
    assert (diff.added, diff.removed, diff.modified) == (0, 0, 0)


def test_schema_changes_are_reported_and_rows_compared_on_common_columns(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, ["id", "score", "grade"], [[i, s, "x"] for i, _, s in OLD])

    diff = differ.diff(old, new, fmt, ("id",))

    assert diff.added_columns == ("grade",)
    assert diff.removed_columns == ("name",)
    assert (diff.added, diff.removed, diff.modified) == (0, 0, 0)
    assert diff.changed


def test_samples_are_capped_but_counts_are_whole(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, COLUMNS, [*OLD, *([i, "n", i] for i in range(4, 54))])

    keyed = differ.diff(old, new, fmt, ("id",), samples=3)
    positional = differ.diff(old, new, fmt, samples=3)

    for diff in (keyed, positional):
        assert diff.added == 50
        assert len(diff.samples_added) == 3


def test_a_key_column_missing_from_either_version_is_a_target_error(
    tmp_path: pathlib.Path, differ: table_differ.TableDiffer, fmt: Fmt
) -> None:
    old = _table(tmp_path / "old", fmt, COLUMNS, OLD)
    new = _table(tmp_path / "new", fmt, ["key", "name", "score"], OLD)

    with pytest.raises(errors.TargetError, match="'id'"):
        differ.diff(old, new, fmt, ("id",))
    with pytest.raises(errors.TargetError, match="'nope'"):
        differ.diff(old, old, fmt, ("nope",))
