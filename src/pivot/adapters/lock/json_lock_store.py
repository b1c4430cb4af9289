import json
import pathlib
import urllib.parse
from typing import Any

from pivot.adapters import fs
from pivot.domain import errors, lock, stage

_OUT_FIELDS: dict[str, type] = {"path": str, "hash": str, "kind": str, "cached": bool}


def lock_path(st: stage.Stage) -> pathlib.Path:
    """The stage's lock file; the name is quoted so `a/b` and `x@y` stay one safe file name."""
    return st.state_dir / "stages" / f"{urllib.parse.quote(st.lock_name, safe='')}.lock"


def encode(record: lock.LockRecord) -> bytes:
    """Canonical bytes: equal records give identical files, so merges stay quiet."""
    return (json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def decode(data: bytes, path: pathlib.Path, st: stage.Stage) -> lock.LockRecord:
    """A lock file's bytes as a record; `path` names the file in error messages."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise _invalid(path, st, f"it is not valid JSON ({exc})") from None
    return _validated(raw, path, st)


class JsonLockStore:
    """One JSON lock file per stage under `<pipeline root>/.pivot/stages/`."""

    def read(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's last recorded run, or None if it never ran."""
        path = lock_path(st)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return decode(data, path, st)

    def write(self, st: stage.Stage, record: lock.LockRecord) -> None:
        """Replace the stage's record atomically; an unchanged record leaves the file alone."""
        path = lock_path(st)
        data = encode(record)
        try:
            if path.read_bytes() == data:
                return
        except FileNotFoundError:
            pass
        fs.atomic_write_bytes(path, data)


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


def _invalid(path: pathlib.Path, st: stage.Stage, why: str) -> errors.LockFileError:
    return errors.LockFileError(
        f"lock file {path} of stage '{st.name}' cannot be read: {why}; "
        f"delete it and re-run the stage (`pivot run {st.name}`) to rewrite it"
    )
