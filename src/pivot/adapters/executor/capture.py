import contextlib
import os
import pathlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def output_to(path: pathlib.Path | None) -> Iterator[None]:
    """Send this process's stdout and stderr to `path` for the block (nothing when None).

    Both the file descriptors (for subprocesses and C code) and `sys.stdout`/`sys.stderr` (for
    Python, line-buffered so a reader sees whole lines) are redirected, and both are put back
    afterwards: a warm worker's next job must find its streams as they were.
    """
    if path is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = os.dup(1), os.dup(2)
    streams = sys.stdout, sys.stderr
    text = open(  # noqa: SIM115 - closed in the finally below
        os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace", closefd=True
    )
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdout = sys.stderr = text
        yield
    finally:
        text.flush()
        sys.stdout, sys.stderr = streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for leftover in (*saved, fd):
            os.close(leftover)
        text.close()
