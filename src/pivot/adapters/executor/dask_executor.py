import concurrent.futures
import functools
import logging
import os
import pathlib
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import cloudpickle

from pivot.adapters.executor import transfer
from pivot.app import detached_job, stage_job
from pivot.domain import errors

A = TypeVar("A")
R = TypeVar("R")

# Submitted when the run gives no --jobs and the scheduler is someone else's: the cluster queues
# what its workers cannot start yet, so Pivot hands it every ready stage.
_UNBOUNDED = 1024


class DaskExecutor:
    """Runs jobs on a Dask distributed cluster: a scheduler at `scheduler`, or a LocalCluster.

    The client connects on the first job, so a run with nothing to do never touches the cluster.
    Project modules travel by value (cloudpickle), so a worker runs exactly the code the client
    fingerprinted even when its own copy of the project is stale.
    """

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        max_workers: int | None = None,
        connect_timeout: float = 10.0,
        detacher: detached_job.Detacher | None = None,
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self._scheduler = scheduler
        self._requested = max_workers
        self._timeout = connect_timeout
        self._lock = threading.Lock()
        self._client: Any = None
        self._cluster: Any = None
        self._pending: set[Any] = set()
        self._closed = False
        self._detacher = detacher
        # Placing a detached stage's outputs downloads them: never on the client's event loop.
        self._finishing = concurrent.futures.ThreadPoolExecutor(2, "pivot-detached")

    @property
    def max_workers(self) -> int:
        if self._requested is not None:
            return self._requested
        if self._scheduler is None:
            return os.cpu_count() or 1
        return _UNBOUNDED

    def expect(self, jobs: int) -> None:
        # A cluster's size is its own (or, for the local cluster, -j): nothing to adjust.
        pass

    @property
    def where(self) -> str:
        """The scheduler address, or a description of the local cluster."""
        return self._scheduler or "a local Dask cluster"

    def _connect(self) -> Any:
        with self._lock:
            if self._client is not None:
                return self._client
            import dask.config
            import distributed

            # A worker that dies under a stage costs one retry on another worker, not three.
            dask.config.set({"distributed.scheduler.allowed-failures": 1})
            # Pivot reports failures itself; the cluster's own log lines would only repeat them.
            logging.getLogger("distributed").setLevel(logging.CRITICAL)
            os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
            if self._scheduler is None:
                self._cluster = distributed.LocalCluster(
                    n_workers=self._requested or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,  # pyright: ignore[reportArgumentType]
                    host="127.0.0.1",
                )
                self._client = distributed.Client(self._cluster)
                return self._client
            try:
                self._client = distributed.Client(
                    self._scheduler, timeout=self._timeout, set_as_default=False
                )
            except (OSError, TimeoutError) as exc:
                raise errors.PivotError(
                    f"cannot reach the Dask scheduler at {self._scheduler} within "
                    + f"{self._timeout:g} s ({transfer.describe(exc)}); check the address "
                    + "(--scheduler or executor.scheduler in .pivot/config.yaml) and that "
                    + "`dask scheduler` is running"
                ) from None
            return self._client

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
            return _failed(RuntimeError("the Dask executor was shut down; no new jobs run"))
        client = self._connect()
        if resources:
            missing = _unsatisfiable(client.scheduler_info().get("workers", {}), resources)
            if missing:
                return _failed(errors.PivotError(f"{missing} on {self.where}"))
        finish: Callable[[Any], Any] | None = None
        try:
            if self._detacher is not None and isinstance(arg, stage_job.StageJob):
                job: stage_job.StageJob = arg
                finish = functools.partial(self._detacher.finish, job)
                blob = self._dumps(detached_job.run, self._detacher.prepare(job), import_root)
            else:
                blob = self._dumps(fn, arg, import_root)
        except Exception as exc:
            return _failed(exc)
        result: concurrent.futures.Future[Any] = concurrent.futures.Future()
        # With a shared filesystem the worker writes the stage's log where the client reads it;
        # a detached job's worker cannot see the project, so its output comes back with the reply.
        if finish is None:
            remote = client.submit(
                transfer.run_job,
                blob,
                str(import_root),
                None if output is None else str(output),
                pure=False,
                resources=dict(resources or {}),
            )
        else:
            remote = client.submit(
                transfer.run_job_keeping_output,
                blob,
                str(import_root),
                pure=False,
                resources=dict(resources or {}),
            )
        with self._lock:
            self._pending.add(remote)
        remote.add_done_callback(lambda done: self._settle(done, result, finish, output))
        return result

    @staticmethod
    def _dumps(fn: Callable[[Any], Any], arg: Any, import_root: pathlib.Path) -> bytes:
        _send_project_by_value(import_root)
        return transfer.dumps_job(fn, arg)

    def _settle(
        self,
        remote: Any,
        result: concurrent.futures.Future[Any],
        finish: Callable[[Any], Any] | None = None,
        output: pathlib.Path | None = None,
    ) -> None:
        with self._lock:
            self._pending.discard(remote)
        if remote.cancelled():
            result.set_exception(
                RuntimeError(f"the job was cancelled on {self.where} (scheduler lost or shut down)")
            )
            return
        error = remote.exception()
        if error is not None:
            result.set_exception(_infrastructure_error(error, self.where))
            return
        if finish is None:
            transfer.settle(result, remote.result())
            return
        reply, printed = remote.result()
        if output is not None and printed:
            with output.open("ab") as log:
                log.write(printed)
        decoded: concurrent.futures.Future[Any] = concurrent.futures.Future()
        transfer.settle(decoded, reply)
        self._finishing.submit(_chain, decoded, finish, result)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            client, cluster = self._client, self._cluster
            pending = list(self._pending)
            self._client = self._cluster = None
        if client is not None:
            if pending:
                client.cancel(pending, force=True)
            client.close()
        if cluster is not None:
            cluster.close()
        self._finishing.shutdown(wait=True)


def _chain(
    decoded: concurrent.futures.Future[Any],
    finish: Callable[[Any], Any],
    result: concurrent.futures.Future[Any],
) -> None:
    """Complete `result` with `finish(decoded value)`, or with the first failure."""
    try:
        result.set_result(finish(decoded.result()))
    except Exception as exc:
        result.set_exception(exc)


def _unsatisfiable(workers: Mapping[str, Any], wanted: Mapping[str, float]) -> str:
    """'' when some worker offers every resource in `wanted`; else a sentence naming the gap."""
    for info in workers.values():
        offered: Mapping[str, float] = info.get("resources") or {}
        if all(offered.get(name, 0) >= amount for name, amount in wanted.items()):
            return ""
    asked = ", ".join(f"{name}={amount:g}" for name, amount in sorted(wanted.items()))
    offers = sorted(
        {
            f"{name}={amount:g}"
            for info in workers.values()
            for name, amount in (info.get("resources") or {}).items()
        }
    )
    return (
        f"no worker offers resources {asked} (workers offer: "
        + (", ".join(offers) if offers else "none")
        + "; start workers with `dask worker --resources 'GPU=1'`)"
    )


def _infrastructure_error(error: BaseException, where: str) -> Exception:
    """The cluster's own failures (a dead worker, a lost scheduler) in words that say so."""
    name = type(error).__name__
    if name == "KilledWorker":
        return RuntimeError(
            "the Dask worker running this stage died, and so did the one that retried it "
            + f"({where}); look for the worker's log (out of memory, a crash in native code)"
        )
    if name in ("CommClosedError", "CancelledError", "FutureCancelledError"):
        return RuntimeError(f"lost the connection to {where} while the stage ran ({name})")
    return transfer.as_exception(error)


_BY_VALUE: set[str] = set()


def _send_project_by_value(import_root: pathlib.Path) -> None:
    """Pickle the project's own modules by value: workers run the client's code, not theirs."""
    prefix = str(import_root).rstrip(os.sep) + os.sep
    installed = tuple(
        p.rstrip(os.sep) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
    )
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if (
            name in _BY_VALUE
            or not file
            or not file.startswith(prefix)
            or file.startswith(installed)
            or name == "__main__"
            or name.split(".")[0] == "pivot"
        ):
            continue
        cloudpickle.register_pickle_by_value(module)
        _BY_VALUE.add(name)


def _failed(exc: BaseException) -> concurrent.futures.Future[Any]:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.set_exception(exc)
    return future
