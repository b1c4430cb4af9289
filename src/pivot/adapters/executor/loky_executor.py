import concurrent.futures
import os
import pathlib
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pivot.adapters.executor import lifeline, trackers

# multiprocessing (concurrent.futures.process) and cloudpickle (transfer) are imported on the
# first job: a no-op `pivot run` builds this executor but never submits to it.

A = TypeVar("A")
R = TypeVar("R")

# Idle workers stay warm this long; a long stage must not cost the others their warm imports.
_IDLE_TIMEOUT_SECONDS = 300


class _JobFuture(concurrent.futures.Future[Any]):
    """The caller's view of one pooled job: decodes the worker's reply."""

    def __init__(self, pooled: concurrent.futures.Future[bytes]) -> None:
        super().__init__()
        self._pooled = pooled
        pooled.add_done_callback(self._settle)

    def cancel(self) -> bool:
        # Cancelling the pooled job runs _settle, which cancels this future.
        return self._pooled.cancel()

    def running(self) -> bool:
        return self._pooled.running()

    def _settle(self, pooled: concurrent.futures.Future[bytes]) -> None:
        if pooled.cancelled():
            super().cancel()
            # Moves to CANCELLED_AND_NOTIFIED, which is what wakes concurrent.futures.wait().
            self.set_running_or_notify_cancel()
            return
        error = pooled.exception()
        if error is not None:
            # The worker died or the pool broke: nothing came back to decode.
            self.set_exception(error)
            return
        from pivot.adapters.executor import transfer

        transfer.settle(self, pooled.result())


class LokyExecutor:
    """Runs jobs in a warm loky pool of reusable worker processes."""

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._max_workers = max_workers
        self._workers: int | None = None
        """The pool's size: the most jobs expected at once so far (None: none said, max)."""
        self._lock = threading.Lock()
        self._pool: Any = None
        self._closed = False

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def expect(self, jobs: int) -> None:
        wanted = max(1, min(jobs, self._max_workers))
        with self._lock:
            if self._pool is not None and self._workers is None:
                return  # started before any expectation: it already has max_workers
            if self._workers is not None and wanted <= self._workers:
                return  # never shrink: the next run keeps its warm workers
            self._workers = wanted
            if self._pool is not None:
                # Between runs the pool is idle: loky starts the missing workers at once.
                self._fresh_pool()

    def _fresh_pool(self) -> Any:
        # Imported on first use: a no-op `pivot run` never starts (or imports) the pool.
        import loky

        trackers.start()

        # get_reusable_executor hands back the same pool (resized to max_workers) unless it is
        # broken or shut down. Workers start on the first job.
        self._pool = loky.get_reusable_executor(
            max_workers=self._workers or self._max_workers,
            timeout=_IDLE_TIMEOUT_SECONDS,
            initializer=lifeline.watch_parent,
            initargs=(os.getpid(),),
        )
        return self._pool

    def _submit_pooled(
        self, blob: bytes, import_root: str, output: str | None
    ) -> concurrent.futures.Future[bytes]:
        from concurrent.futures import process

        from pivot.adapters.executor import transfer

        with self._lock:
            pool = self._pool or self._fresh_pool()
            try:
                return pool.submit(transfer.run_job, blob, import_root, output)
            except (process.BrokenProcessPool, RuntimeError):
                # A worker died (or another user shut the shared pool down) since the last job.
                return self._fresh_pool().submit(transfer.run_job, blob, import_root, output)

    def submit(
        self,
        fn: Callable[[A], R],
        arg: A,
        *,
        import_root: pathlib.Path,
        resources: Mapping[str, float] | None = None,
        output: pathlib.Path | None = None,
    ) -> concurrent.futures.Future[R]:
        if self._closed:
            return _failed(RuntimeError("the loky executor was shut down; no new jobs run"))
        from pivot.adapters.executor import transfer

        try:
            blob = transfer.dumps_job(fn, arg)
            pooled = self._submit_pooled(
                blob, str(import_root), None if output is None else str(output)
            )
        except Exception as exc:
            return _failed(exc)
        return _JobFuture(pooled)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, kill_workers=True)


def _failed(exc: BaseException) -> concurrent.futures.Future[Any]:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(exc)
    return future
