import contextlib
from typing import Protocol

from pivot.domain import lock, stage


class LockStore(Protocol):
    """Per-stage lock records, stored in the stage's own pipeline state directory."""

    def read(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's last recorded run, or None if it never ran."""
        ...

    def write(self, st: stage.Stage, record: lock.LockRecord) -> None:
        """Replace the stage's record atomically (inside `batch`: durable at the next flush)."""
        ...

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Group commit: writes inside the block are read back at once, and made durable
        together at each `flush` and when the block ends, even by an exception."""
        ...

    def flush(self) -> None:
        """Make the writes of the current batch durable now (no-op outside a batch)."""
        ...
