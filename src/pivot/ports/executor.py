import concurrent.futures
import pathlib
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class Executor(Protocol):
    """Runs stage jobs, possibly in other processes."""

    @property
    def max_workers(self) -> int:
        """How many jobs may run at once."""
        ...

    def expect(self, jobs: int) -> None:
        """At most `jobs` of the coming jobs run at once: start no more workers than that for
        them (workers already started stay); never limits what is submitted."""
        ...

    def submit(
        self,
        fn: Callable[[A], R],
        arg: A,
        *,
        import_root: pathlib.Path,
        resources: Mapping[str, float] | None = None,
        output: pathlib.Path | None = None,
    ) -> concurrent.futures.Future[R]:
        """Run `fn(arg)`; `import_root` is importable while `arg` is loaded and run.

        `resources` ({"GPU": 1}) is what the worker must offer; executors of one machine ignore
        it, a cluster executor fails the future at once when no worker offers it.

        With `output`, everything the job writes to stdout or stderr (Python prints, fds 1 and
        2, subprocesses) is appended to that file, and nowhere else, while it runs.

        Any failure to transfer or run the job surfaces as the future's exception; it never
        breaks later submissions.
        """
        ...

    def shutdown(self) -> None:
        """Stop accepting jobs and release workers."""
        ...
