import importlib
import pathlib
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pivot.adapters.executor import dask_executor
from pivot.domain import errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JOBS = pathlib.Path(__file__).parents[1] / "contracts"


def _jobs() -> Any:
    if str(JOBS) not in sys.path:
        sys.path.insert(0, str(JOBS))
    return importlib.import_module("executor_jobs")


@pytest.fixture(scope="module")
def gpu_cluster() -> Iterator[str]:
    """A real LocalCluster whose two workers each offer one GPU; yields the scheduler address."""
    import distributed

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,  # pyright: ignore[reportArgumentType]
        host="127.0.0.1",
        resources={"GPU": 1},
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_a_stage_needing_a_resource_runs_on_a_worker_that_offers_it(gpu_cluster: str) -> None:
    ex = dask_executor.DaskExecutor(scheduler=gpu_cluster)
    try:
        future = ex.submit(_jobs().add_one, 1, import_root=JOBS, resources={"GPU": 1})
        assert future.result(timeout=120) == 2
    finally:
        ex.shutdown()


def test_a_resource_no_worker_offers_fails_at_once_naming_it(gpu_cluster: str) -> None:
    ex = dask_executor.DaskExecutor(scheduler=gpu_cluster)
    try:
        future = ex.submit(_jobs().add_one, 1, import_root=JOBS, resources={"TPU": 1})
        exc = future.exception(timeout=30)
        assert isinstance(exc, errors.PivotError)
        assert "TPU=1" in str(exc)
        assert "GPU=1" in str(exc)  # what the workers do offer
        assert gpu_cluster in str(exc)
    finally:
        ex.shutdown()


def test_a_worker_killed_under_a_stage_is_retried_once_then_reported() -> None:
    ex = dask_executor.DaskExecutor(max_workers=2)  # the local cluster `--executor dask` starts
    try:
        future = ex.submit(_jobs().kill_own_worker, None, import_root=JOBS)
        exc = future.exception(timeout=180)
        assert exc is not None
        assert "died" in str(exc)
        # The nannies restart the workers: the cluster still runs the next stage.
        assert ex.submit(_jobs().add_one, 5, import_root=JOBS).result(timeout=180) == 6
    finally:
        ex.shutdown()


def test_workers_run_the_code_the_client_loaded_not_a_stale_copy_on_disk(
    gpu_cluster: str, tmp_path: pathlib.Path
) -> None:
    module = tmp_path / "client_code_v1.py"
    module.write_text("def answer(_):\n    return 'loaded by the client'\n")
    sys.path.insert(0, str(tmp_path))
    try:
        loaded = importlib.import_module("client_code_v1")
        # The workers' copy of the project changes after the client fingerprinted it.
        module.write_text("def answer(_):\n    return 'stale copy on the worker'\n")
        ex = dask_executor.DaskExecutor(scheduler=gpu_cluster)
        try:
            result = ex.submit(loaded.answer, None, import_root=tmp_path).result(timeout=120)
        finally:
            ex.shutdown()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("client_code_v1", None)
    assert result == "loaded by the client"


def test_an_unreachable_scheduler_is_named_within_the_timeout() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    ex = dask_executor.DaskExecutor(scheduler=address, connect_timeout=2)
    started = time.monotonic()
    try:
        with pytest.raises(errors.PivotError) as caught:
            ex.submit(_jobs().add_one, 1, import_root=JOBS)
    finally:
        ex.shutdown()
    assert address in str(caught.value)
    assert "dask scheduler" in str(caught.value)
    assert time.monotonic() - started < 60
