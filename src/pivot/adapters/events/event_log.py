import contextlib
import json
import os
import pathlib
import time
from typing import Any, TextIO

from pivot.adapters.events import jsonl_sink
from pivot.domain import events


class EventLogSink:
    """Appends a run's events to `.pivot/logs/events.jsonl` (one run per file) for `pivot ui`.

    The file starts afresh at each run and ends with `run_ended`; a reader that finds no end
    checks the writer's pid to tell a running run from a killed one.
    """

    def __init__(self, path: pathlib.Path) -> None:
        self._path = path
        self._stream: TextIO | None = None

    def emit(self, event: events.Event) -> None:
        if isinstance(event, events.RunStarted):
            self._close_stream()
            if not self._path.parent.is_dir():
                self._path.parent.mkdir(parents=True, exist_ok=True)
                # Local like the stage logs beside it: never in git, even in older projects.
                (self._path.parent / ".gitignore").write_text("*\n")
            self._stream = self._path.open("w", encoding="utf-8")
            data = {"event": "run_started", "pid": os.getpid(), "stages": event.stages}
        else:
            data = jsonl_sink.event_to_json(event)
        if data is None or self._stream is None:
            return
        self._write({**data, "time": round(time.time(), 3)})

    def close(self) -> None:
        if self._stream is not None:
            self._write({"event": "run_ended", "time": round(time.time(), 3)})
        self._close_stream()

    def _write(self, data: dict[str, Any]) -> None:
        assert self._stream is not None
        self._stream.write(json.dumps(data, sort_keys=True) + "\n")
        self._stream.flush()

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def read(path: pathlib.Path) -> list[dict[str, Any]]:
    """The events of the current or last run; a line still being written is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found: list[dict[str, Any]] = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            found.append(json.loads(line))
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` still exists (a run killed with -9 leaves no `run_ended`)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
