import threading
from collections.abc import Collection, Iterator
from typing import BinaryIO

from pivot.domain import errors
from pivot.ports import progress as progress_port


class MemoryRemote:
    """A remote held in a dict (unit tests, embedding services)."""

    def __init__(self, url: str = "memory://test") -> None:
        self._url = url
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self._url

    def exists(self, keys: Collection[str]) -> set[str]:
        """The subset of `keys` stored."""
        with self._lock:
            return {k for k in keys if k in self.objects}

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`."""
        prefix = prefix.rstrip("/") + "/"
        with self._lock:
            found = sorted(k for k in self.objects if k.startswith(prefix))
        yield from found

    def put(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Store the bytes read from `source` (whole, in one step)."""
        data = source.read()
        with self._lock:
            self.objects[key] = data
        progress.advance(files=1, nbytes=size)

    def get(
        self, key: str, progress: progress_port.Progress = progress_port.NULL
    ) -> Iterator[bytes]:
        """The object's bytes in chunks; `RemoteMissError` when absent."""
        with self._lock:
            data = self.objects.get(key)
        if data is None:
            raise errors.RemoteMissError(f"{key} is not on remote {self._url}")
        for start in range(0, len(data), 1 << 20):
            chunk = data[start : start + (1 << 20)]
            progress.advance(nbytes=len(chunk))
            yield chunk
        progress.advance(files=1)

    def local_file(self, key: str) -> str | None:
        """None: objects held in memory are no files."""
        return None

    def delete(self, keys: Collection[str]) -> None:
        """Remove the objects (absent keys are no error)."""
        with self._lock:
            for key in keys:
                self.objects.pop(key, None)
