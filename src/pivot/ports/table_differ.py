import pathlib
from typing import Protocol

from pivot.domain import data_diff


class TableDiffer(Protocol):
    """Compares two versions of a data file row by row, in memory independent of file size."""

    def diff(
        self,
        old: pathlib.Path,
        new: pathlib.Path,
        fmt: data_diff.TableFormat,
        key: tuple[str, ...] = (),
        samples: int = 10,
    ) -> data_diff.TableDiff:
        """Schema and row changes from `old` to `new`; rows matched by `key`, else by position."""
        ...
