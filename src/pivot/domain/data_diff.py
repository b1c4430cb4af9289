import dataclasses
import enum
import pathlib
from typing import Any

from pivot.domain import errors


class TableFormat(enum.StrEnum):
    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    JSONL = "jsonl"
    PARQUET = "parquet"


_SUFFIXES = {
    ".csv": TableFormat.CSV,
    ".tsv": TableFormat.TSV,
    ".json": TableFormat.JSON,
    ".jsonl": TableFormat.JSONL,
    ".ndjson": TableFormat.JSONL,
    ".parquet": TableFormat.PARQUET,
    ".pq": TableFormat.PARQUET,
}
SUPPORTED = "CSV, TSV, JSON, JSONL or Parquet"


def format_of(path: pathlib.PurePath) -> TableFormat | None:
    return _SUFFIXES.get(path.suffix.lower())


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnChange:
    column: str
    old: str | None
    """Old type (Parquet) or None when the column was added."""
    new: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class RowChange:
    row: dict[str, Any]
    """Key columns → values (keyed diff) or `{"row": N}` (positional, 1-based data rows)."""
    changes: dict[str, tuple[Any, Any]]
    """Column → (old, new) for modified rows; every column → (None, value) for added rows,
    (value, None) for removed ones."""


@dataclasses.dataclass(frozen=True, slots=True)
class TableDiff:
    """How a table changed between two versions: schema, then rows."""

    format: TableFormat
    key: tuple[str, ...]
    """Key columns rows were matched by; () when matched by position."""
    old_columns: tuple[str, ...]
    new_columns: tuple[str, ...]
    type_changes: tuple[ColumnChange, ...]
    old_rows: int
    new_rows: int
    added: int
    removed: int
    modified: int
    reordered: bool
    """Same rows, different order (and nothing else changed row-wise)."""
    samples_added: tuple[RowChange, ...] = ()
    samples_removed: tuple[RowChange, ...] = ()
    samples_modified: tuple[RowChange, ...] = ()

    @property
    def added_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.new_columns if c not in self.old_columns)

    @property
    def removed_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.old_columns if c not in self.new_columns)

    @property
    def columns_reordered(self) -> bool:
        common = [c for c in self.old_columns if c in self.new_columns]
        return common != [c for c in self.new_columns if c in self.old_columns]

    @property
    def changed(self) -> bool:
        return bool(
            self.added_columns
            or self.removed_columns
            or self.columns_reordered
            or self.type_changes
            or self.added
            or self.removed
            or self.modified
            or self.reordered
        )


def check_key(key: tuple[str, ...], columns: tuple[str, ...], where: str) -> None:
    """Every key column must exist in both versions."""
    missing = [k for k in key if k not in columns]
    if missing:
        raise errors.TargetError(
            f"key column {', '.join(repr(m) for m in missing)} is not in {where} "
            + f"(columns: {', '.join(columns) or 'none'}); pass existing columns to --key"
        )
