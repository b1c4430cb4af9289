import json
import os
import time

from pivot.domain import history
from pivot.ports import state_store

NAMESPACE = "history"


def new_id(started: float) -> str:
    """Sorts by start time (UTC, to the millisecond), unique enough: `20261202-142730.512-7f`."""
    millis = int(started * 1000) % 1000
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(started))
    return f"{stamp}.{millis:03d}-{os.urandom(1).hex()}"


class HistoryLog:
    """Every recorded run, one state-store entry each (keys sort by start time)."""

    def __init__(self, state: state_store.StateStore) -> None:
        self._state = state

    def record(self, run: history.RunRecord) -> None:
        self._state.put_many(
            NAMESPACE, [(run["id"], json.dumps(run, sort_keys=True, default=str).encode())]
        )

    def ids(self) -> list[str]:
        return self._state.keys(NAMESPACE)

    def get(self, run_id: str) -> history.RunRecord:
        """The run `run_id` names (full id, unique prefix or `latest`)."""
        found = history.find(self.ids(), run_id)
        raw = self._state.get(NAMESPACE, found)
        assert raw is not None
        return json.loads(raw)

    def recent(self, limit: int | None = None) -> list[history.RunRecord]:
        """The last `limit` runs (all when None), oldest first."""
        ids = self.ids()
        chosen = ids if limit is None else ids[-limit:] if limit > 0 else []
        records: list[history.RunRecord] = []
        for run_id in chosen:
            raw = self._state.get(NAMESPACE, run_id)
            if raw is None:
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if record.get("schema_version") == history.SCHEMA_VERSION:
                records.append(record)
        return records
