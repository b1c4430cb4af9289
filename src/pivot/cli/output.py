import contextlib
import errno
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pivot.ports import progress as progress_port

if TYPE_CHECKING:
    import rich.console


class Verbosity:
    """How much a command prints: set once per invocation from -q/--quiet and -v/--verbose."""

    quiet: bool = False
    verbose: bool = False


def console(*, stderr: bool = False) -> "rich.console.Console":
    """A rich Console on stdout (or stderr): NO_COLOR, FORCE_COLOR, TERM=dumb and width for free."""
    import rich.console

    return rich.console.Console(stderr=stderr, highlight=False, soft_wrap=True)


def interactive() -> bool:
    """Whether live displays (bars, running-stage lines) may draw on stderr."""
    if Verbosity.quiet or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stderr.isatty()
    except ValueError:  # closed
        return False


def human_size(nbytes: int) -> str:
    """`1.5 GiB`: binary units, one decimal from KiB on."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{nbytes} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[progress_port.Progress]:
    """A `Progress` drawn as a rich bar on a terminal; the null progress in pipes, CI, -q."""
    if not interactive():
        yield progress_port.NULL
        return
    from pivot.adapters import forked

    bar = _Bar(label)
    before = set(threading.enumerate())
    with bar.live:
        # rich's refresh thread only waits and draws. A forked helper (`forked.split_map`)
        # reports through shared memory and never draws, so it may be forked beside it.
        for thread in set(threading.enumerate()) - before:
            forked.allow(thread)
        yield bar
        bar.refresh()


_UPDATE_EVERY = 0.05


class _Bar:
    """Files and bytes of one operation. The bar follows bytes when their total was known
    before they moved (hashing, one large transfer); else files (a push learns each object's
    size as it starts, a pull not at all), and the bytes done are shown beside the counts."""

    def __init__(self, label: str) -> None:
        # Imported here: rich.progress costs start-up time that commands without a bar skip.
        import rich.progress

        columns: list[Any] = [
            rich.progress.SpinnerColumn(),
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.TaskProgressColumn(),
            rich.progress.TextColumn("{task.fields[counts]}"),
            rich.progress.TextColumn("{task.fields[rate]}"),
            rich.progress.TimeRemainingColumn(),
        ]
        self.live = rich.progress.Progress(
            *columns, console=console(stderr=True), transient=True, refresh_per_second=8
        )
        self._task = self.live.add_task(label, total=None, counts="", rate="", shown=(0, 0, 0, 0))
        self._lock = threading.Lock()
        self._files = [0, 0]
        self._bytes = [0, 0]
        self._due = 0.0
        self._late = False
        """Bytes were announced after some had moved: their total only runs ahead of the work."""

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._files[1] += files
            if nbytes and self._bytes[0]:
                self._late = True
            self._bytes[1] += nbytes
        self._soon()

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._files[0] += files
            self._bytes[0] += nbytes
        self._soon()

    def _soon(self) -> None:
        """Hand the counts to rich at most every 50 ms: an update per file of a 20,000-file
        transfer doubled its time on a terminal. The last counts are drawn on exit."""
        now = time.monotonic()
        if now >= self._due:
            self._due = now + _UPDATE_EVERY
            self.refresh()

    def refresh(self) -> None:
        with self._lock:
            (files, files_total), (done, total), late = self._files, self._bytes, self._late
        counts = f"{files:,}/{files_total:,} files" if files_total else f"{files:,} files"
        by_bytes = total > 0 and not late and total >= done
        if by_bytes:
            counts += f"  {human_size(done)}/{human_size(total)}"
        elif done:
            counts += f"  {human_size(done)}"
        self.live.update(
            self._task,
            completed=done if by_bytes else files,
            total=(total if by_bytes else files_total) or None,
            counts=counts,
            rate=self._rate(by_bytes),
            shown=(files, files_total, done, total),
        )

    def _rate(self, by_bytes: bool) -> str:
        speed = self.live.tasks[0].speed
        if not speed:
            return ""
        return f"{human_size(int(speed))}/s" if by_bytes else f"{speed:.0f} files/s"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 file`, `1,204 files`: thousands separators, the noun agreeing with the number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def print_json(payload: Any) -> None:
    """The one JSON document a `--json` command prints on stdout."""
    import json

    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def say(text: str) -> None:
    """A human line on stdout, unless -q."""
    if not Verbosity.quiet:
        print(text)


def detail(text: str) -> None:
    """A line only -v asks for."""
    if Verbosity.verbose and not Verbosity.quiet:
        print(text)


_TEMP_NAME = re.compile(r"/\.[^/]*\.pivot-(?:tmp|new|old|recv)-[0-9a-f]+$")
_OS_FIXES = {
    errno.EACCES: "check its permissions (and its directory's), or run as its owner",
    errno.EPERM: "check its permissions and attributes (chattr), or run as its owner",
    errno.ENOSPC: "free some space there and re-run (nothing was half-written)",
    errno.EDQUOT: "free some space within your quota and re-run",
    errno.EFBIG: "the file exceeds the size limit of this process or file system (ulimit -f)",
    errno.EROFS: "the file system is mounted read-only; remount it writable or work elsewhere",
    errno.ENOTDIR: "a file stands where a directory is needed; move it away",
    errno.EISDIR: "a directory stands where a file is needed; move it away",
    errno.ELOOP: "a symlink loop; replace the symlink",
}


def os_error(exc: OSError) -> str:
    """An operating-system refusal as one line: what, where, and what to do."""
    name = os.fspath(exc.filename) if exc.filename else ""
    # A Pivot temp file means nothing to a user; its directory does.
    where = f" on {_TEMP_NAME.sub('', name)}" if name else ""
    if exc.filename2:
        where += f" (to {exc.filename2})"
    what = "no space left" if exc.errno == errno.ENOSPC else exc.strerror
    fix = _OS_FIXES.get(exc.errno or 0, "check the path and re-run")
    return f"{what or exc}{where}; {fix}"
