import os
from collections.abc import Iterable
from typing import NamedTuple, Protocol


class FileStamp(NamedTuple):
    """What identifies one version of a file without reading it."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> "FileStamp":
        """The stamp of a file from its `os.stat` result (the one place this is derived)."""
        return cls(st.st_ino, st.st_size, st.st_mtime_ns)


class StateStore(Protocol):
    """Memos and caches that speed Pivot up; losing them loses nothing but time."""

    def lookup_hash(self, path: str, stamp: FileStamp) -> str | None:
        """Digest recorded for `path` when it had exactly `stamp`, else None."""
        ...

    def record_hashes(self, entries: Iterable[tuple[str, FileStamp, str]]) -> None:
        """Remember (path, stamp) → digest for each entry, in one transaction."""
        ...

    def get(self, namespace: str, key: str) -> bytes | None:
        """Value stored under (namespace, key), else None."""
        ...

    def put_many(self, namespace: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Store each (key, value) under `namespace`, in one transaction."""
        ...

    def keys(self, namespace: str) -> list[str]:
        """Every key stored under `namespace`."""
        ...

    def close(self) -> None:
        """Release the underlying handle; the store is unusable afterwards."""
        ...
