import dataclasses
import os
import sys
import textwrap
import time
from typing import Any

import rich.console
import rich.text

from pivot.domain import events

Status = events.StageStatus

_STYLE = {
    Status.RAN: ("✔", "green"),
    Status.SKIPPED: ("·", "dim"),
    Status.RESTORED: ("↺", "cyan"),
    Status.FAILED: ("✘", "red"),
    Status.BLOCKED: ("⊘", "yellow"),
    Status.WOULD_RUN: ("»", "cyan"),
}
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclasses.dataclass(frozen=True, slots=True)
class _Failure:
    stage: str
    error: str
    log: str


class ConsoleSink:
    """Human-readable run output: one line per stage, stage output (prefixed when stages run in
    parallel), failures on stderr and again in a closing summary; on a terminal a live line per
    running stage with its elapsed time and `[n/N]`.
    """

    def __init__(self, *, explain: bool = False, live: bool = False, quiet: bool = False) -> None:
        self._explain = explain
        self._quiet = quiet
        """Only failures (on stderr) are printed."""
        self._out = _Stdout(highlight=False, soft_wrap=True)
        self._err = rich.console.Console(stderr=True, highlight=False, soft_wrap=True)
        self._live_wanted = live
        self._live: Any = None
        self._running = _Running()
        self._prefix = False
        self._failures: list[_Failure] = []

    def emit(self, event: events.Event) -> None:
        match event:
            case events.RunStarted():
                self._prefix = event.parallel
                self._running.total = event.stages
            case events.StageStarted():
                self._started(event)
            case events.StageOutput():
                self._print(f"{event.stage} │ {event.line}" if self._prefix else event.line)
            case events.StageFinished():
                self._running.finish(event.stage)
                self._finished(event)
            case events.RunSummary():
                self._stop_live()
                self._summary(event)

    def close(self) -> None:
        """Take the live display down (an interrupted run never reaches its summary)."""
        self._stop_live()

    def _started(self, event: events.StageStarted) -> None:
        counter = self._running.start(event.stage)
        why = f" ({event.reasons[0].describe()})" if event.reasons else ""
        self._print(f"[blue]▶[/] {counter} {event.stage}: running{_escape(why)}", markup=True)
        if self._explain:
            for reason in event.reasons:
                self._print(f"    - {reason.describe()}")
        self._start_live()

    def _finished(self, event: events.StageFinished) -> None:
        mark, style = _STYLE[event.status]
        head = f"[{style}]{mark}[/] {_escape(event.stage)}: "
        match event.status:
            case Status.RAN:
                line = f"{head}ran in {event.duration:.2f}s"
            case Status.SKIPPED:
                line = head + "skipped " + _escape(f"({event.message or 'up to date'})")
            case Status.RESTORED:
                line = head + "restored" + (_escape(f" ({event.message})") if event.message else "")
            case Status.WOULD_RUN:
                why = "; ".join(r.describe() for r in event.reasons)
                line = head + "would run " + _escape(f"({why})")
            case Status.BLOCKED:
                line = head + "blocked " + _escape(f"({event.message})")
            case Status.FAILED:
                self._failures.append(_Failure(event.stage, _short(event.message), event.log))
                self._print_err(head + "failed", markup=True)
                if event.message:
                    self._print_err(textwrap.indent(event.message, "    "))
                return
        self._print(line, markup=True)
        if self._explain and event.status is Status.WOULD_RUN:
            for reason in event.reasons:
                self._print(f"    - {reason.describe()}")

    def _summary(self, event: events.RunSummary) -> None:
        parts = [f"{n} {status}" for status, n in sorted(event.counts.items())]
        self._print(f"{', '.join(parts) or 'nothing to do'} in {event.duration:.2f}s")
        for failure in self._failures:
            log = f" — log: {failure.log}" if failure.log else ""
            text = f"{failure.stage} ({failure.error}){log}"
            self._print_err(f"[red]failed:[/] {_escape(text)}", markup=True)

    def _print(self, text: str, *, markup: bool = False) -> None:
        if self._quiet:
            return
        console = self._live.console if self._live is not None else self._out
        console.print(text, markup=markup)

    def _print_err(self, text: str, *, markup: bool = False) -> None:
        self._err.print(text, markup=markup)

    def _start_live(self) -> None:
        if not self._live_wanted or self._live is not None:
            return
        import rich.live

        # Live on stderr: stdout stays a plain stream of lines even on a terminal.
        self._live = rich.live.Live(
            self._running,
            console=self._err,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


class _Stdout(rich.console.Console):
    """stdout; when its reader leaves (`pivot run | head -1`) the run goes on, printing nothing."""

    def on_broken_pipe(self) -> None:
        # rich's default exits the process: a run must finish its stages and write their locks.
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class _Running:
    """The live region: one line per running stage, `[n/N] ⠋ train  12.3s`."""

    def __init__(self) -> None:
        self.total = 0
        self._started = 0
        self._since: dict[str, tuple[int, float]] = {}

    def start(self, stage: str) -> str:
        self._started += 1
        self._since[stage] = (self._started, time.monotonic())
        return f"[{self._started}/{self.total}]"

    def finish(self, stage: str) -> None:
        self._since.pop(stage, None)

    def __rich__(self) -> rich.text.Text:
        now = time.monotonic()
        spin = _SPINNER[int(now * 8) % len(_SPINNER)]
        lines = [
            f"[{n}/{self.total}] {spin} {stage}  {now - t:.1f}s"
            for stage, (n, t) in sorted(self._since.items(), key=lambda kv: kv[1][0])
        ]
        return rich.text.Text("\n".join(lines), style="bold")


def _escape(text: str) -> str:
    import rich.markup

    return rich.markup.escape(text)


def _short(message: str) -> str:
    """The line that names the error: a traceback's last line, else the message's first."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "no message"
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]
