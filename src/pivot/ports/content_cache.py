import enum
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO, Protocol

from pivot.ports import progress as progress_port


class LinkMode(enum.StrEnum):
    HARDLINK = "hardlink"
    SYMLINK = "symlink"
    COPY = "copy"
    REFLINK = "reflink"


DEFAULT_LINK_MODES = (LinkMode.REFLINK, LinkMode.COPY)
"""Restores never share bytes with the cache unless the user opts in (ADR 0014)."""
SHARING_LINK_MODES = frozenset({LinkMode.HARDLINK, LinkMode.SYMLINK})
"""Modes whose restored files share bytes with the cache: an edit through them (as root)
changes the object, so restores that may use them re-hash every object first (ADR 0021)."""


class ContentCache(Protocol):
    """Content-addressed store of file bytes and directory manifests; must be picklable."""

    def has(self, digest: str) -> bool:
        """True when an object with `digest` is stored."""
        ...

    def present(self, digests: Iterable[str]) -> set[str]:
        """The subset of `digests` stored (for many: one listing per fan-out directory)."""
        ...

    def put_file(
        self,
        path: pathlib.Path,
        digest: str,
        *,
        link: bool = False,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Store the bytes of `path` under `digest`; an existing object is never overwritten.

        `link`: `path` is itself read-only and immutable (another tool's cache object): share
        its bytes (hard link) where the filesystem allows instead of copying.
        `progress` advances by the file's bytes as they are stored (all at once when the object
        already exists); the caller announces the total.
        """
        ...

    def put_files(
        self, files: Mapping[str, str], progress: progress_port.Progress = progress_port.NULL
    ) -> None:
        """Store many files (path → digest), as `put_file` does each; in parallel where the
        adapter can (the members of a directory output)."""
        ...

    def add_files(self, files: Mapping[str, int]) -> dict[str, str]:
        """Hash and store files just written (path → size from the caller's `stat`); returns
        path → digest. Each small file is read once; an existing object is never overwritten."""
        ...

    def put_tree(self, manifest: Mapping[str, str], digest: str) -> None:
        """Store a directory manifest (relative path → file digest) under `digest`."""
        ...

    def read_tree(self, digest: str) -> dict[str, str]:
        """The manifest stored under a directory digest."""
        ...

    def materialize(
        self,
        digest: str,
        dest: pathlib.Path,
        modes: tuple[LinkMode, ...],
        progress: progress_port.Progress = progress_port.NULL,
    ) -> LinkMode:
        """Create `dest` (absent) from the object, trying `modes` in order; returns the one used.

        Advances `progress` by one file per file placed.
        """
        ...

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest."""
        ...

    def remove(self, digest: str) -> None:
        """Delete the object (gc)."""
        ...

    def verify(
        self,
        digest: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        rehash: bool = True,
    ) -> bool:
        """Re-hash the object; False when its bytes no longer match the digest.

        `rehash=False` is the cheap check restores use (objects are verified when they enter
        the cache): present, and re-hashed only when it shows signs of change since it was
        stored (writable, or shared by a hard link). Advances `progress` by the bytes
        re-hashed (files are counted by the caller).
        """
        ...

    def size(self, digest: str) -> int:
        """Bytes the object occupies (a directory digest: its manifest only)."""
        ...

    def open(self, digest: str) -> BinaryIO:
        """The stored bytes of an object, for streaming elsewhere (a directory: its manifest)."""
        ...

    def receive(self, digest: str, chunks: Iterable[bytes]) -> None:
        """Store bytes arriving from elsewhere: written aside, re-hashed, published only if they
        match `digest`; otherwise `CacheCorruptError` and nothing is stored."""
        ...

    def adopt(
        self,
        digest: str,
        path: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        placing: bool = False,
    ) -> bool:
        """Store the read-only file `path` of another store on this filesystem (a directory
        remote's object) by hard-linking it in, re-hashed first: the bytes are not copied.

        False, with nothing stored, when it is not linked (too small to be worth it, writable,
        on another filesystem, links refused): the caller copies it instead. A file whose bytes
        do not match `digest` is never stored: `CacheCorruptError`. `placing`: a placement of
        the object follows (a pull's checkout); the cache may prepare its copy meanwhile."""
        ...

    def quarantine(self, digest: str) -> None:
        """Move a corrupt object out of the store (kept aside for inspection, never served)."""
        ...
