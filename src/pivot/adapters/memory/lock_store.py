import contextlib
import copy
import pathlib
from collections.abc import Iterator

from pivot.domain import lock, stage


class MemoryLockStore:
    """Lock records in a dictionary keyed by (state directory, stage name)."""

    def __init__(self) -> None:
        self._records: dict[tuple[pathlib.Path, str], lock.LockRecord] = {}

    def read(self, st: stage.Stage) -> lock.LockRecord | None:
        """A private copy of the stage's last recorded run, or None if it never ran."""
        record = self._records.get((st.state_dir, st.lock_name))
        return None if record is None else copy.deepcopy(record)

    def write(self, st: stage.Stage, record: lock.LockRecord) -> None:
        """Replace the stage's record with a copy (later edits of `record` do not leak in)."""
        self._records[(st.state_dir, st.lock_name)] = copy.deepcopy(record)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Memory has nothing to make durable: writes are visible at once."""
        yield

    def flush(self) -> None:
        """Nothing to flush."""
