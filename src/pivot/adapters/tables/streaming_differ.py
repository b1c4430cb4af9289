import contextlib
import itertools
import json
import operator
import pathlib
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import xxhash

from pivot.adapters.tables import readers
from pivot.domain import data_diff, errors

_BATCH = 50_000
_SEP = "\x1f"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "\x00" + json.dumps(value, sort_keys=True, default=str)


def _texts(table: readers.Table, columns: Sequence[int]) -> Callable[[readers.Row], str]:
    """Row → the text of `columns`, joined (the hot path: no per-value call for CSV)."""
    if not columns:
        return lambda _row: ""
    if table.text:
        if len(columns) == 1:
            return operator.itemgetter(columns[0])
        if list(columns) == list(range(len(table.columns))):
            return _SEP.join
        pick = operator.itemgetter(*columns)
        return lambda row: _SEP.join(pick(row))
    return lambda row: _SEP.join([_text(row[i]) for i in columns])


def _hasher(table: readers.Table, columns: Sequence[int]) -> Callable[[readers.Row], int]:
    text = _texts(table, columns)
    digest = xxhash.xxh3_64_intdigest
    return lambda row: digest(text(row).encode())


def _signed(value: int) -> int:
    """A 64-bit hash as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


class StreamingDiffer:
    """Row diffs that stream both files: positional in one pass with constant memory; keyed
    through per-key row hashes in SQLite, spilled to a temporary file for large inputs."""

    def __init__(self, spill_bytes: int = 64 << 20) -> None:
        self._spill_bytes = spill_bytes

    def diff(
        self,
        old: pathlib.Path,
        new: pathlib.Path,
        fmt: data_diff.TableFormat,
        key: tuple[str, ...] = (),
        samples: int = 10,
    ) -> data_diff.TableDiff:
        """Schema and row changes from `old` to `new`; rows matched by `key`, else by position."""
        a = readers.open_table(old, fmt)
        b = readers.open_table(new, fmt)
        data_diff.check_key(key, a.columns, f"the old version ({old.name})")
        data_diff.check_key(key, b.columns, f"the new version ({new.name})")
        common = [c for c in a.columns if c in b.columns]
        pair = _Pair(a, b, common, key, samples)
        counts = self._keyed(pair, old, new) if key else _positional(pair)
        types = tuple(
            data_diff.ColumnChange(c, a.types[c], b.types[c])
            for c in common
            if c in a.types and c in b.types and a.types[c] != b.types[c]
        )
        return data_diff.TableDiff(
            format=fmt,
            key=key,
            old_columns=a.columns,
            new_columns=b.columns,
            type_changes=types,
            **counts,
        )

    def _keyed(self, pair: "_Pair", old: pathlib.Path, new: pathlib.Path) -> dict[str, Any]:
        spill = old.stat().st_size + new.stat().st_size > self._spill_bytes
        with contextlib.ExitStack() as stack:
            where = ":memory:"
            if spill:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pivot-diff-"))
                where = str(pathlib.Path(tmp) / "rows.sqlite")
            db = sqlite3.connect(where)
            stack.callback(db.close)
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-32768"):
                db.execute(f"PRAGMA {pragma}")
            sides = (
                ("old", pair.a, pair.a_key, pair.a_common, old),
                ("new", pair.b, pair.b_key, pair.b_common, new),
            )
            for side, table, key_idx, common_idx, path in sides:
                _load(
                    db,
                    side,
                    table=table,
                    key_idx=key_idx,
                    common_idx=common_idx,
                    key=pair.key,
                    path=path,
                )
            return pair.keyed_result(db)


def _load(
    db: sqlite3.Connection,
    side: str,
    *,
    table: readers.Table,
    key_idx: Sequence[int],
    common_idx: Sequence[int],
    key: tuple[str, ...],
    path: pathlib.Path,
) -> None:
    """Store (key, row hash, position) of every row, in batches."""
    db.execute(f"CREATE TABLE {side} (k TEXT, h INTEGER, pos INTEGER)")
    key_of = _texts(table, key_idx)
    hash_of = _hasher(table, common_idx)
    rows = ((key_of(row), _signed(hash_of(row)), pos) for pos, row in enumerate(table.rows()))
    while batch := list(itertools.islice(rows, _BATCH)):
        db.executemany(f"INSERT INTO {side} VALUES (?, ?, ?)", batch)
    try:
        db.execute(f"CREATE UNIQUE INDEX {side}_k ON {side}(k)")
    except sqlite3.IntegrityError:
        dup = db.execute(f"SELECT k FROM {side} GROUP BY k HAVING COUNT(*) > 1 LIMIT 1").fetchone()
        shown = ", ".join(part.lstrip("\x00") for part in dup[0].split(_SEP))
        raise errors.TargetError(
            f"key ({', '.join(key)}) is not unique in {path}: '{shown}' appears more than "
            + "once; pass columns that identify one row to --key"
        ) from None


class _Pair:
    """The two tables being compared and how their columns line up."""

    def __init__(
        self,
        a: readers.Table,
        b: readers.Table,
        common: Sequence[str],
        key: tuple[str, ...],
        samples: int,
    ) -> None:
        self.a, self.b, self.key, self.samples = a, b, key, samples
        self.common = [c for c in common if c not in key]
        self.a_common = [a.columns.index(c) for c in common]
        self.b_common = [b.columns.index(c) for c in common]
        self.a_key = [a.columns.index(k) for k in key]
        self.b_key = [b.columns.index(k) for k in key]

    def whole(self, table: readers.Table, row: readers.Row, added: bool) -> dict[str, Any]:
        return {
            c: ((None, v) if added else (v, None))
            for c, v in zip(table.columns, row, strict=True)
            if c not in self.key
        }

    def changes(self, old: readers.Row, new: readers.Row) -> dict[str, tuple[Any, Any]]:
        a_at = dict(zip(self.a.columns, old, strict=True))
        b_at = dict(zip(self.b.columns, new, strict=True))
        return {c: (a_at[c], b_at[c]) for c in self.common if a_at[c] != b_at[c]}

    def keyed_result(self, db: sqlite3.Connection) -> dict[str, Any]:
        def count(sql: str) -> int:
            return db.execute(f"SELECT COUNT(*) {sql}").fetchone()[0]

        def keys(sql: str) -> list[str]:
            return [
                r[0]
                for r in db.execute(f"SELECT x.k {sql} ORDER BY x.pos LIMIT ?", (self.samples,))
            ]

        added_sql = "FROM new x WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.k = x.k)"
        removed_sql = "FROM old x WHERE NOT EXISTS (SELECT 1 FROM new WHERE new.k = x.k)"
        modified_sql = "FROM old x JOIN new y ON x.k = y.k WHERE x.h != y.h"
        added, removed, modified = count(added_sql), count(removed_sql), count(modified_sql)
        found_old = self._pick(self.a, self.a_key, set(keys(removed_sql)) | set(keys(modified_sql)))
        found_new = self._pick(self.b, self.b_key, set(keys(added_sql)) | set(keys(modified_sql)))

        def sample(sql: str, make: Any) -> tuple[data_diff.RowChange, ...]:
            return tuple(make(k) for k in keys(sql))

        return {
            "old_rows": count("FROM old"),
            "new_rows": count("FROM new"),
            "added": added,
            "removed": removed,
            "modified": modified,
            "reordered": not (added or removed or modified)
            and count("FROM old x JOIN new y ON x.k = y.k WHERE x.pos != y.pos") > 0,
            "samples_added": sample(
                added_sql,
                lambda k: data_diff.RowChange(
                    self._key_of(found_new[k], self.b_key), self.whole(self.b, found_new[k], True)
                ),
            ),
            "samples_removed": sample(
                removed_sql,
                lambda k: data_diff.RowChange(
                    self._key_of(found_old[k], self.a_key), self.whole(self.a, found_old[k], False)
                ),
            ),
            "samples_modified": sample(
                modified_sql,
                lambda k: data_diff.RowChange(
                    self._key_of(found_old[k], self.a_key), self.changes(found_old[k], found_new[k])
                ),
            ),
        }

    def _key_of(self, row: readers.Row, key_idx: Sequence[int]) -> dict[str, Any]:
        return {k: row[i] for k, i in zip(self.key, key_idx, strict=True)}

    def _pick(
        self, table: readers.Table, key_idx: Sequence[int], wanted: Iterable[str]
    ) -> dict[str, readers.Row]:
        """Second pass: the full rows of the few sampled keys (stops once all are found)."""
        todo = set(wanted)
        found: dict[str, readers.Row] = {}
        if not todo:
            return found
        key_of = _texts(table, key_idx)
        for row in table.rows():
            k = key_of(row)
            if k in todo:
                found[k] = row
                todo.discard(k)
                if not todo:
                    break
        return found


def _positional(pair: _Pair) -> dict[str, Any]:
    """Row i against row i, in one pass; equal multisets of rows mean a pure reorder."""
    counts = {"old_rows": 0, "new_rows": 0, "added": 0, "removed": 0, "modified": 0}
    sums = [0, 0]
    added: list[data_diff.RowChange] = []
    removed: list[data_diff.RowChange] = []
    modified: list[data_diff.RowChange] = []
    mask = (1 << 64) - 1
    hash_a = _hasher(pair.a, pair.a_common)
    hash_b = _hasher(pair.b, pair.b_common)
    for pos, (old, new) in enumerate(itertools.zip_longest(pair.a.rows(), pair.b.rows()), 1):
        ha = hb = None
        if old is not None:
            counts["old_rows"] += 1
            ha = hash_a(old)
            sums[0] = (sums[0] + ha) & mask
        if new is not None:
            counts["new_rows"] += 1
            hb = hash_b(new)
            sums[1] = (sums[1] + hb) & mask
        if old is None:
            assert new is not None
            counts["added"] += 1
            if len(added) < pair.samples:
                added.append(data_diff.RowChange({"row": pos}, pair.whole(pair.b, new, True)))
        elif new is None:
            counts["removed"] += 1
            if len(removed) < pair.samples:
                removed.append(data_diff.RowChange({"row": pos}, pair.whole(pair.a, old, False)))
        elif ha != hb:
            counts["modified"] += 1
            if len(modified) < pair.samples:
                modified.append(data_diff.RowChange({"row": pos}, pair.changes(old, new)))
    reordered = bool(
        counts["modified"] and not counts["added"] and not counts["removed"] and sums[0] == sums[1]
    )
    if reordered:
        counts["modified"] = 0
        modified = []
    return {
        **counts,
        "reordered": reordered,
        "samples_added": tuple(added),
        "samples_removed": tuple(removed),
        "samples_modified": tuple(modified),
    }
