from collections.abc import Sequence

from pivot.domain import events
from pivot.ports import event_sink


class TeeSink:
    """Hands every event to each of several sinks, in order."""

    def __init__(self, sinks: Sequence[event_sink.EventSink]) -> None:
        self._sinks = tuple(sinks)

    def emit(self, event: events.Event) -> None:
        for sink in self._sinks:
            sink.emit(event)

    def close(self) -> None:
        for sink in self._sinks:
            sink.close()
