"""The `Progress` port: counts of files and bytes, totals that may grow, calls from any thread."""

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

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
            getattr(bar, "refresh")()  # noqa: B009  # counts reach rich at most every 50 ms
            files, files_total, done, total = live.tasks[0].fields["shown"]
            return files, files_total, done, total

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


def _drawn(monkeypatch: pytest.MonkeyPatch, calls: Callable[[progress_port.Progress], None]) -> Any:
    monkeypatch.setattr(output, "interactive", lambda: True)
    with output.progress_bar("moving") as bar:
        calls(bar)
        getattr(bar, "refresh")()  # noqa: B009
        return getattr(bar, "live").tasks[0]  # noqa: B009


def test_the_bar_follows_bytes_announced_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    def hashing(p: progress_port.Progress) -> None:
        p.add_total(files=2, nbytes=3 << 20)
        p.advance(files=1, nbytes=1 << 20)

    task = _drawn(monkeypatch, hashing)

    assert (task.completed, task.total) == (1 << 20, 3 << 20)
    assert task.fields["counts"] == "1/2 files  1.0 MiB/3.0 MiB"


def test_the_bar_follows_files_when_bytes_are_learnt_on_the_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def pushing(p: progress_port.Progress) -> None:
        p.add_total(files=40_000)
        for _ in range(507):  # each object's size is announced as it starts
            p.add_total(nbytes=2048)
            p.advance(files=1, nbytes=2048)

    def pulling(p: progress_port.Progress) -> None:
        p.add_total(files=40_000)
        p.advance(files=427, nbytes=875_110)  # sizes are never announced

    pushed = _drawn(monkeypatch, pushing)
    pulled = _drawn(monkeypatch, pulling)

    assert (pushed.completed, pushed.total) == (507, 40_000)
    assert pushed.fields["counts"] == "507/40,000 files  1014.0 KiB"
    assert (pulled.completed, pulled.total) == (427, 40_000)
    assert pulled.fields["counts"] == "427/40,000 files  854.6 KiB"
