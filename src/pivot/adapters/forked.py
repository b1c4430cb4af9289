import os
import pickle
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")
# More helpers than this add fork and merge costs for little: the disk is shared too.
_HELPERS_MAX = 3


def split_map(
    work: Callable[[Sequence[_T]], _R], items: Sequence[_T], *, min_items: int
) -> list[_R]:
    """`work` over consecutive slices of `items`, results in slice order: the first slices in
    forked helper processes (one per spare CPU), the last one here.

    For system-call-bound work in Python, where threads only hand the GIL to each other. Forks
    only on Linux, from the main thread of a process running no other thread but those marked
    with `allow` (a Pivot worker and its lifeline; a fork beside other threads may copy a lock
    one of them holds), and when every process gets `min_items`; else one call here. A
    helper's result or exception comes back pickled; the first failure is raised, after every
    helper has ended."""
    helpers = len(items) // max(min_items, 1) - 1
    if helpers > 0:  # only then look at threads and CPUs (a stage's one output: no system call)
        helpers = min(_spare_cpus(), helpers)
    if helpers <= 0:
        return [work(items)]
    size = -(-len(items) // (helpers + 1))
    slices = [items[i : i + size] for i in range(0, len(items), size)]
    started: list[tuple[int, int]] = []
    try:
        for part in slices[:-1]:
            started.append(_fork(work, part))
        mine = work(slices[-1])
        results: list[_R] = [_result(pipe) for _, pipe in started]
    finally:
        for pid, pipe in started:
            _end(pid, pipe)
    return [*results, mine]


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


def _fork(work: Callable[[Sequence[_T]], _R], part: Sequence[_T]) -> tuple[int, int]:
    read, write = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns of any fork beside threads; `_spare_cpus` allowed these.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    code = 1
    try:
        os.close(read)
        try:
            outcome: object = ("ok", work(part))
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


def _result(pipe: int) -> Any:
    with open(pipe, "rb", closefd=False) as f:
        data = f.read()
    if not data:
        raise ChildProcessError("a helper process ended without a result")
    kind, value = pickle.loads(data)
    if kind == "error":
        raise value
    return value


def _end(pid: int, pipe: int) -> None:
    # Closing first: a helper still writing gets EPIPE instead of waiting for a reader.
    os.close(pipe)
    os.waitpid(pid, 0)
