import sys
import textwrap
from typing import TextIO

from pivot.domain import events

Status = events.StageStatus

_STYLE = {
    Status.RAN: ("✔", "32"),
    Status.SKIPPED: ("·", "2"),
    Status.RESTORED: ("↺", "36"),
    Status.FAILED: ("✘", "31"),
    Status.BLOCKED: ("⊘", "33"),
    Status.WOULD_RUN: ("»", "36"),
}


class ConsoleSink:
    """Human-readable progress: one line per stage, failures with their traceback."""

    def __init__(self, stream: TextIO | None = None, *, explain: bool = False) -> None:
        self._stream = stream or sys.stdout
        self._explain = explain
        self._colour = self._stream.isatty()

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self._colour else text

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()

    def emit(self, event: events.Event) -> None:
        match event:
            case events.StageStarted():
                why = f" ({event.reasons[0].describe()})" if event.reasons else ""
                self._write(f"{self._paint('▶', '34')} {event.stage}: running{why}")
                if self._explain:
                    for reason in event.reasons:
                        self._write(f"    - {reason.describe()}")
            case events.StageFinished():
                self._finished(event)
            case events.RunSummary():
                parts = [f"{n} {status}" for status, n in sorted(event.counts.items())]
                self._write(f"{', '.join(parts) or 'nothing to do'} in {event.duration:.2f}s")

    def _finished(self, event: events.StageFinished) -> None:
        mark, code = _STYLE[event.status]
        line = f"{self._paint(mark, code)} {event.stage}: {event.status}"
        match event.status:
            case Status.RAN:
                line += f" in {event.duration:.2f}s"
            case Status.SKIPPED:
                line += f" ({event.message})" if event.message else " (up to date)"
            case Status.RESTORED:
                line += f" ({event.message})" if event.message else ""
            case Status.WOULD_RUN:
                why = "; ".join(r.describe() for r in event.reasons)
                line = f"{self._paint(mark, code)} {event.stage}: would run ({why})"
            case Status.BLOCKED:
                line += f" ({event.message})"
            case _:
                pass
        self._write(line)
        if event.status is Status.FAILED and event.message:
            self._write(textwrap.indent(event.message, "    "))
        if self._explain and event.status is Status.WOULD_RUN:
            for reason in event.reasons:
                self._write(f"    - {reason.describe()}")
