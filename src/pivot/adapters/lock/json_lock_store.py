import concurrent.futures
import contextlib
import json
import json.encoder
import math
import pathlib
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

from pivot.adapters import fs
from pivot.domain import errors, layout, lock, stage
from pivot.ports import hasher

_OUT_FIELDS: dict[str, type] = {"path": str, "hash": str, "kind": str, "cached": bool}


def lock_path(st: stage.Stage) -> pathlib.Path:
    """The stage's lock file; the name is quoted so `a/b` and `x@y` stay one safe file name."""
    name = urllib.parse.quote(st.lock_name, safe="")
    return st.state_dir / layout.STAGE_LOCKS / f"{name}{layout.LOCK_SUFFIX}"


def encode(record: lock.LockRecord) -> bytes:
    """Canonical bytes: equal records give identical files, so merges stay quiet.

    The bytes of `json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False)` and a
    newline. With `indent` the json module uses its pure-Python encoder (about 4x the C one);
    the plain values a record holds are written here with the C string encoder instead.
    """
    parts: list[str] = []
    try:
        _indented(record, "\n", parts)
    except _Unusual:
        return (json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    parts.append("\n")
    return "".join(parts).encode()


class _Unusual(Exception):
    """A value `_indented` leaves to the json module (non-string keys, other types)."""


_quoted: Callable[[str], str] = json.encoder.encode_basestring  # pyright: ignore[reportAssignmentType]
_INFINITE = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def _indented(value: object, newline: str, out: list[str]) -> None:
    """`value` as `json.dumps(..., sort_keys=True, indent=2)` writes it at this depth."""
    kind = type(value)
    if kind is str:
        out.append(_quoted(value))  # pyright: ignore[reportArgumentType]
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))  # pyright: ignore[reportArgumentType]
    elif kind is float:
        number: float = value  # pyright: ignore[reportAssignmentType]
        if math.isnan(number):
            out.append("NaN")
        else:
            out.append(_INFINITE.get(number) or float.__repr__(number))
    elif kind is dict:
        mapping: dict[Any, Any] = value  # pyright: ignore[reportAssignmentType]
        if not mapping:
            out.append("{}")
            return
        if any(type(key) is not str for key in mapping):
            raise _Unusual
        inner = newline + "  "
        out.append("{")
        for index, key in enumerate(sorted(mapping)):
            out.append(("," if index else "") + inner + _quoted(key) + ": ")
            _indented(mapping[key], inner, out)
        out.append(newline + "}")
    elif kind is list:
        items: list[Any] = value  # pyright: ignore[reportAssignmentType]
        if not items:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[")
        for index, item in enumerate(items):
            out.append(("," if index else "") + inner)
            _indented(item, inner, out)
        out.append(newline + "]")
    else:
        raise _Unusual


def decode(data: bytes, path: pathlib.Path, st: stage.Stage) -> lock.LockRecord:
    """A lock file's bytes as a record; `path` names the file in error messages."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise _invalid(path, st, f"it is not valid JSON ({exc})") from None
    except RecursionError:
        raise _invalid(path, st, "it is nested too deeply to be a lock record") from None
    return _validated(raw, path, st)


class JsonLockStore:
    """One JSON lock file per stage under `<pipeline root>/.pivot/stages/`."""

    def __init__(self) -> None:
        self._pending: dict[pathlib.Path, bytes] | None = None
        """Inside `batch`: records written since the last flush (group commit)."""
        self._known: dict[pathlib.Path, bytes | None] = {}
        """Inside `batch`: each file's newest version as this store read or wrote it (None:
        absent). The batch's writer holds the project lock, so no one else changes them."""
        self._writing: dict[pathlib.Path, bytes] = {}
        """The batch being made durable by the background writer."""
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        self._written: concurrent.futures.Future[None] | None = None

    def read(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's last recorded run, or None if it never ran."""
        path = lock_path(st)
        if path in self._known:
            data = self._known[path]
        else:
            try:
                data = _read_or_none(path)
            except OSError as exc:
                raise _invalid(path, st, exc.strerror or str(exc), fix="remove it") from None
            if self._pending is not None:
                self._known[path] = data
        return None if data is None else decode(data, path, st)

    def write(self, st: stage.Stage, record: lock.LockRecord) -> None:
        """Replace the stage's record atomically; an unchanged record leaves the file alone."""
        path = lock_path(st)
        data = encode(record)
        if self._pending is not None:
            # Compared with the newest version: read or written earlier in the batch (a run
            # reads each record just before writing it), else the file.
            current = self._known[path] if path in self._known else _read_or_none(path)
            if current != data:
                self._pending[path] = self._known[path] = data
            return
        if _read_or_none(path) != data:
            fs.atomic_write_bytes(path, data)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group commit: one filesystem sync per flush, made by a background writer so the
        caller never waits on the disk; the block's end waits for the last one."""
        if self._pending is not None:
            yield  # already batching: the outer block commits
            return
        self._pending = {}
        self._writer = concurrent.futures.ThreadPoolExecutor(1, "pivot-lock-writer")
        try:
            yield
        finally:
            try:
                self.flush()
                self._wait()
            finally:
                self._writer.shutdown()
                self._pending, self._writer = None, None
                self._known.clear()

    def flush(self) -> None:
        """Start making the batch's records durable together (no-op outside a batch).

        Waits for the previous flush first, so at most one batch is in flight and its
        failure surfaces here."""
        if not self._pending or self._writer is None:
            return
        self._wait()
        self._writing, self._pending = self._pending, {}
        self._written = self._writer.submit(fs.atomic_write_many, self._writing)

    def _wait(self) -> None:
        written, self._written = self._written, None
        try:
            if written is not None:
                written.result()
        finally:
            self._writing = {}


def _read_or_none(path: pathlib.Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _validated(raw: Any, path: pathlib.Path, st: stage.Stage) -> lock.LockRecord:
    if not isinstance(raw, dict):
        raise _invalid(path, st, "it is not a JSON object")
    fields: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
    version = fields.get("schema_version")
    if version != lock.SCHEMA_VERSION:
        raise _invalid(
            path, st, f"schema_version is {version!r}, this Pivot reads {lock.SCHEMA_VERSION}"
        )
    if not isinstance(fields.get("stage"), str):
        raise _invalid(path, st, "'stage' must be a string")
    for name in ("code", "deps"):
        if not _str_map(fields.get(name)):
            raise _invalid(path, st, f"'{name}' must map strings to strings")
    if not isinstance(fields.get("params"), dict):
        raise _invalid(path, st, "'params' must be an object")
    outs = fields.get("outs")
    if not isinstance(outs, dict):
        raise _invalid(path, st, "'outs' must be an object")
    for ident, out in outs.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(out, dict) or any(
            not isinstance(out.get(key), kind)  # pyright: ignore[reportUnknownMemberType]
            for key, kind in _OUT_FIELDS.items()
        ):
            raise _invalid(
                path, st, f"output '{ident}' needs path, hash and kind strings and a cached flag"
            )
        if not hasher.DIGEST.fullmatch(out["hash"]):  # pyright: ignore[reportUnknownArgumentType]
            raise _invalid(path, st, f"output '{ident}' has {out['hash']!r}, not a content digest")
    return lock.LockRecord(
        schema_version=version,
        stage=fields["stage"],
        code=fields["code"],
        params=fields["params"],
        deps=fields["deps"],
        outs={
            ident: lock.OutRecord(
                path=out["path"], hash=out["hash"], kind=out["kind"], cached=out["cached"]
            )
            for ident, out in outs.items()  # pyright: ignore[reportUnknownVariableType]
        },
    )


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str)
        for k, v in value.items()  # pyright: ignore[reportUnknownVariableType]
    )


def _invalid(
    path: pathlib.Path, st: stage.Stage, why: str, *, fix: str = "delete it"
) -> errors.LockFileError:
    return errors.LockFileError(
        f"lock file {path} of stage '{st.name}' cannot be read: {why}; "
        f"{fix} and re-run the stage (`pivot run {st.name}`) to rewrite it"
    )
