from collections.abc import Iterable

from pivot.ports import state_store


class MemoryStateStore:
    """State store in dictionaries, for tests and embedding."""

    def __init__(self) -> None:
        self._hashes: dict[str, tuple[state_store.FileStamp, str]] = {}
        self._values: dict[str, dict[str, bytes]] = {}
        self._closed = False

    def lookup_hash(self, path: str, stamp: state_store.FileStamp) -> str | None:
        """Digest recorded for `path` when it had exactly `stamp`, else None."""
        self._check_open()
        found = self._hashes.get(path)
        if found is None or found[0] != stamp:
            return None
        return found[1]

    def record_hashes(self, entries: Iterable[tuple[str, state_store.FileStamp, str]]) -> None:
        """Remember (path, stamp) → digest for each entry."""
        self._check_open()
        for path, stamp, digest in entries:
            self._hashes[path] = (state_store.FileStamp(*stamp), digest)

    def get(self, namespace: str, key: str) -> bytes | None:
        """Value stored under (namespace, key), else None."""
        self._check_open()
        return self._values.get(_checked(namespace), {}).get(key)

    def put_many(self, namespace: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Store each (key, value) under `namespace`."""
        self._check_open()
        bucket = self._values.setdefault(_checked(namespace), {})
        bucket.update((key, bytes(value)) for key, value in items)

    def keys(self, namespace: str) -> list[str]:
        """Every key stored under `namespace`, sorted."""
        self._check_open()
        return sorted(self._values.get(_checked(namespace), {}))

    def close(self) -> None:
        """Make the store unusable, like a closed real one."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("memory state store is closed")


def _checked(namespace: str) -> str:
    if not namespace or "\0" in namespace:
        raise ValueError(f"invalid state namespace {namespace!r}: use a non-empty name")
    return namespace
