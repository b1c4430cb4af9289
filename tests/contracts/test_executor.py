import pathlib
import sys
import threading
import uuid
from collections.abc import Callable, Iterator

import executor_jobs
import pytest

from pivot.adapters.executor import dask_executor, inline_executor, loky_executor
from pivot.ports import executor

# Where `executor_jobs` is importable from, whether or not tests/ is a package.
JOBS_ROOT = pathlib.Path(executor_jobs.__file__).parents[executor_jobs.__name__.count(".")]


def _inline() -> executor.Executor:
    return inline_executor.InlineExecutor()


def _loky() -> executor.Executor:
    return loky_executor.LokyExecutor(max_workers=2)


def _dask() -> executor.Executor:
    # A real LocalCluster: two worker processes on 127.0.0.1, started on the first job.
    return dask_executor.DaskExecutor(max_workers=2)


@pytest.fixture(scope="module", params=[_inline, _loky, _dask], ids=["inline", "loky", "dask"])
def ex(request: pytest.FixtureRequest) -> Iterator[executor.Executor]:
    factory: Callable[[], executor.Executor] = request.param
    opened = factory()
    yield opened
    opened.shutdown()


def test_max_workers_is_positive(ex: executor.Executor) -> None:
    assert ex.max_workers >= 1


def test_result_is_returned(ex: executor.Executor) -> None:
    future = ex.submit(executor_jobs.add_one, 41, import_root=JOBS_ROOT)

    assert future.result(timeout=60) == 42


def test_exception_from_fn_arrives_on_the_future(ex: executor.Executor) -> None:
    future = ex.submit(executor_jobs.raise_value_error, "bad input 7", import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    assert isinstance(exc, ValueError)
    assert str(exc) == "bad input 7"


def test_exception_that_cannot_be_rebuilt_keeps_its_message(ex: executor.Executor) -> None:
    future = ex.submit(executor_jobs.raise_needs_two_args, "disk full", import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    assert isinstance(exc, Exception)
    assert "stage train failed: disk full" in str(exc)
    assert ex.submit(executor_jobs.add_one, 1, import_root=JOBS_ROOT).result(timeout=60) == 2


def test_sys_exit_in_fn_is_a_failed_future_not_a_parent_exit(ex: executor.Executor) -> None:
    future = ex.submit(executor_jobs.exit_with, 3, import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    # An ordinary Exception, so `future.result()` can never exit the caller.
    assert isinstance(exc, Exception)
    assert "SystemExit" in str(exc)
    assert "3" in str(exc)
    assert ex.submit(executor_jobs.add_one, 2, import_root=JOBS_ROOT).result(timeout=60) == 3


def test_import_root_makes_modules_importable_at_call_time(
    ex: executor.Executor, tmp_path: pathlib.Path
) -> None:
    module_name = f"beside_pipeline_{uuid.uuid4().hex}"
    (tmp_path / f"{module_name}.py").write_text("VALUE = 42\n\ndef answer():\n    return VALUE\n")

    try:
        future = ex.submit(
            executor_jobs.call_module_function, (module_name, "answer"), import_root=tmp_path
        )
        assert future.result(timeout=60) == 42
    finally:
        sys.modules.pop(module_name, None)
    assert str(tmp_path) not in sys.path


def test_unpicklable_argument_fails_the_future_and_later_jobs_still_run(
    ex: executor.Executor,
) -> None:
    future = ex.submit(executor_jobs.use_lock, threading.Lock(), import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    assert exc is not None
    assert "lock" in str(exc).lower()
    assert ex.submit(executor_jobs.add_one, 9, import_root=JOBS_ROOT).result(timeout=60) == 10


def test_output_of_a_job_goes_to_its_file_only(
    ex: executor.Executor, tmp_path: pathlib.Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "job.log"

    done = ex.submit(executor_jobs.chatter, "one", import_root=JOBS_ROOT, output=log)

    assert done.result(timeout=60) == "one"
    assert log.read_text().splitlines() == ["one print", "one stderr", "one shell", "one fd"]
    # The worker's streams are back afterwards: a job without a file does not write to it.
    assert ex.submit(executor_jobs.chatter, "two", import_root=JOBS_ROOT).result(60) == "two"
    assert "two" not in log.read_text()
    assert "one" not in capfd.readouterr().out


def test_expecting_fewer_jobs_at_once_than_are_submitted_still_runs_them_all(
    ex: executor.Executor,
) -> None:
    ex.expect(1)

    futures = [ex.submit(executor_jobs.add_one, i, import_root=JOBS_ROOT) for i in range(3)]

    assert [f.result(timeout=60) for f in futures] == [1, 2, 3]
