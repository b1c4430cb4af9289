import contextlib
import os
import pathlib
import time
from collections.abc import Callable, Iterator

import filelock

from pivot.domain import errors, layout
from pivot.domain import holder as holder_mod

_RECORD_GRACE = 1.0
"""Seconds a waiter gives a holder that has the lock but has not yet written its record."""


class FileProjectLock:
    """The project lock as an OS file lock on `.pivot/lock` (released by the kernel on exit).

    The holder is recorded in `.pivot/lock.holder` (temp file + os.replace) after acquiring
    and removed before releasing, so a waiter can name who it waits for. A holder record found
    on acquiring was left by a killed process: `hold` yields it, so the new holder cleans up.
    """

    def __init__(self, project_root: pathlib.Path) -> None:
        self._root = project_root
        self._path = layout.project_lock(project_root)
        self._holder_path = layout.project_lock_holder(project_root)

    @contextlib.contextmanager
    def hold(
        self,
        holder: holder_mod.Holder,
        *,
        wait: bool = True,
        on_wait: Callable[[holder_mod.Holder | None], None] = lambda _: None,
    ) -> Iterator[holder_mod.Holder | None]:
        # One FileLock per hold: two holds in one process exclude each other like two processes.
        lock = filelock.FileLock(self._path, thread_local=False, preserve_lock_file=True)
        try:
            lock.acquire(blocking=False)
            taken, current = False, None
        except filelock.Timeout:
            taken, current = self._held_by(lock)
        if taken:
            if not wait:
                raise errors.ProjectLockedError(
                    f"the project is busy: {current or 'another pivot command'} holds "
                    + f"{self._path.relative_to(self._root)}; wait for it to finish, "
                    + "or run again without --no-wait to wait"
                ) from None
            on_wait(current)
            lock.acquire()
        try:
            interrupted = self._interrupted()
            self._write_holder(holder)
            yield interrupted
        finally:
            self._holder_path.unlink(missing_ok=True)
            lock.release()

    def holder(self) -> holder_mod.Holder | None:
        return self._read_holder()

    def _held_by(self, lock: filelock.FileLock) -> tuple[bool, holder_mod.Holder | None]:
        """(True, who holds `lock`) — or (False, None) when it was acquired here after all.

        A holder writes its record just after acquiring: a waiter that arrives in between
        gives it a moment (`_RECORD_GRACE`), so it can say whom it waits for."""
        deadline = time.monotonic() + _RECORD_GRACE
        while True:
            current = self._read_holder()
            if current is not None or time.monotonic() >= deadline:
                return True, current
            time.sleep(0.01)
            try:
                lock.acquire(blocking=False)
            except filelock.Timeout:
                continue
            return False, None

    def _interrupted(self) -> holder_mod.Holder | None:
        """The holder whose record outlived it (read with the lock held), or None."""
        torn = list(self._holder_path.parent.glob(".lock.holder.*.pivot-tmp"))
        for tmp in torn:
            tmp.unlink(missing_ok=True)
        if not self._holder_path.exists():
            return holder_mod.UNKNOWN if torn else None
        return self._read_holder() or holder_mod.UNKNOWN

    def _read_holder(self) -> holder_mod.Holder | None:
        try:
            return holder_mod.Holder.from_json(self._holder_path.read_text())
        except (OSError, UnicodeDecodeError):
            return None

    def _write_holder(self, holder: holder_mod.Holder) -> None:
        # The name tempfile.mkstemp would give, without importing tempfile (start-up cost).
        tmp = self._holder_path.parent / f".lock.holder.{os.urandom(6).hex()}.pivot-tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(holder.to_json())
            os.replace(tmp, self._holder_path)
        except OSError as exc:
            pathlib.Path(tmp).unlink(missing_ok=True)
            if exc.filename is not None:
                raise
            raise type(exc)(exc.errno, exc.strerror, str(self._holder_path)) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
