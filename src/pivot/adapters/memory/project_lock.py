import contextlib
import threading
from collections.abc import Callable, Iterator

from pivot.domain import errors
from pivot.domain import holder as holder_mod


class MemoryProjectLock:
    """The project lock for in-process tests: a mutex and the recorded holder."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._holder: holder_mod.Holder | None = None

    @contextlib.contextmanager
    def hold(
        self,
        holder: holder_mod.Holder,
        *,
        wait: bool = True,
        on_wait: Callable[[holder_mod.Holder | None], None] = lambda _: None,
    ) -> Iterator[holder_mod.Holder | None]:
        if not self._mutex.acquire(blocking=False):
            current = self._holder
            if not wait:
                raise errors.ProjectLockedError(
                    f"the project is busy: {current or 'another pivot command'} holds the lock"
                )
            on_wait(current)
            self._mutex.acquire()
        self._holder = holder
        try:
            yield None
        finally:
            self._holder = None
            self._mutex.release()

    def holder(self) -> holder_mod.Holder | None:
        return self._holder
