import csv
import dataclasses
import json
import pathlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pivot.domain import data_diff, errors

Row = Sequence[Any]

# CSV fields may be long (text columns); the default 128 KiB limit rejects real files.
csv.field_size_limit(sys.maxsize)


@dataclasses.dataclass(frozen=True)
class Table:
    """A data file opened for streaming: its columns and a way to walk its rows (again)."""

    columns: tuple[str, ...]
    rows: Callable[[], Iterator[Row]]
    """Each call streams the rows from the start, values in `columns` order."""
    types: dict[str, str] = dataclasses.field(default_factory=dict[str, str])
    text: bool = False
    """Every value is a string (CSV, TSV): rows hash without converting values."""


def _invalid(path: pathlib.Path, fmt: data_diff.TableFormat, why: str) -> errors.TargetError:
    return errors.TargetError(f"{path}: not a {fmt.value.upper()} table: {why}")


def _delimited(path: pathlib.Path, delimiter: str) -> Table:
    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        header = next(csv.reader(f, delimiter=delimiter), [])
    width = len(header)

    def rows() -> Iterator[Row]:
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            reader = csv.reader(f, delimiter=delimiter)
            next(reader, None)
            for row in reader:
                yield row if len(row) == width else (row + [""] * width)[:width]

    return Table(tuple(header), rows, text=True)


def _records(path: pathlib.Path, objects: Callable[[], Iterator[Any]]) -> Table:
    """Rows of JSON objects; columns are every key, in order of first appearance."""
    columns: dict[str, None] = {}
    for obj in objects():
        if not isinstance(obj, dict):
            raise _invalid(path, data_diff.TableFormat.JSON, "every row must be an object")
        columns.update(dict.fromkeys(obj))  # pyright: ignore[reportUnknownArgumentType]
    names = tuple(columns)

    def rows() -> Iterator[Row]:
        for obj in objects():
            yield tuple(obj.get(c) for c in names)

    return Table(names, rows)


def _json(path: pathlib.Path) -> Table:
    # The json module cannot stream; JSON tables are read whole (use JSONL for big data).
    try:
        loaded = json.loads(path.read_bytes())
    except ValueError as exc:
        raise _invalid(path, data_diff.TableFormat.JSON, str(exc)) from None
    if isinstance(loaded, dict) and all(isinstance(v, list) for v in loaded.values()):
        columns: dict[str, list[Any]] = loaded  # pyright: ignore[reportUnknownVariableType]
        length = max((len(v) for v in columns.values()), default=0)
        loaded = [
            {c: (v[i] if i < len(v) else None) for c, v in columns.items()} for i in range(length)
        ]
    if not isinstance(loaded, list):
        raise _invalid(
            path, data_diff.TableFormat.JSON, "expected a list of objects or an object of columns"
        )
    items: list[Any] = loaded  # pyright: ignore[reportUnknownVariableType]
    return _records(path, lambda: iter(items))


def _jsonl(path: pathlib.Path) -> Table:
    def objects() -> Iterator[Any]:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise _invalid(
                        path, data_diff.TableFormat.JSONL, f"line {number}: {exc}"
                    ) from None

    return _records(path, objects)


def _parquet(path: pathlib.Path) -> Table:
    try:
        import pyarrow.parquet as pq  # pyright: ignore[reportMissingImports]
    except ImportError:
        raise errors.TargetError(
            f"{path}: diffing Parquet needs pyarrow, which is not installed "
            + "(pip install pyarrow, or uv add pyarrow)"
        ) from None
    schema: Any = pq.read_schema(path)  # pyright: ignore[reportUnknownMemberType]
    names = tuple(str(n) for n in schema.names)
    types = {str(f.name): str(f.type) for f in schema}

    def rows() -> Iterator[Row]:
        parquet: Any = pq.ParquetFile(path)  # pyright: ignore[reportUnknownMemberType]
        for batch in parquet.iter_batches(batch_size=65536):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            yield from zip(*columns, strict=True)

    return Table(names, rows, types)


def open_table(path: pathlib.Path, fmt: data_diff.TableFormat) -> Table:
    match fmt:
        case data_diff.TableFormat.CSV:
            return _delimited(path, ",")
        case data_diff.TableFormat.TSV:
            return _delimited(path, "\t")
        case data_diff.TableFormat.JSON:
            return _json(path)
        case data_diff.TableFormat.JSONL:
            return _jsonl(path)
        case data_diff.TableFormat.PARQUET:
            return _parquet(path)
