import contextlib
from collections.abc import Callable
from typing import Protocol

from pivot.domain import holder as holder_mod


class ProjectLock(Protocol):
    """One writer per project at a time; readers never take it.

    Writing commands (run, commit, track, checkout, gc, repair, push, pull) hold it for their
    whole duration; the holder is recorded beside the lock so a waiter can name it.
    """

    def hold(
        self,
        holder: holder_mod.Holder,
        *,
        wait: bool = True,
        on_wait: Callable[[holder_mod.Holder | None], None] = lambda _: None,
    ) -> contextlib.AbstractContextManager[holder_mod.Holder | None]:
        """Hold the lock for the `with` block; it yields the previous holder when that one
        ended without releasing (killed: its temp files may be left), else None.

        When another writer holds it: call `on_wait` once with that holder (None if unknown),
        then block until it is free — or, with `wait=False`, raise `ProjectLockedError`.
        """
        ...

    def holder(self) -> holder_mod.Holder | None:
        """The current holder, or None when the lock is free (or the holder is unknown)."""
        ...
