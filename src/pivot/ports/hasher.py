import pathlib
import re
from collections.abc import Iterable
from typing import Protocol

from pivot.ports import progress as progress_port

DIR_SUFFIX = ".dir"
"""Directory digests end with this, so a digest says whether it names a tree."""

DIGEST = re.compile(r"[0-9a-f]{3,128}(?:\.dir)?")
"""What a digest looks like (checked where digests come from files: lock records, .pvt)."""


class Hasher(Protocol):
    """Content digests; must be picklable (workers hash outputs)."""

    def file_digest(
        self, path: pathlib.Path | str, progress: progress_port.Progress = progress_port.NULL
    ) -> str:
        """Digest of the file's bytes (hex); reports the bytes read as `progress.advance`."""
        ...

    def bytes_digest(self, data: bytes) -> str:
        """Digest of in-memory bytes; equal to `file_digest` of a file holding them."""
        ...

    def stream_digest(self, chunks: Iterable[bytes]) -> str:
        """Digest of bytes arriving in pieces (consumed once); equal to `bytes_digest` of their
        concatenation."""
        ...

    def tree_digest(self, entries: Iterable[tuple[str, str]]) -> str:
        """Digest of a directory from its sorted (relative POSIX path, file digest) entries."""
        ...
