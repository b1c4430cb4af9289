import concurrent.futures
import os
import pathlib
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import process
from typing import Any, TypeVar

import cloudpickle

from pivot.adapters.executor import transfer

A = TypeVar("A")
R = TypeVar("R")

# Idle workers stay warm this long; a long stage must not cost the others their warm imports.
_IDLE_TIMEOUT_SECONDS = 300


class _RemoteTraceback(Exception):
    """The worker-side traceback, attached as `__cause__` of a job's exception."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _failure(exc: BaseException) -> bytes:
    """Encode a job failure so that the parent can always decode it."""
    sendable = transfer.as_exception(exc)
    remote_tb = "".join(traceback.format_exception(exc))
    try:
        blob = cloudpickle.dumps((False, sendable, remote_tb))
        # Exceptions whose __init__ takes other arguments than their message pickle fine but
        # fail to rebuild; catch that here rather than in the parent's result thread.
        cloudpickle.loads(blob)
    except Exception:
        blob = cloudpickle.dumps((False, RuntimeError(transfer.describe(exc)), remote_tb))
    return blob


class _WorkerState:
    """Per worker process: the pipeline root whose modules it imported last."""

    root: str | None = None


def _activate(import_root: str) -> None:
    """Make `import_root` the first place imports look, forgetting the previous root's modules.

    Two pipelines may each have a `stages.py`; a warm worker that ran one must not hand the
    other pipeline's jobs the wrong `stages` module.
    """
    previous = _WorkerState.root
    if previous is not None and previous != import_root:
        _forget_modules_under(previous)
    if sys.path[:1] != [import_root]:
        if import_root in sys.path:
            sys.path.remove(import_root)
        sys.path.insert(0, import_root)
    _WorkerState.root = import_root


def _forget_modules_under(root: str) -> None:
    prefix = root.rstrip(os.sep) + os.sep
    # Installed packages may live under the project (a .venv inside it): never drop those.
    installed = tuple(
        p.rstrip(os.sep) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
    )
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and file.startswith(prefix) and not file.startswith(installed):
            del sys.modules[name]


def _run(blob: bytes, import_root: str) -> bytes:
    """Worker side: load and call one job; never raise, so the pool can never break."""
    _activate(import_root)
    try:
        fn, arg = cloudpickle.loads(blob)
    except BaseException as exc:
        return _failure(
            transfer.JobTransferError(
                f"cannot load the job in the worker process: {transfer.describe(exc)}"
            )
        )
    try:
        result = fn(arg)
    except BaseException as exc:
        return _failure(exc)
    try:
        return cloudpickle.dumps((True, result, ""))
    except Exception as exc:
        return _failure(
            transfer.JobTransferError(
                f"cannot send the job's result back from the worker: {transfer.describe(exc)}"
            )
        )


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
        try:
            ok, value, remote_tb = cloudpickle.loads(pooled.result())
        except Exception as exc:
            self.set_exception(
                transfer.JobTransferError(
                    f"cannot read the job's reply from the worker: {transfer.describe(exc)}"
                )
            )
            return
        if ok:
            self.set_result(value)
            return
        value.__cause__ = _RemoteTraceback(remote_tb)
        self.set_exception(value)


class LokyExecutor:
    """Runs jobs in a warm loky pool of reusable worker processes."""

    def __init__(self, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._max_workers = max_workers
        self._lock = threading.Lock()
        self._pool: Any = None
        self._warmed: Any = None
        self._closed = False

    @property
    def max_workers(self) -> int:
        return self._max_workers

    def _fresh_pool(self) -> Any:
        # Imported on first use: a no-op `pivot run` never starts (or imports) the pool.
        import loky

        # get_reusable_executor hands back the same pool unless it is broken or shut down.
        self._pool = loky.get_reusable_executor(
            max_workers=self._max_workers, timeout=_IDLE_TIMEOUT_SECONDS
        )
        return self._pool

    def _submit_pooled(self, blob: bytes, import_root: str) -> concurrent.futures.Future[bytes]:
        with self._lock:
            pool = self._pool or self._fresh_pool()
            try:
                return pool.submit(_run, blob, import_root)
            except (process.BrokenProcessPool, RuntimeError):
                # A worker died (or another user shut the shared pool down) since the last job.
                return self._fresh_pool().submit(_run, blob, import_root)

    def submit(
        self, fn: Callable[[A], R], arg: A, *, import_root: pathlib.Path
    ) -> concurrent.futures.Future[R]:
        if self._closed:
            return _failed(RuntimeError("the loky executor was shut down; no new jobs run"))
        try:
            blob = transfer.dumps_job(fn, arg)
            pooled = self._submit_pooled(blob, str(import_root))
        except Exception as exc:
            return _failed(exc)
        return _JobFuture(pooled)

    def warm_up(self) -> None:
        """Start the worker processes now, without waiting for them to be ready."""
        with self._lock:
            if self._closed:
                return
            pool = self._pool or self._fresh_pool()
            if self._warmed is pool:
                return
            try:
                # The first job spawns every worker; the call returns once they are launched.
                pool.submit(os.getpid)
            except (process.BrokenProcessPool, RuntimeError):
                pool = self._fresh_pool()
                pool.submit(os.getpid)
            self._warmed = pool

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool, self._warmed = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, kill_workers=True)


def _failed(exc: BaseException) -> concurrent.futures.Future[Any]:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(exc)
    return future
