import json
import sys
from typing import Any, TextIO

from pivot.domain import events


def event_to_json(event: events.Event) -> dict[str, Any]:
    match event:
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
            return data
        case events.RunSummary():
            return {
                "event": "summary",
                "ok": event.ok,
                "counts": {str(k): v for k, v in sorted(event.counts.items())},
                "duration": round(event.duration, 6),
            }


class JsonlSink:
    """One JSON object per line per event, for scripts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    def emit(self, event: events.Event) -> None:
        self._stream.write(json.dumps(event_to_json(event), sort_keys=True) + "\n")
        self._stream.flush()
