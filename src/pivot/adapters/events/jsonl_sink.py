import json
import sys
from typing import Any, TextIO

from pivot.domain import events


def event_to_json(event: events.Event) -> dict[str, Any] | None:
    """The JSON object of an event; None for events that only humans see."""
    match event:
        case events.RunStarted() | events.StageOutput():
            return None
        case events.StageStarted():
            return {
                "event": "stage_started",
                "stage": event.stage,
                "reasons": [r.to_json() for r in event.reasons],
            }
        case events.StageFinished():
            data: dict[str, Any] = {
                "event": "stage_finished",
                "stage": event.stage,
                "status": str(event.status),
                "reasons": [r.to_json() for r in event.reasons],
                "duration": round(event.duration, 6),
            }
            if event.message:
                data["message"] = event.message
            if event.log:
                data["log"] = event.log
            return data
        case events.RunSummary():
            return {
                "event": "summary",
                "ok": event.ok,
                "counts": {str(k): v for k, v in sorted(event.counts.items())},
                "duration": round(event.duration, 6),
            }


class JsonlSink:
    """One JSON object per line per event, for scripts; stage output goes to stderr."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._prefix = False

    def emit(self, event: events.Event) -> None:
        match event:
            case events.RunStarted():
                self._prefix = event.parallel
            case events.StageOutput():
                sys.stderr.write(
                    f"{event.stage} │ {event.line}\n" if self._prefix else event.line + "\n"
                )
                sys.stderr.flush()
        data = event_to_json(event)
        if data is None:
            return
        self._stream.write(json.dumps(data, sort_keys=True) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """Nothing to take down: every event was written when it came."""
