import dataclasses
import os
import sys
import textwrap
import time
from typing import IO, Any, Protocol

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
        self._out = _lines(sys.stdout, stderr=False)
        self._err = _lines(sys.stderr, stderr=True)
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
        self._print(f"{counter} {event.stage}: running{why}", mark=("▶", "blue"))
        if self._explain:
            for reason in event.reasons:
                self._print(f"    - {reason.describe()}")
        self._start_live()

    def _finished(self, event: events.StageFinished) -> None:
        mark = _STYLE[event.status]
        head = f"{event.stage}: "
        match event.status:
            case Status.RAN:
                line = f"{head}ran in {event.duration:.2f}s"
            case Status.SKIPPED:
                line = f"{head}skipped ({event.message or 'up to date'})"
            case Status.RESTORED:
                # The message already says how ("restored (run cache)").
                line = head + (event.message or "restored")
            case Status.WOULD_RUN:
                why = "; ".join(r.describe() for r in event.reasons)
                line = f"{head}would run ({why})"
            case Status.BLOCKED:
                line = f"{head}blocked ({event.message})"
            case Status.FAILED:
                self._failures.append(_Failure(event.stage, _short(event.message), event.log))
                self._err.line(head + "failed", mark)
                if event.message:
                    self._err.line(textwrap.indent(event.message, "    "))
                return
        self._print(line, mark=mark)
        if self._explain and event.status is Status.WOULD_RUN:
            for reason in event.reasons:
                self._print(f"    - {reason.describe()}")

    def _summary(self, event: events.RunSummary) -> None:
        parts = [f"{n} {status}" for status, n in sorted(event.counts.items())]
        self._print(f"{', '.join(parts) or 'nothing to do'} in {event.duration:.2f}s")
        for failure in self._failures:
            log = f" — log: {failure.log}" if failure.log else ""
            text = f"{failure.stage} ({failure.error}){log}"
            self._err.line(text, ("failed:", "red"))

    def _print(self, text: str, *, mark: tuple[str, str] | None = None) -> None:
        if self._quiet:
            return
        out = _RichLines(self._live.console) if self._live is not None else self._out
        out.line(text, mark)

    def _start_live(self) -> None:
        if not self._live_wanted or self._live is not None:
            return
        import rich.live

        # Live on stderr: stdout stays a plain stream of lines even on a terminal.
        self._live = rich.live.Live(
            self._running,
            console=self._err.console if isinstance(self._err, _RichLines) else None,
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


class _Lines(Protocol):
    def line(self, text: str, mark: tuple[str, str] | None = None) -> None:
        """Print one line; `mark` is a (symbol, colour) shown before it."""
        ...


def _lines(stream: IO[str], *, stderr: bool) -> _Lines:
    """Colour (rich) on a terminal or with FORCE_COLOR; else plain text, without importing rich
    (a no-op run in a pipe or CI prints 176 lines in a fraction of rich's import time)."""
    try:
        terminal = stream.isatty()
    except ValueError:  # closed
        terminal = False
    if terminal or os.environ.get("FORCE_COLOR"):
        return _RichLines.on(stream, stderr=stderr)
    return _PlainLines(stream, stdout=not stderr)


class _PlainLines:
    """Lines as text; when stdout's reader leaves (`pivot run | head -1`) the run goes on."""

    def __init__(self, stream: IO[str], *, stdout: bool) -> None:
        self._stream = stream
        self._stdout = stdout
        self._gone = False

    def line(self, text: str, mark: tuple[str, str] | None = None) -> None:
        if self._gone:
            return
        try:
            self._stream.write(f"{mark[0]} {text}\n" if mark else f"{text}\n")
            self._stream.flush()
        except BrokenPipeError:
            if not self._stdout:
                raise
            # A run must finish its stages and write their locks: print nothing more.
            self._gone = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)


class _RichLines:
    """Lines through a rich Console: NO_COLOR, FORCE_COLOR and TERM=dumb respected."""

    def __init__(self, console: Any) -> None:
        self.console = console

    @classmethod
    def on(cls, stream: IO[str], *, stderr: bool) -> "_RichLines":
        import rich.console

        class _Console(rich.console.Console):
            def on_broken_pipe(self) -> None:
                # rich's default exits the process: a run must finish its stages and write
                # their locks.
                self.quiet = True
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)

        return cls(_Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False))

    def line(self, text: str, mark: tuple[str, str] | None = None) -> None:
        import rich.text

        parts: list[Any] = [(mark[0], mark[1]), " ", text] if mark else [text]
        self.console.print(rich.text.Text.assemble(*parts))


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

    def __rich__(self) -> Any:
        import rich.text

        now = time.monotonic()
        spin = _SPINNER[int(now * 8) % len(_SPINNER)]
        lines = [
            f"[{n}/{self.total}] {spin} {stage}  {now - t:.1f}s"
            for stage, (n, t) in sorted(self._since.items(), key=lambda kv: kv[1][0])
        ]
        return rich.text.Text("\n".join(lines), style="bold")


def _short(message: str) -> str:
    """The line that names the error: a traceback's last line, else the message's first."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "no message"
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]
