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
        self._pending: list[concurrent.futures.Future[Any]] = []

    @property
    def max_workers(self) -> int:
        return self._max_workers

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
