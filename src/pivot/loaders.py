import csv
import dataclasses
import importlib
import json
import os
import pathlib
import pickle
from typing import Any, ClassVar

from pivot.domain import errors
from pivot.domain import loader as loader_mod

Loader = loader_mod.Loader
PathOnly = loader_mod.PathOnly


@dataclasses.dataclass(frozen=True)
class Text(Loader[str]):
    """UTF-8 text."""

    extension: ClassVar[str] = "txt"
    encoding: str = "utf-8"

    def load(self, path: pathlib.Path) -> str:
        return path.read_text(encoding=self.encoding)

    def save(self, value: str, path: pathlib.Path) -> None:
        path.write_text(value, encoding=self.encoding)

    def empty(self) -> str:
        return ""


@dataclasses.dataclass(frozen=True)
class JSON(Loader[Any]):
    """A JSON document (sorted keys, so equal values give equal bytes)."""

    extension: ClassVar[str] = "json"
    indent: int | None = 2

    def load(self, path: pathlib.Path) -> Any:
        with path.open("rb") as f:
            return json.load(f)

    def save(self, value: Any, path: pathlib.Path) -> None:
        path.write_text(json.dumps(value, indent=self.indent, sort_keys=True) + "\n")

    def empty(self) -> Any:
        return {}


@dataclasses.dataclass(frozen=True)
class Pickle(Loader[Any]):
    """Any picklable Python object."""

    extension: ClassVar[str] = "pkl"
    protocol: int = pickle.HIGHEST_PROTOCOL

    def load(self, path: pathlib.Path) -> Any:
        with path.open("rb") as f:
            return pickle.load(f)  # the user's own cached data

    def save(self, value: Any, path: pathlib.Path) -> None:
        with path.open("wb") as f:
            pickle.dump(value, f, protocol=self.protocol)


@dataclasses.dataclass(frozen=True)
class YAML(Loader[Any]):
    """A YAML document, read and written with ruamel.yaml's safe loader."""

    extension: ClassVar[str] = "yaml"

    def load(self, path: pathlib.Path) -> Any:
        from ruamel import yaml

        with path.open("rb") as f:
            return yaml.YAML(typ="safe", pure=True).load(f)

    def save(self, value: Any, path: pathlib.Path) -> None:
        from ruamel import yaml

        dumper = yaml.YAML(typ="safe", pure=True)
        dumper.default_flow_style = False
        with path.open("w", encoding="utf-8") as f:
            dumper.dump(value, f)

    def empty(self) -> Any:
        return {}


@dataclasses.dataclass(frozen=True)
class JSONL(Loader[list[dict[str, Any]]]):
    """JSON Lines: a list of records, one JSON object per line (sorted keys)."""

    extension: ClassVar[str] = "jsonl"

    def load(self, path: pathlib.Path) -> list[dict[str, Any]]:
        with path.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def save(self, value: list[dict[str, Any]], path: pathlib.Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(record, sort_keys=True) + "\n" for record in value)

    def empty(self) -> list[dict[str, Any]]:
        return []


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise errors.PivotError(
            "loaders.CSV needs pandas, which is not installed; install it with "
            + "`pip install 'pivot[csv]'` (or `pip install pandas`)"
        ) from None


@dataclasses.dataclass(frozen=True)
class CSV(Loader[Any]):
    """A CSV file as a pandas DataFrame (needs the `csv` extra: `pip install 'pivot[csv]'`)."""

    extension: ClassVar[str] = "csv"
    index: bool = False
    """Write the DataFrame's index as the first column."""

    def load(self, path: pathlib.Path) -> Any:
        return _pandas().read_csv(path)

    def save(self, value: Any, path: pathlib.Path) -> None:
        _pandas()  # a clear error before touching a value that is not a DataFrame
        value.to_csv(path, index=self.index)

    def empty(self) -> Any:
        return _pandas().DataFrame()


@dataclasses.dataclass(frozen=True)
class Document(Loader[Any]):
    """The default loader of `Metric` and `Plot`: the format follows the path's extension.

    A returned value is written as JSON (`.json`), YAML (`.yaml`/`.yml`), JSON Lines (`.jsonl`)
    or CSV (`.csv`: a list of records, or a pandas DataFrame). Returning `None` or a path means
    the stage wrote the file itself.
    """

    def load(self, path: pathlib.Path) -> Any:
        match _document_format(path):
            case "csv":
                with path.open(newline="", encoding="utf-8") as f:
                    return list(csv.DictReader(f))
            case "yaml":
                return YAML().load(path)
            case "jsonl":
                return JSONL().load(path)
            case "json":
                return JSON().load(path)
            case _:
                return path

    def save(self, value: Any, path: pathlib.Path) -> None:
        if value is None or isinstance(value, os.PathLike):
            PathOnly().save(path, path)
            return
        match _document_format(path):
            case "json":
                JSON().save(value, path)
            case "yaml":
                YAML().save(value, path)
            case "jsonl":
                JSONL().save(value, path)
            case "csv":
                _save_records_csv(value, path)
            case _:
                raise errors.OutputError(
                    f"output '{path.name}': a returned {type(value).__name__} can be written "
                    + "as .json, .yaml, .yml, .jsonl or .csv only; give a loader "
                    + "(e.g. `outputs.Metric(path, loaders.Pickle())`) or write the file "
                    + "yourself and return None"
                )

    def empty(self) -> Any:
        return {}


def _document_format(path: pathlib.Path) -> str:
    suffix = path.suffix.lower()
    return "yaml" if suffix == ".yml" else suffix.lstrip(".")


def _save_records_csv(value: Any, path: pathlib.Path) -> None:
    if hasattr(value, "to_csv"):  # a pandas DataFrame
        value.to_csv(path, index=False)
        return
    if isinstance(value, dict):  # columns: {"step": [1, 2], "loss": [.5, .2]}
        columns: dict[str, Any] = value
        value = [
            dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)
        ]
    records: list[dict[str, Any]] = list(value)
    fields = list(dict.fromkeys(key for record in records for key in record))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(records)
