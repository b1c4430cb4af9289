import contextlib
import errno
import os
import sys
from collections.abc import Callable

_UNNAMED = (
    sys.platform.startswith("linux")
    and hasattr(os, "O_TMPFILE")
    and os.path.isdir("/proc/self/fd")  # how linkat names the unnamed file
)
_NO_UNNAMED = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS})


def create(path: str, fill: Callable[[int], object], mode: int, *, replace: bool = False) -> bool:
    """Create the file `path` holding what `fill(fd)` writes, visible only once complete.

    On Linux the bytes go into an unnamed file (`O_TMPFILE`) that is linked in at the end: a
    killed process leaves nothing behind, not even a temp file, and it costs one directory
    entry instead of three. Elsewhere (or on filesystems without it) a hidden temp file beside
    `path` is renamed in. The parent directory is created when missing. Returns False when
    `path` already exists and `replace` is false: it is left alone (content-addressed objects
    of the same name hold the same bytes). An exception from `fill` leaves nothing.
    """
    parent = os.path.dirname(path)
    fd = _open_unnamed(parent, mode) if _UNNAMED else None
    if fd is None:
        return _create_named(path, fill, mode, replace)
    try:
        fill(fd)
        try:
            _name(fd, path)
        except FileExistsError:
            if not replace:
                return False
            aside = _aside(path)
            _name(fd, aside)
            os.replace(aside, path)
    finally:
        os.close(fd)
    return True


_AT_FDCWD = -100
_AT_EMPTY_PATH = 0x1000
_FLINK: list[Callable[..., int] | None] = []
"""libc's `linkat`, loaded on first use; None once the kernel refused AT_EMPTY_PATH."""


def _name(fd: int, path: str) -> None:
    """Link the unnamed file `fd` in as `path` (FileExistsError when taken).

    `linkat(fd, "", AT_EMPTY_PATH)` names it directly; Linux allows that to the process that
    opened the file since 6.10 (before, only with CAP_DAC_READ_SEARCH: ENOENT). Elsewhere the
    file is named through /proc/self/fd, whose path walk cost ~2.5 µs more per object."""
    if not _FLINK:
        import ctypes

        _FLINK.append(getattr(ctypes.CDLL(None, use_errno=True), "linkat", None))
    flink = _FLINK[0]
    if flink is not None:
        if flink(fd, b"", _AT_FDCWD, os.fsencode(path), _AT_EMPTY_PATH) == 0:
            return
        import ctypes

        err = ctypes.get_errno()
        if err != errno.ENOENT:
            raise OSError(err, os.strerror(err), path)
        _FLINK[0] = None
    # linkat(AT_SYMLINK_FOLLOW) through /proc; `src_dir_fd` makes Python call linkat (the dir
    # fd itself is ignored for an absolute path).
    os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=fd)


def _open_unnamed(parent: str, mode: int) -> int | None:
    flags = os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC
    try:
        return os.open(parent, flags, mode)
    except FileNotFoundError:
        os.makedirs(parent, exist_ok=True)
        return _open_unnamed(parent, mode)
    except OSError as exc:
        if exc.errno in _NO_UNNAMED:
            return None
        raise


def _create_named(path: str, fill: Callable[[int], object], mode: int, replace: bool) -> bool:
    tmp = _aside(path)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        try:
            fill(fd)
        finally:
            os.close(fd)
        if replace:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # fails when `path` exists: never replace it
        except FileExistsError:
            return False
        except OSError:
            os.replace(tmp, path)  # a filesystem without hard links
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _aside(path: str) -> str:
    """A hidden name beside `path` (leading dot: never taken for an object)."""
    parent, _, name = path.rpartition("/")
    return f"{parent}/.{name}.pivot-tmp-{os.urandom(6).hex()}"
