from typing import Protocol

from pivot.domain import lock, stage


class LockStore(Protocol):
    """Per-stage lock records, stored in the stage's own pipeline state directory."""

    def read(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's last recorded run, or None if it never ran."""
        ...

    def write(self, st: stage.Stage, record: lock.LockRecord) -> None:
        """Replace the stage's record atomically."""
        ...
