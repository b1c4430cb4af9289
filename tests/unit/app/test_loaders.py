import importlib.util
import io
import json
import pathlib
import pickle
import sys
from typing import Any

import pytest
from ruamel import yaml

from pivot import loaders
from pivot.domain import errors

HAVE_PANDAS = importlib.util.find_spec("pandas") is not None
VALUE = {"name": "pivot", "sizes": [1, 2, 3], "nested": {"ok": True}}


@pytest.mark.parametrize(
    ("loader", "value"),
    [
        (loaders.Text(), "héllo\n"),
        (loaders.JSON(), VALUE),
        (loaders.YAML(), VALUE),
        (loaders.JSONL(), [{"a": 1}, {"b": [2]}]),
        (loaders.Pickle(), {"set": {1, 2}, "tuple": (1, "x")}),
    ],
)
def test_round_trip(tmp_path: pathlib.Path, loader: loaders.Loader[Any], value: object) -> None:
    path = tmp_path / f"value.{loader.extension}"

    loader.save(value, path)

    assert loader.load(path) == value


def test_files_parse_with_the_standard_tools(tmp_path: pathlib.Path) -> None:
    loaders.JSON().save(VALUE, tmp_path / "v.json")
    loaders.YAML().save(VALUE, tmp_path / "v.yaml")
    loaders.JSONL().save([VALUE, VALUE], tmp_path / "v.jsonl")
    loaders.Pickle().save(VALUE, tmp_path / "v.pkl")

    assert json.loads((tmp_path / "v.json").read_text()) == VALUE
    text = (tmp_path / "v.yaml").read_text()
    assert yaml.YAML(typ="safe", pure=True).load(io.StringIO(text)) == VALUE
    lines = (tmp_path / "v.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [VALUE, VALUE]
    assert pickle.loads((tmp_path / "v.pkl").read_bytes()) == VALUE


def test_empty_values_for_incremental_outputs() -> None:
    assert loaders.Text().empty() == ""
    assert loaders.JSON().empty() == {}
    assert loaders.YAML().empty() == {}
    assert loaders.JSONL().empty() == []


def test_loader_fields_take_part_in_equality() -> None:
    assert loaders.JSON(indent=2) == loaders.JSON()
    assert loaders.JSON(indent=None) != loaders.JSON()
    assert loaders.CSV(index=True) != loaders.CSV()


def test_path_only_returns_the_path(tmp_path: pathlib.Path) -> None:
    assert loaders.PathOnly().load(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(FileNotFoundError, match="not written"):
        loaders.PathOnly().save(tmp_path / "x", tmp_path / "x")


@pytest.mark.skipif(not HAVE_PANDAS, reason="pandas (the csv extra) is not installed")
def test_csv_round_trip(tmp_path: pathlib.Path) -> None:
    import csv

    pandas = importlib.import_module("pandas")
    frame = pandas.DataFrame({"a": [1, 2], "b": ["x", "y"]})

    loaders.CSV().save(frame, tmp_path / "t.csv")

    assert loaders.CSV().load(tmp_path / "t.csv").equals(frame)
    with (tmp_path / "t.csv").open(newline="") as f:
        assert list(csv.reader(f)) == [["a", "b"], ["1", "x"], ["2", "y"]]


def test_csv_without_pandas_says_how_to_install_it(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    (tmp_path / "t.csv").write_text("a\n1\n")

    with pytest.raises(errors.PivotError, match=r"pip install 'pivot\[csv\]'"):
        loaders.CSV().load(tmp_path / "t.csv")
    with pytest.raises(errors.PivotError, match="pandas"):
        loaders.CSV().save(object(), tmp_path / "u.csv")
