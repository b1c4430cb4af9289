import contextlib
import mmap
import os
import pickle
import selectors
import signal
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pivot.ports import progress as progress_port

_T = TypeVar("_T")
_R = TypeVar("_R")
# More helpers than this add fork and merge costs for little: the disk is shared too.
_HELPERS_MAX = 3
_COUNTS = 4
"""A helper's slot of shared counts: files done, bytes done, files announced, bytes announced."""
_RELAY_EVERY = 0.05
"""Seconds between reads of the helpers' counts, so a progress bar moves while they work."""


def split_map(
    work: Callable[[Sequence[_T], progress_port.Progress], _R],
    items: Sequence[_T],
    *,
    min_items: int,
    most: int | None = None,
    progress: progress_port.Progress = progress_port.NULL,
) -> list[_R]:
    """`work(slice, progress)` over consecutive slices of `items`, results in slice order: the
    first slices in forked helper processes (one per spare CPU), the last one here.

    For system-call-bound work in Python, where threads only hand the GIL to each other, and
    whose every effect is on the file system (a helper's memory is gone when it ends). Forks
    only where `helpers` allows, and when every process gets `min_items`; `most` caps the
    processes, this one included. Else one call here. A helper's result or exception comes
    back pickled; the first failure is raised, after every helper has ended. `progress`: each
    helper reports into memory shared with this process, which passes the counts on every
    50 ms, also while it waits for the helpers."""
    count = helpers(len(items), min_items=min_items, most=most)
    if count <= 0:
        return [work(items, progress)]
    size = -(-len(items) // (count + 1))
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    _load_prctl()
    relaying = progress is not progress_port.NULL
    shared = mmap.mmap(-1, 8 * _COUNTS * (len(slices) - 1)) if relaying else None
    counts = memoryview(shared).cast("q") if shared is not None else None
    started: list[tuple[int, int]] = []
    finished = False
    try:
        for slot, part in enumerate(slices[:-1]):
            relay = _Relay(counts, slot) if counts is not None else progress_port.NULL
            started.append(_fork(work, part, relay, [pipe for _, pipe in started]))
        merged = _Merged(progress, counts) if counts is not None else None
        mine = work(slices[-1], merged or progress)
        results: list[_R] = _results([pipe for _, pipe in started], merged)
        finished = True
    finally:
        for pid, pipe in started:
            _end(pid, pipe, stop=not finished)
        if counts is not None and shared is not None:
            counts.release()
            shared.close()
    return [*results, mine]


def helpers(count: int, *, min_items: int, most: int | None = None) -> int:
    """How many helper processes `split_map` would fork for `count` items (0: none)."""
    wanted = count // max(min_items, 1) - 1
    if most is not None:
        wanted = min(wanted, most - 1)
    if wanted <= 0:  # only then look at threads and CPUs (a stage's one output: no system call)
        return 0
    return min(_spare_cpus(), wanted)


def allow(thread: threading.Thread) -> None:
    """Let `split_map` fork beside `thread`: it takes no lock a child could need (it only sleeps
    and polls, as a worker's lifeline does)."""
    _ALLOWED.add(thread)


_ALLOWED: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def _spare_cpus() -> int:
    if not sys.platform.startswith("linux"):
        return 0
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if threading.current_thread() is not threading.main_thread() or any(
        t not in _ALLOWED for t in others
    ):
        return 0
    try:
        # Threads Python does not know of (native libraries' pools) show only here.
        if len(os.listdir("/proc/self/task")) != 1 + len(others):
            return 0
    except OSError:
        return 0
    return min(len(os.sched_getaffinity(0)) - 1, _HELPERS_MAX)


class _Relay:
    """A helper's progress: running counts in its slot of the shared memory."""

    def __init__(self, counts: memoryview, slot: int) -> None:
        self._counts = counts
        self._base = slot * _COUNTS
        self._lock = threading.Lock()

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._counts[self._base + 2] += files
            self._counts[self._base + 3] += nbytes

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._counts[self._base] += files
            self._counts[self._base + 1] += nbytes


class _Merged:
    """The caller's progress, to which the helpers' counts are added as they grow."""

    def __init__(self, inner: progress_port.Progress, counts: memoryview) -> None:
        self._inner = inner
        self._counts = counts
        self._seen = [0] * len(counts)
        self._due = 0.0
        self._lock = threading.Lock()

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        self._inner.add_total(files, nbytes)
        self.relay()

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self._inner.advance(files, nbytes)
        self.relay()

    def relay(self, *, now: bool = False) -> None:
        """Pass on what the helpers counted since the last time (at most every 50 ms)."""
        moment = time.monotonic()
        if (not now and moment < self._due) or not self._lock.acquire(blocking=now):
            return
        try:
            self._due = moment + _RELAY_EVERY
            grown = [0] * _COUNTS
            for i, value in enumerate(self._counts):
                grown[i % _COUNTS] += value - self._seen[i]
                self._seen[i] = value
        finally:
            self._lock.release()
        files, nbytes, files_total, bytes_total = grown
        if files_total or bytes_total:
            self._inner.add_total(files_total, bytes_total)
        if files or nbytes:
            self._inner.advance(files, nbytes)


def _fork(
    work: Callable[[Sequence[_T], progress_port.Progress], _R],
    part: Sequence[_T],
    progress: progress_port.Progress,
    earlier: Sequence[int],
) -> tuple[int, int]:
    """Start a helper on `part`; `earlier`: the read ends of the helpers started before, which
    this one must not hold (a caller closing one would not make its writer see EPIPE)."""
    read, write = os.pipe()
    parent = os.getpid()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of any fork beside threads; `_spare_cpus` allowed these.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        os.close(read)
        os.close(write)
        raise
    if pid:
        os.close(write)
        return pid, read
    code = 1
    try:
        os.close(read)
        for fd in earlier:
            os.close(fd)
        _die_with(parent)
        try:
            outcome: object = ("ok", work(part, progress))
            code = 0
        except BaseException as exc:  # sent back and raised there, whatever it is
            outcome = ("error", exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:  # an exception that does not pickle: say what it was
            data = pickle.dumps(("error", RuntimeError(f"helper process failed: {exc!r}")))
        with open(write, "wb") as f:
            f.write(data)
    finally:
        # Never back into the caller's code: no atexit, no finalisers, no flushed buffers.
        os._exit(code)


_PR_SET_PDEATHSIG = 1
_PRCTL: list[Callable[..., int] | None] = []
"""libc's `prctl`, loaded before the first fork (None where there is none)."""


def _load_prctl() -> None:
    if not _PRCTL:
        import ctypes

        _PRCTL.append(getattr(ctypes.CDLL(None, use_errno=True), "prctl", None))


def _die_with(parent: int) -> None:
    """End this helper when the process that forked it ends, even by SIGKILL: it would go on
    writing, and hold that process's inherited locks, after a killed command."""
    prctl = _PRCTL[0] if _PRCTL else None
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def _results(pipes: Sequence[int], merged: _Merged | None) -> list[Any]:
    """Every helper's result, in order; read as they come, relaying progress meanwhile."""
    received: dict[int, list[bytes]] = {pipe: [] for pipe in pipes}
    wait = _RELAY_EVERY if merged is not None else None
    with selectors.DefaultSelector() as waiting:
        for pipe in pipes:
            waiting.register(pipe, selectors.EVENT_READ)
        while waiting.get_map():
            for key, _ in waiting.select(wait):
                chunk = os.read(key.fd, 1 << 20)
                if chunk:
                    received[key.fd].append(chunk)
                else:
                    waiting.unregister(key.fd)
            if merged is not None:
                merged.relay(now=True)
    outcomes = [_outcome(b"".join(received[pipe])) for pipe in pipes]
    for kind, value in outcomes:
        if kind == "error":
            raise value
    return [value for _, value in outcomes]


def _outcome(data: bytes) -> tuple[str, Any]:
    if not data:
        return "error", ChildProcessError("a helper process ended without a result")
    try:
        return pickle.loads(data)
    except Exception as exc:  # cut short (a killed helper), or an object that does not rebuild
        return "error", ChildProcessError(f"a helper process's result is unreadable: {exc!r}")


def _end(pid: int, pipe: int, *, stop: bool) -> None:
    """Reap a helper. `stop` (the caller failed): its work is of no use, end it first. Closing
    the pipe makes a helper still writing its result see EPIPE instead of waiting."""
    if stop:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.close(pipe)
    os.waitpid(pid, 0)


class ForkSplitter:
    """The `Splitter` port on `split_map`: forked helpers where this process may fork, else
    the whole work here."""

    def split(
        self,
        work: Callable[[Sequence[_T], progress_port.Progress], _R],
        items: Sequence[_T],
        *,
        min_items: int,
        most: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> list[_R]:
        """`split_map`, at most `most` processes."""
        return split_map(work, items, min_items=min_items, most=most, progress=progress)
