import concurrent.futures
import pathlib
import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

from pivot.adapters.executor import capture, transfer

A = TypeVar("A")
R = TypeVar("R")


class InlineExecutor:
    """Runs each job at once in the calling thread (tests, debugging with breakpoints)."""

    @property
    def max_workers(self) -> int:
        return 1

    def expect(self, jobs: int) -> None:
        pass

    def submit(
        self,
        fn: Callable[[A], R],
        arg: A,
        *,
        import_root: pathlib.Path,
        resources: Mapping[str, float] | None = None,
        output: pathlib.Path | None = None,
    ) -> concurrent.futures.Future[R]:
        future: concurrent.futures.Future[R] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        try:
            # Fail here exactly as a process pool would, so inline runs predict pooled runs.
            transfer.dumps_job(fn, arg)
        except transfer.JobTransferError as exc:
            future.set_exception(exc)
            return future
        root = str(import_root)
        added = root not in sys.path
        if added:
            sys.path.insert(0, root)
        try:
            with capture.output_to(output):
                result = fn(arg)
        except BaseException as exc:
            future.set_exception(transfer.as_exception(exc))
            return future
        finally:
            if added and root in sys.path:
                sys.path.remove(root)
        future.set_result(result)
        return future

    def shutdown(self) -> None:
        """Nothing to release: jobs ran in the caller's thread."""
