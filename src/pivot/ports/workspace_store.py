import contextlib
import os
import pathlib
from collections.abc import Iterator
from typing import Protocol

from pivot.ports import content_cache
from pivot.ports import progress as progress_port

StrPath = str | os.PathLike[str]

ScanEntry = tuple[str, str, os.stat_result]
"""(relative POSIX path, path, stat) of one file found under a directory."""


class WorkspaceStore(Protocol):
    """The workspace's files and directories: every read, write and walk the app layer does."""

    def restore(
        self,
        path: pathlib.Path,
        digest: str,
        modes: tuple[content_cache.LinkMode, ...] | None = None,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Replace whatever is at `path` with the cached object `digest` (atomically).

        `modes` defaults to the store's configured link-mode order.
        """
        ...

    def ignore(self, *paths: pathlib.Path) -> None:
        """Keep data paths out of git: `/name` in the `.gitignore` beside each (git work trees);
        each `.gitignore` is written once per call."""
        ...

    def remove(self, path: pathlib.Path) -> None:
        """Delete a file, link or directory tree, read-only entries too (no error if absent)."""
        ...

    def stat(self, path: StrPath, /) -> os.stat_result:
        """Stat of `path`, links followed; FileNotFoundError/NotADirectoryError when absent.

        Per-file hot path: an adapter should make this the bare OS call (no Python frame)."""
        ...

    def exists(self, path: StrPath, /) -> bool:
        """Whether anything is at `path` (a dangling link counts)."""
        ...

    def is_dir(self, path: StrPath, /) -> bool:
        """Whether `path` is a directory (or a link to one)."""
        ...

    def scan(self, root: StrPath) -> list[ScanEntry]:
        """Every file under directory `root`, sorted by relative path; links to directories are
        not followed; a FIFO, socket or device raises `SpecialFileError` naming it."""
        ...

    def walk(self, top: StrPath) -> Iterator[tuple[str, list[str], list[str]]]:
        """Top-down (directory, subdirectory names, file names), as `os.walk`: callers may
        prune the subdirectory list in place; links to directories are not followed."""
        ...

    def read_bytes(self, path: StrPath) -> bytes:
        """The content of a file; FileNotFoundError when absent."""
        ...

    def write_atomic(self, path: pathlib.Path, data: bytes) -> None:
        """Write a file (parents created) so readers see the old or the new content."""
        ...

    def make_dirs(self, path: pathlib.Path) -> None:
        """Create a directory and its parents (no error if it exists)."""
        ...

    def make_private(self, path: pathlib.Path) -> None:
        """Replace a file or tree that may share storage with the cache (a hardlink) by a
        private, writable copy with the same content."""
        ...

    def temporary_directory(self) -> contextlib.AbstractContextManager[pathlib.Path]:
        """A fresh empty directory outside the project, deleted with its content on exit."""
        ...
