import contextlib
import os
import pathlib
import signal
import threading
import time

from pivot.adapters import forked

_POLL_SECONDS = 0.1


def watch_parent(parent_pid: int) -> None:
    """Worker initialiser: when `parent_pid` (the `pivot` process) dies, end this worker and
    the processes it started, so nothing goes on writing outputs after a killed run."""
    thread = threading.Thread(target=_watch, args=(parent_pid,), name="pivot-lifeline", daemon=True)
    # It only sleeps and polls: a worker may fork helpers beside it (`add_files`); they are
    # its descendants, so a killed run ends them too.
    forked.allow(thread)
    thread.start()


def _watch(parent_pid: int) -> None:
    # A dead parent's children are re-parented (to init or a subreaper): getppid changes.
    while os.getppid() == parent_pid:
        time.sleep(_POLL_SECONDS)
    for pid in _descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os._exit(1)


def _descendants(pid: int) -> list[int]:
    """Processes below `pid` (Linux /proc; elsewhere none are found)."""
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found
