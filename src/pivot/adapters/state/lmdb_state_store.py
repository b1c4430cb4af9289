import os
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

import lmdb
import xxhash

if TYPE_CHECKING:  # the no-op fast path opens this store: no Protocol classes to build
    from pivot.ports import state_store

T = TypeVar("T")

_STAMP = struct.Struct("<QQq")
_KEY_LEN = struct.Struct("<I")
# Generic namespaces are non-empty and free of NUL, so their prefixes never start with NUL.
_HASH_PREFIX = b"\x00hash\x00"
# UTF-8 never produces 0xff: a key part starting with it is a hashed stand-in for a key too long
# for LMDB, whose real bytes lead the value.
_LONG_KEY = b"\xff"
_DEFAULT_MAP_SIZE = 1 << 30
_MAX_MAP_SIZE = 1 << 42
# A reused read snapshot is refreshed after this long so other processes' writes show up and
# old pages can be reclaimed.
_SNAPSHOT_MAX_AGE = 0.5


class _SharedEnv:
    """One LMDB environment per path per process, shared by every store opened on it."""

    __slots__ = ("env", "env_map_size", "lock", "max_key", "reader", "reader_born", "refs")

    def __init__(self, env: lmdb.Environment) -> None:
        self.env = env
        self.env_map_size = env.info()["map_size"]
        self.lock = threading.Lock()
        self.max_key = env.max_key_size()
        self.reader: lmdb.Transaction[bytes] | None = None
        self.reader_born = 0.0
        self.refs = 0

    def snapshot(self) -> "lmdb.Transaction[bytes]":
        """A read transaction reused until the next write or until it grows old (lock held)."""
        now = time.monotonic()
        if self.reader is not None and now - self.reader_born < _SNAPSHOT_MAX_AGE:
            return self.reader
        self.drop_snapshot()
        try:
            self.reader = self.env.begin()
        except lmdb.MapResizedError:
            # Another process grew the map; adopt its size.
            self.env.set_mapsize(0)
            self.reader = self.env.begin()
        self.reader_born = now
        return self.reader

    def drop_snapshot(self) -> None:
        if self.reader is not None:
            self.reader.abort()
            self.reader = None


# Errors that mean the files are damaged, not that this process misused them.
_DAMAGE = (lmdb.CorruptedError, lmdb.PageNotFoundError, lmdb.InvalidError)

_registry: dict[tuple[int, str], _SharedEnv] = {}
_registry_lock = threading.Lock()


def _acquire(path: str, map_size: int) -> tuple[tuple[int, str], _SharedEnv]:
    # The pid is part of the key: an environment inherited through fork must not be reused.
    key = (os.getpid(), os.path.realpath(path))
    with _registry_lock:
        shared = _registry.get(key)
        if shared is None:
            shared = _registry[key] = _SharedEnv(_open_or_rebuild(path, map_size))
        shared.refs += 1
        return key, shared


def _open(path: str, map_size: int) -> lmdb.Environment:
    os.makedirs(path, exist_ok=True)
    env = lmdb.open(
        path,
        map_size=map_size,
        subdir=True,
        writemap=False,
        # The store is only an optimisation: a crash may lose the last writes, which
        # costs a re-hash, while an fsync per transaction would cost every run.
        sync=False,
        metasync=False,
        readahead=False,
        max_dbs=0,
    )
    # Pages past the end of a truncated data file would kill the process (SIGBUS) when read.
    needed = (env.info()["last_pgno"] + 1) * env.stat()["psize"]
    data = os.path.join(path, "data.mdb")
    if os.stat(data).st_size < needed:
        env.close()
        raise lmdb.CorruptedError(f"{data} is shorter than its pages")
    return env


def _open_or_rebuild(path: str, map_size: int) -> lmdb.Environment:
    try:
        return _open(path, map_size)
    except (lmdb.Error, OSError) as exc:
        _set_aside(path, exc)
    return _open(path, map_size)


def _set_aside(path: str, exc: BaseException) -> None:
    """Move a damaged store out of the way (kept once, for inspection) and say so: it only
    remembers hashes and past runs, so a new one costs time, never data."""
    import pathlib  # only on damage: the no-op fast path opens this store

    from pivot.adapters import fs

    aside = path.rstrip(os.sep) + ".damaged"
    fs.remove_path(pathlib.Path(aside))
    if os.path.lexists(path):
        os.replace(path, aside)
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    print(
        f"pivot: warning: the state store {path} was damaged ({why}); moved it to "
        + f"{os.path.basename(aside)} and started a new one (it only caches hashes and past runs: "
        + "nothing is lost but time)",
        file=sys.stderr,
    )


def _release(key: tuple[int, str], shared: _SharedEnv) -> None:
    with _registry_lock:
        shared.refs -= 1
        if shared.refs > 0:
            return
        _registry.pop(key, None)
        with shared.lock:
            shared.drop_snapshot()
            shared.env.close()


class LmdbStateStore:
    """State store in an LMDB environment at `<project>/.pivot/state.lmdb`."""

    def __init__(
        self, path: "str | os.PathLike[str]", *, map_size: int = _DEFAULT_MAP_SIZE
    ) -> None:
        # A string, not a pathlib.Path: the no-op fast path opens this store and never
        # imports pathlib (3 ms with urllib.parse and ipaddress).
        self._path = os.fspath(path)
        self._key, self._shared = _acquire(self._path, map_size)
        self._closed = False

    def lookup_hash(self, path: str, stamp: "state_store.FileStamp") -> str | None:
        """Digest recorded for `path` when it had exactly `stamp`, else None."""
        value = self._read(lambda txn: self._get(txn, _HASH_PREFIX, path))
        if value is None or value[: _STAMP.size] != _STAMP.pack(*stamp):
            return None
        return value[_STAMP.size :].decode()

    def record_hashes(self, entries: Iterable[tuple[str, "state_store.FileStamp", str]]) -> None:
        """Remember (path, stamp) → digest for each entry, in one transaction."""
        items = [(path, _STAMP.pack(*stamp) + digest.encode()) for path, stamp, digest in entries]
        self._write(lambda txn: self._put_all(txn, _HASH_PREFIX, items))

    def get(self, namespace: str, key: str) -> bytes | None:
        """Value stored under (namespace, key), else None."""
        prefix = _prefix(namespace)
        return self._read(lambda txn: self._get(txn, prefix, key))

    def put_many(self, namespace: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Store each (key, value) under `namespace`, in one transaction."""
        prefix = _prefix(namespace)
        materialized = [(key, bytes(value)) for key, value in items]
        self._write(lambda txn: self._put_all(txn, prefix, materialized))

    def keys(self, namespace: str) -> list[str]:
        """Every key stored under `namespace`."""
        prefix = _prefix(namespace)
        return self._read(lambda txn: _scan_keys(txn, prefix))

    def close(self) -> None:
        """Release the environment once no other store in this process uses it."""
        if self._closed:
            return
        self._closed = True
        _release(self._key, self._shared)

    def _read(self, fn: Callable[["lmdb.Transaction[bytes]"], T]) -> T:
        shared = self._live()
        with shared.lock:
            try:
                return fn(shared.snapshot())
            except _DAMAGE as exc:
                self._rebuild(shared, exc)
                return fn(shared.snapshot())

    def _rebuild(self, shared: _SharedEnv, exc: BaseException) -> None:
        """Replace a store found damaged while in use (lock held)."""
        shared.drop_snapshot()
        shared.env.close()
        _set_aside(self._path, exc)
        shared.env = _open(self._path, shared.env_map_size)

    def _write(self, fn: Callable[["lmdb.Transaction[bytes]"], None]) -> None:
        shared = self._live()
        with shared.lock:
            # set_mapsize needs every transaction of this process closed, and a later read
            # must see this write.
            shared.drop_snapshot()
            resized = 0
            rebuilt = False
            while True:
                try:
                    with shared.env.begin(write=True) as txn:
                        fn(txn)
                    return
                except _DAMAGE as exc:
                    if rebuilt:
                        raise
                    rebuilt = True
                    self._rebuild(shared, exc)
                except lmdb.MapFullError:
                    size = shared.env.info()["map_size"]
                    if size >= _MAX_MAP_SIZE:
                        raise
                    shared.env.set_mapsize(size * 2)
                except lmdb.MapResizedError:
                    resized += 1
                    if resized > 3:
                        raise
                    shared.env.set_mapsize(0)

    def _get(self, txn: "lmdb.Transaction[bytes]", prefix: bytes, key: str) -> bytes | None:
        raw = prefix + key.encode(errors="surrogateescape")
        if len(raw) <= self._shared.max_key:
            return txn.get(raw)
        value = txn.get(_long_key(prefix, raw))
        if value is None:
            return None
        (length,) = _KEY_LEN.unpack_from(value)
        start = _KEY_LEN.size
        if value[start : start + length] != raw:
            return None
        return value[start + length :]

    def _put_all(
        self, txn: "lmdb.Transaction[bytes]", prefix: bytes, items: list[tuple[str, bytes]]
    ) -> None:
        max_key = self._shared.max_key
        for key, value in items:
            raw = prefix + key.encode(errors="surrogateescape")
            if len(raw) <= max_key:
                txn.put(raw, value)
            else:
                txn.put(_long_key(prefix, raw), _KEY_LEN.pack(len(raw)) + raw + value)

    def _live(self) -> _SharedEnv:
        if self._closed:
            raise ValueError(f"state store {self._path} is closed")
        return self._shared


def _prefix(namespace: str) -> bytes:
    if not namespace or "\0" in namespace:
        raise ValueError(f"invalid state namespace {namespace!r}: use a non-empty name")
    return namespace.encode() + b"\0"


def _long_key(prefix: bytes, raw: bytes) -> bytes:
    return prefix + _LONG_KEY + xxhash.xxh3_128_digest(raw)


def _scan_keys(txn: "lmdb.Transaction[bytes]", prefix: bytes) -> list[str]:
    found: list[str] = []
    with txn.cursor() as cursor:
        if not cursor.set_range(prefix):
            return found
        for raw, value in cursor:
            if not raw.startswith(prefix):
                break
            rest = raw[len(prefix) :]
            if rest[:1] == _LONG_KEY:
                (length,) = _KEY_LEN.unpack_from(value)
                rest = value[_KEY_LEN.size : _KEY_LEN.size + length][len(prefix) :]
            # Paths that are not UTF-8 (os.fsdecode's surrogates) round-trip unchanged.
            found.append(rest.decode(errors="surrogateescape"))
    # Hashed stand-ins for long keys sort apart from the rest; callers get one order.
    found.sort()
    return found
