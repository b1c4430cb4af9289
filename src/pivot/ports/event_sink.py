from typing import Protocol

from pivot.domain import events


class EventSink(Protocol):
    """Receives progress events from a run (console, JSON Lines, tests)."""

    def emit(self, event: events.Event) -> None:
        """Handle one event; called from the scheduling thread only."""
        ...

    def close(self) -> None:
        """The run is over, finished or interrupted: take down any live display."""
        ...
