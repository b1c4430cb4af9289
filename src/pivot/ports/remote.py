from collections.abc import Collection, Iterator
from typing import BinaryIO, Protocol

from pivot.ports import progress as progress_port


class Remote(Protocol):
    """A cache on another machine: whole objects under keys (`files/ab/cdef…`, `runs/<sig>`).

    Objects are written whole or not at all (readers never see part of one); every call is
    thread-safe, so transfers run concurrently.
    """

    @property
    def url(self) -> str:
        """Where the remote lives, for messages (`s3://bucket/prefix`, `/mnt/share/cache`)."""
        ...

    def exists(self, keys: Collection[str]) -> set[str]:
        """The subset of `keys` stored on the remote (batched: listing or concurrent HEADs)."""
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (e.g. `files/`)."""
        ...

    def put(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Upload `size` bytes read from `source` (streamed, multipart when large); atomic."""
        ...

    def get(
        self, key: str, progress: progress_port.Progress = progress_port.NULL
    ) -> Iterator[bytes]:
        """The object's bytes as a stream of chunks; `RemoteMissError` when absent."""
        ...

    def local_file(self, key: str) -> str | None:
        """The path of the object's own file when the remote is a directory on this machine
        that lends its files to be hard-linked (whether or not the key exists); else None."""
        ...

    def delete(self, keys: Collection[str]) -> None:
        """Remove the objects (absent keys are no error)."""
        ...
