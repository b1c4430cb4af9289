"""The `Progress` port: counts of files and bytes, totals that may grow, calls from any thread."""

import re
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from tests.fakes.progress import RecordingProgress

from pivot.app import transfer
from pivot.cli import gc_cmd, output
from pivot.ports import progress as progress_port

Counts = tuple[int, int, int, int]
"""(files done, files announced, bytes done, bytes announced) as the adapter shows them."""
Made = tuple[progress_port.Progress, Callable[[], Counts | None]]
"""A progress, and what it shows so far (None: it shows nothing)."""


def _recording() -> Iterator[Made]:
    rec = RecordingProgress()
    yield rec, lambda: (rec.files, rec.files_total, rec.nbytes, rec.bytes_total)


def _forwarding(wrap: Callable[[progress_port.Progress], progress_port.Progress]) -> Iterator[Made]:
    """A progress that passes everything on: what it shows is what reaches the one it wraps."""
    rec = RecordingProgress()
    yield wrap(rec), lambda: (rec.files, rec.files_total, rec.nbytes, rec.bytes_total)


def _late(target: progress_port.Progress) -> progress_port.Progress:
    late = gc_cmd._LateProgress()  # pyright: ignore[reportPrivateUsage]
    late.target = target  # the removal was confirmed
    return late


def _null() -> Iterator[Made]:
    yield progress_port.NULL, lambda: None


def _rich_bar(monkeypatch: pytest.MonkeyPatch) -> Iterator[Made]:
    monkeypatch.setattr(output, "interactive", lambda: True)
    with output.progress_bar("hashing") as bar:
        live = getattr(bar, "live")  # the rich.progress.Progress the bar draws  # noqa: B009

        def shown() -> Counts:
            task = live.tasks[0]
            counts = str(task.fields["counts"])
            files = re.match(r"(\d+)(?:/(\d+))? files", counts)
            assert files, counts
            by_bytes = "B" in counts  # a size column appears once bytes are known
            done, total = (int(task.completed), int(task.total or 0)) if by_bytes else (0, 0)
            return int(files[1]), int(files[2] or 0), done, total

        yield bar, shown


ADAPTERS = ["null", "recording", "rich-bar", "gc-late", "transfer-counting"]


@pytest.fixture(params=ADAPTERS)
def made(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Made]:
    if request.param == "null":
        yield from _null()
    elif request.param == "recording":
        yield from _recording()
    elif request.param == "gc-late":
        yield from _forwarding(_late)
    elif request.param == "transfer-counting":
        yield from _forwarding(transfer._Counting)  # pyright: ignore[reportPrivateUsage]
    else:
        yield from _rich_bar(monkeypatch)


def test_work_announced_then_done_is_shown_done(made: Made) -> None:
    progress, shown = made
    progress.add_total(files=2, nbytes=3000)
    progress.advance(files=1, nbytes=1000)

    assert shown() in (None, (1, 2, 1000, 3000))

    progress.advance(files=1, nbytes=2000)

    assert shown() in (None, (2, 2, 3000, 3000))


def test_totals_may_grow_after_work_is_done(made: Made) -> None:
    progress, shown = made
    progress.advance(files=1, nbytes=5000)  # found and finished before it was announced
    progress.add_total(1, 5000)
    progress.add_total(files=1)
    progress.advance(files=1)

    assert shown() in (None, (2, 2, 5000, 5000))


def test_files_without_bytes_are_counted(made: Made) -> None:
    progress, shown = made
    progress.add_total(files=3)
    progress.advance(files=2)
    progress.advance()  # nothing finished: no change

    assert shown() in (None, (2, 3, 0, 0))


def test_calls_from_many_threads_are_all_counted(made: Made) -> None:
    progress, shown = made
    threads, calls = 8, 2000
    start = threading.Barrier(threads)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads interleave between bytecodes: a lost update shows

    def work() -> None:
        start.wait()
        for _ in range(calls):
            progress.add_total(files=1, nbytes=3)
            progress.advance(files=1, nbytes=3)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sys.setswitchinterval(interval)

    n = threads * calls
    assert shown() in (None, (n, n, 3 * n, 3 * n))
