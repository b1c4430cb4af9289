import errno
import os
from collections.abc import Collection, Iterator
from typing import BinaryIO

from pivot.adapters import fs, whole_file
from pivot.domain import errors
from pivot.ports import progress as progress_port

_CHUNK = 8 * 1024 * 1024
"""Objects up to this size are read whole; larger ones stream in chunks of this size."""
_SENDFILE_STEP = 64 << 20
"""A large upload copies (and reports progress) this much per system call."""
_READ_ONLY = 0o444
_LIST_THRESHOLD = 64
"""Above this many keys, listing each fan-out directory once beats a stat per key."""


class DirectoryRemote:
    """A remote in a directory on this machine (local disk or a mount): plain files in the
    cache's own layout, copied by the kernel, each published by a rename so readers never see
    part of one. No object-store client sits between Pivot and the files."""

    def __init__(self, root: str, *, hardlink: bool = True) -> None:
        self._root = root.rstrip("/") or "/"
        self._hardlink = hardlink
        try:
            os.makedirs(self._root, exist_ok=True)
        except OSError as exc:
            raise errors.RemoteError(
                f"cannot open remote {self._root}: {exc.strerror or exc}; check that the "
                + "directory can be created and written"
            ) from None

    @property
    def url(self) -> str:
        return self._root

    def exists(self, keys: Collection[str]) -> set[str]:
        """The subset of `keys` stored on the remote (one listing per directory when many)."""
        wanted = set(keys)
        if len(wanted) <= _LIST_THRESHOLD:
            return {k for k in wanted if os.path.isfile(self._path(k))}
        by_dir: dict[str, list[tuple[str, str]]] = {}
        for key in wanted:
            parent, _, name = key.rpartition("/")
            by_dir.setdefault(parent, []).append((key, name))
        found: set[str] = set()
        for parent, members in by_dir.items():
            try:
                names = set(os.listdir(self._path(parent) if parent else self._root))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                raise self._error(exc, parent) from None
            found.update(key for key, name in members if name in names)
        return found

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (e.g. `files/`); temp files of unfinished uploads are not."""
        base = prefix.strip("/")
        start = self._path(base) if base else self._root
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = os.path.relpath(dirpath, self._root)
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield name if rel == "." else f"{rel}/{name}"

    def put(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Copy `size` bytes from `source` into a hidden temp file beside the object, then
        rename it into place (replacing an older object); read-only once written."""
        try:
            whole_file.create(
                self._path(key),
                lambda fd: _copy(source, fd, size, progress),
                _READ_ONLY,
                replace=True,
            )
        except OSError as exc:
            raise self._error(exc, key) from None
        progress.advance(files=1)

    def get(
        self, key: str, progress: progress_port.Progress = progress_port.NULL
    ) -> Iterator[bytes]:
        """The object's bytes: whole when small, else in chunks; `RemoteMissError` when absent."""
        try:
            fd = os.open(self._path(key), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise self._error(exc, key) from None
        try:
            size = os.fstat(fd).st_size
            if size <= _CHUNK:
                data = _read(fd, size)
                progress.advance(nbytes=len(data))
                yield data
            else:
                while data := os.read(fd, _CHUNK):
                    progress.advance(nbytes=len(data))
                    yield data
        except OSError as exc:
            raise self._error(exc, key) from None
        finally:
            os.close(fd)
        progress.advance(files=1)

    def local_file(self, key: str) -> str | None:
        """The object's own file, lent to a cache on the same filesystem to hard-link (both
        sides keep it read-only); None when the remote is configured not to lend."""
        return self._path(key) if self._hardlink else None

    def delete(self, keys: Collection[str]) -> None:
        """Remove the objects (absent keys are no error)."""
        for key in keys:
            try:
                os.unlink(self._path(key))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._error(exc, key) from None

    def _path(self, key: str) -> str:
        # Keys come from Pivot (`files/ab/cdef…`, `runs/<sig>`), never from users.
        return f"{self._root}/{key}"

    def _error(self, exc: OSError, key: str) -> errors.PivotError:
        """One clear line for a filesystem failure: what, where, how to fix."""
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            return errors.RemoteMissError(f"{key} is not on remote {self._root}")
        if isinstance(exc, PermissionError):
            return errors.RemoteError(
                f"access denied to remote {self._root} ({key}): check the directory's "
                + "permissions for this user"
            )
        if exc.errno == errno.ENOSPC:
            return errors.RemoteError(f"remote {self._root}: no space left on the device ({key})")
        return errors.RemoteError(f"remote {self._root}: {key}: {exc.strerror or exc}")


def _copy(source: BinaryIO, fd: int, size: int, progress: progress_port.Progress) -> None:
    """In the kernel when `source` is a file (`sendfile`, Linux); else through Python."""
    try:
        fileno = source.fileno()
    except (AttributeError, OSError, ValueError):
        fileno = None
    if fileno is not None and fs.send_file(
        fd, fileno, source.tell(), size, step=_SENDFILE_STEP, progress=progress
    ):
        return
    with os.fdopen(os.dup(fd), "wb", closefd=True) as target:
        while data := source.read(_CHUNK):
            target.write(data)
            progress.advance(nbytes=len(data))


def _read(fd: int, size: int) -> bytes:
    """The whole small object: one read when it is as large as its stat said."""
    data = os.read(fd, size)
    if len(data) < size:
        parts = [data]
        while part := os.read(fd, size):
            parts.append(part)
        data = b"".join(parts)
    return data
