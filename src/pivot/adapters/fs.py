import errno
import os
import pathlib
import shutil
import stat
import sys
from collections.abc import Callable, Mapping
from typing import Any

from pivot.ports import progress as progress_port


def temp_sibling(path: pathlib.Path, tag: str = "tmp") -> pathlib.Path:
    """A fresh hidden name next to `path`, on the same filesystem so renames stay atomic."""
    return path.with_name(f".{path.name}.pivot-{tag}-{os.urandom(6).hex()}")


def atomic_write_bytes(path: pathlib.Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old or the new content, never a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    # os.open with 0o666 lets the umask decide the final mode, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_many(files: Mapping[pathlib.Path, bytes]) -> None:
    """Write each file as `atomic_write_bytes` does, made durable together (group commit).

    Every new content is written aside and synced before any file is replaced, so after a crash
    each file holds its old or its new content; one filesystem sync replaces a sync per file.
    """
    temps: list[tuple[pathlib.Path, pathlib.Path]] = []
    fds: list[int] = []
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = temp_sibling(path)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            fds.append(fd)
            temps.append((tmp, path))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        _sync(fds)
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        for fd in fds:
            os.close(fd)


def _sync(fds: list[int]) -> None:
    """Flush the files behind `fds` to disk: one `syncfs` per filesystem on Linux."""
    syncfs = _syncfs()
    if syncfs is None or len(fds) < 2:
        for fd in fds:
            os.fsync(fd)
        return
    devices = {os.fstat(fd).st_dev: fd for fd in fds}
    if not all(syncfs(fd) == 0 for fd in devices.values()):
        for fd in fds:  # the kernel refused: the portable way, one file at a time
            os.fsync(fd)


_SYNCFS: list[Callable[[int], int] | None] = []


def _syncfs() -> Callable[[int], int] | None:
    """libc's `syncfs` (Linux), loaded on first use; None elsewhere."""
    if not _SYNCFS:
        found: Callable[[int], int] | None = None
        if sys.platform.startswith("linux"):
            import ctypes

            found = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
        _SYNCFS.append(found)
    return _SYNCFS[0]


def remove_path(path: pathlib.Path) -> None:
    """Delete a file, symlink or directory tree; no error if absent, read-only entries too."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except PermissionError:
            _make_writable(path.parent)
            _make_writable(path)
            path.unlink(missing_ok=True)
        return
    shutil.rmtree(path, onerror=_writable_retrier())


def _make_writable(path: pathlib.Path) -> None:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return
    extra = stat.S_IRWXU if stat.S_ISDIR(st.st_mode) else stat.S_IRUSR | stat.S_IWUSR
    os.chmod(path, stat.S_IMODE(st.st_mode) | extra)


def _writable_retrier() -> Callable[[Callable[..., Any], str, Any], None]:
    retried: set[str] = set()

    def retry(_func: Callable[..., Any], failed: str, exc_info: Any) -> None:
        # Entries in read-only directories cannot be removed until their parent (and, for
        # directories, the entry itself) is writable again; a second failure is real.
        exc = exc_info[1]
        if isinstance(exc, FileNotFoundError):
            return
        if not isinstance(exc, PermissionError) or failed in retried:
            raise exc
        retried.add(failed)
        target = pathlib.Path(failed)
        _make_writable(target.parent)
        if target.is_dir() and not target.is_symlink():
            _make_writable(target)
            shutil.rmtree(target, onerror=retry)
        else:
            target.unlink(missing_ok=True)

    return retry


_NO_KERNEL_COPY = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ESPIPE)
"""What `sendfile` says when it cannot copy between two descriptors (a pipe, a socket…)."""


def send_file(
    out_fd: int,
    in_fd: int,
    start: int,
    size: int | None,
    *,
    step: int,
    progress: progress_port.Progress = progress_port.NULL,
) -> bool:
    """Copy `size` bytes (None: to the end) of `in_fd` from offset `start` into `out_fd` in the
    kernel (`sendfile`, Linux), `step` bytes per call so a progress moves; False when the kernel
    cannot copy between these two (nothing written: the caller copies through a buffer)."""
    if not sys.platform.startswith("linux"):
        return False
    offset = 0
    try:
        while size is None or offset < size:
            want = step if size is None else min(step, size - offset)
            sent = os.sendfile(out_fd, in_fd, start + offset, want)
            if not sent:
                break
            offset += sent
            progress.advance(nbytes=sent)
    except OSError as exc:
        if offset or exc.errno not in _NO_KERNEL_COPY:
            raise
        return False
    return True
