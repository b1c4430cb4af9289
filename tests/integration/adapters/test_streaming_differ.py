import json
import pathlib

import pytest

from pivot.adapters.tables import streaming_differ
from pivot.domain import data_diff, errors

CSV = data_diff.TableFormat.CSV


def _write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text)
    return path


@pytest.fixture(params=[False, True], ids=["in-memory", "spilled"])
def differ(request: pytest.FixtureRequest) -> streaming_differ.StreamingDiffer:
    return streaming_differ.StreamingDiffer(spill_bytes=0 if request.param else 1 << 30)


def test_keyed_csv_diff_counts_and_shows_added_removed_modified(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "id,name,score\n1,a,10\n2,b,20\n3,c,30\n")
    new = _write(tmp_path / "new.csv", "id,name,score\n3,c,31\n1,a,10\n4,d,40\n")

    diff = differ.diff(old, new, CSV, ("id",))

    assert (diff.old_rows, diff.new_rows) == (3, 3)
    assert (diff.added, diff.removed, diff.modified) == (1, 1, 1)
    assert not diff.reordered
    assert diff.samples_added == (
        data_diff.RowChange({"id": "4"}, {"name": (None, "d"), "score": (None, "40")}),
    )
    assert diff.samples_removed == (
        data_diff.RowChange({"id": "2"}, {"name": ("b", None), "score": ("20", None)}),
    )
    assert diff.samples_modified == (data_diff.RowChange({"id": "3"}, {"score": ("30", "31")}),)


def test_positional_csv_diff(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "a,b\n1,x\n2,y\n")
    new = _write(tmp_path / "new.csv", "a,b\n1,x\n2,z\n3,w\n")

    diff = differ.diff(old, new, CSV)

    assert (diff.added, diff.removed, diff.modified) == (1, 0, 1)
    assert diff.samples_modified == (data_diff.RowChange({"row": 2}, {"b": ("y", "z")}),)
    assert diff.samples_added == (
        data_diff.RowChange({"row": 3}, {"a": (None, "3"), "b": (None, "w")}),
    )


@pytest.mark.parametrize("key", [(), ("a",)])
def test_reorder_only_is_reported_as_such(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer, key: tuple[str, ...]
) -> None:
    old = _write(tmp_path / "old.csv", "a,b\n1,x\n2,y\n3,z\n")
    new = _write(tmp_path / "new.csv", "a,b\n3,z\n1,x\n2,y\n")

    diff = differ.diff(old, new, CSV, key)

    assert diff.reordered
    assert (diff.added, diff.removed, diff.modified) == (0, 0, 0)
    assert diff.changed


def test_identical_files_have_no_changes(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "a,b\n1,x\n")
    new = _write(tmp_path / "new.csv", "a,b\n1,x\n")

    assert not differ.diff(old, new, CSV, ("a",)).changed
    assert not differ.diff(old, new, CSV).changed


def test_schema_change_compares_rows_on_common_columns(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "id,a,gone\n1,x,q\n2,y,q\n")
    new = _write(tmp_path / "new.csv", "id,new,a\n1,n,x\n2,n,Y\n")

    diff = differ.diff(old, new, CSV, ("id",))

    assert diff.added_columns == ("new",)
    assert diff.removed_columns == ("gone",)
    assert diff.modified == 1
    assert diff.samples_modified == (data_diff.RowChange({"id": "2"}, {"a": ("y", "Y")}),)


def test_jsonl_and_tsv_are_tables_too(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = tmp_path / "old.jsonl"
    new = tmp_path / "new.jsonl"
    old.write_text("\n".join(json.dumps(r) for r in [{"k": 1, "v": 1.5}, {"k": 2, "v": 2}]) + "\n")
    new.write_text("\n".join(json.dumps(r) for r in [{"k": 1, "v": 1.5, "w": True}]) + "\n")
    tsv_old = _write(tmp_path / "old.tsv", "k\tv\n1\ta\n")
    tsv_new = _write(tmp_path / "new.tsv", "k\tv\n1\tb\n")

    jsonl = differ.diff(old, new, data_diff.TableFormat.JSONL, ("k",))
    tsv = differ.diff(tsv_old, tsv_new, data_diff.TableFormat.TSV, ("k",))

    assert jsonl.added_columns == ("w",)
    assert (jsonl.added, jsonl.removed, jsonl.modified) == (0, 1, 0)
    assert jsonl.samples_removed[0].row == {"k": 2}
    assert tsv.samples_modified == (data_diff.RowChange({"k": "1"}, {"v": ("a", "b")}),)


def test_duplicate_key_and_missing_key_column_are_clear_errors(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "id,a\n1,x\n1,y\n")
    new = _write(tmp_path / "new.csv", "id,a\n1,x\n")

    with pytest.raises(errors.TargetError, match=r"key \(id\) is not unique in .*old.csv: '1'"):
        differ.diff(old, new, CSV, ("id",))
    with pytest.raises(errors.TargetError, match="key column 'idd' is not in .*columns: id, a"):
        differ.diff(old, new, CSV, ("idd",))


def test_samples_are_capped(
    tmp_path: pathlib.Path, differ: streaming_differ.StreamingDiffer
) -> None:
    old = _write(tmp_path / "old.csv", "id\n")
    new = _write(tmp_path / "new.csv", "id\n" + "".join(f"{i}\n" for i in range(50)))

    diff = differ.diff(old, new, CSV, ("id",), samples=3)

    assert diff.added == 50
    assert len(diff.samples_added) == 3
