import concurrent.futures
import pathlib
import threading
from collections.abc import Callable, Mapping
from typing import Any


class GatedExecutor:
    """Claims `max_workers` workers but runs jobs one by one on a thread, in submission order,
    once `gate` jobs are waiting (or a second has passed): how far ahead a scheduler submits."""

    def __init__(self, max_workers: int, gate: int) -> None:
        self._max_workers = max_workers
        self._gate = gate
        self._opened = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(1)
        self.most_waiting = 0
        """The most jobs submitted and not finished at one time."""
        self.expected: list[int] = []
        """What each `expect` call said."""
        self._pending: list[concurrent.futures.Future[Any]] = []

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def expect(self, jobs: int) -> None:
        self.expected.append(jobs)

    def submit(
        self,
        fn: Callable[[Any], Any],
        arg: Any,
        *,
        import_root: pathlib.Path,
        resources: Mapping[str, float] | None = None,
        output: pathlib.Path | None = None,
    ) -> concurrent.futures.Future[Any]:
        future = self._pool.submit(self._run, fn, arg)
        self._pending = [f for f in self._pending if not f.done()] + [future]
        self.most_waiting = max(self.most_waiting, len(self._pending))
        if len(self._pending) >= self._gate:
            self._opened.set()
        return future

    def _run(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        self._opened.wait(timeout=1)
        return fn(arg)

    def shutdown(self) -> None:
        self._pool.shutdown()


class SteppedExecutor:
    """One worker that runs only the first `allowed` jobs, in submission order; later jobs stay
    pending (cancellable) until `shutdown`, which cancels them: what a scheduler withdraws."""

    def __init__(self, allowed: int) -> None:
        self._allowed = allowed
        self._jobs: list[tuple[concurrent.futures.Future[Any], Callable[[Any], Any], Any]] = []
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, daemon=True)
        self._thread.start()
        self.submitted: list[Any] = []

    @property
    def max_workers(self) -> int:
        return 1

    def expect(self, jobs: int) -> None:
        pass

    def submit(
        self,
        fn: Callable[[Any], Any],
        arg: Any,
        *,
        import_root: pathlib.Path,
        resources: Mapping[str, float] | None = None,
        output: pathlib.Path | None = None,
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._wake:
            self._jobs.append((future, fn, arg))
            self.submitted.append(arg)
            self._wake.notify()
        return future

    def _work(self) -> None:
        done = 0
        while done < self._allowed:
            with self._wake:
                self._wake.wait_for(lambda n=done: len(self._jobs) > n or self._closed)
                if self._closed:
                    return
                future, fn, arg = self._jobs[done]
            done += 1
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(arg))
            except Exception as exc:
                future.set_exception(exc)

    def shutdown(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        for future, _, _ in self._jobs:
            future.cancel()
        self._thread.join(timeout=5)
