import os
import sys
import threading

_QUIET = "ignore:resource_tracker:UserWarning"
"""A warnings filter for the resource-tracker processes (they inherit it through the env)."""

_LOWEST_PRIORITY = 19


def start() -> None:
    """Start loky's and multiprocessing's resource trackers out of the pool's way.

    The pool needs them running before its first worker. They are bookkeeping processes that
    act only when Pivot exits or a worker dies (removing semaphores left behind), yet each is a
    Python process that imports loky at start-up. Started by the pool as it is, they competed
    with the first worker's start-up for the CPU, and kept the caller's stdout and stderr open
    after Pivot had exited (`pivot run | tee` waited for them). Here they start at the lowest
    CPU priority, with stdout and stderr on /dev/null unless those are a terminal (nobody waits
    for a terminal to close, and a live display may be drawing on it).
    """
    _quiet_warnings()
    failed: list[BaseException] = []

    def launch() -> None:
        try:
            _launch_from_this_thread()
        except BaseException as exc:  # re-raised in the caller's thread below
            failed.append(exc)

    # A thread of its own: on Linux a process started from a thread inherits that thread's
    # priority, so lowering it touches neither Pivot's other threads nor the workers.
    helper = threading.Thread(target=launch, name="pivot-trackers")
    helper.start()
    helper.join()
    if failed:
        raise failed[0]


def _launch_from_this_thread() -> None:
    from multiprocessing import resource_tracker as mp_tracker

    from loky.backend import resource_tracker as loky_tracker

    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOWEST_PRIORITY)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [(fd, os.dup(fd)) for fd in (1, 2) if _open(fd) and not os.isatty(fd)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd, _ in saved:
            os.dup2(null, fd)
        loky_tracker.ensure_running()
        mp_tracker.ensure_running()
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)


def _open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _quiet_warnings() -> None:
    """Keep the trackers' shutdown warnings off the user's terminal.

    When a worker is stopped abruptly (a failed run's pool shut down, a killed worker), the
    tracker process finds a semaphore still registered, tries to remove it after Pivot has
    exited and warns that it was already gone: a line after Pivot's own summary that says
    nothing to the user. Cleaning up is all the tracker does; only its warning is silenced."""
    current = os.environ.get("PYTHONWARNINGS", "")
    if _QUIET not in current.split(","):
        os.environ["PYTHONWARNINGS"] = f"{current},{_QUIET}" if current else _QUIET
