import pathlib
from typing import Protocol


class StageLog(Protocol):
    """Each running stage's output as it grows, and the last run's output kept per stage."""

    def start(self, stage: str) -> pathlib.Path | None:
        """Begin an empty log for a run of `stage`: the file its job appends to (None: none)."""
        ...

    def read_new(self, stage: str, *, final: bool = False) -> list[str]:
        """Lines written since the last call, no newlines; `final` adds a partial last line."""
        ...

    def publish(self, stage: str, trailer: str = "") -> str | None:
        """Append `trailer`, make this the stage's last-run log (atomically); its display path."""
        ...


class NoStageLog:
    """Output is not captured: stages write straight to the terminal, nothing is kept."""

    def start(self, stage: str) -> pathlib.Path | None:
        return None

    def read_new(self, stage: str, *, final: bool = False) -> list[str]:
        return []

    def publish(self, stage: str, trailer: str = "") -> str | None:
        return None


NONE = NoStageLog()
