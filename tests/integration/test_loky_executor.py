import importlib
import json
import os
import pathlib
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator

import pytest

from pivot.adapters.executor import loky_executor

pytestmark = pytest.mark.integration

JOBS_ROOT = pathlib.Path(__file__).resolve().parents[1] / "contracts"


def _import_jobs() -> types.ModuleType:
    # tests/ is not a package: make the shared job module importable here and in the workers.
    if str(JOBS_ROOT) not in sys.path:
        sys.path.append(str(JOBS_ROOT))
    return importlib.import_module("executor_jobs")


executor_jobs = _import_jobs()


@pytest.fixture
def ex() -> Iterator[loky_executor.LokyExecutor]:
    opened = loky_executor.LokyExecutor(max_workers=2)
    yield opened
    opened.shutdown()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _interval(stem: pathlib.Path) -> tuple[float, float]:
    start = float(pathlib.Path(f"{stem}.start").read_text())
    end = float(pathlib.Path(f"{stem}.end").read_text())
    return start, end


def test_jobs_run_in_worker_processes(ex: loky_executor.LokyExecutor) -> None:
    pid = ex.submit(executor_jobs.worker_pid, None, import_root=JOBS_ROOT).result(timeout=60)

    assert pid != os.getpid()


def test_killed_worker_fails_its_job_and_the_next_submit_runs(
    ex: loky_executor.LokyExecutor,
) -> None:
    killed = ex.submit(executor_jobs.kill_own_worker, None, import_root=JOBS_ROOT)

    exc = killed.exception(timeout=60)
    assert exc is not None
    assert "terminated" in str(exc).lower() or "broken" in str(exc).lower()
    assert ex.submit(executor_jobs.add_one, 1, import_root=JOBS_ROOT).result(timeout=60) == 2


def test_function_from_a_module_importable_only_via_import_root_runs(
    ex: loky_executor.LokyExecutor, tmp_path: pathlib.Path
) -> None:
    # Workers start before the module exists on any path the parent gives them at spawn.
    ex.submit(executor_jobs.add_one, 0, import_root=JOBS_ROOT).result(timeout=60)
    module_name = f"only_via_root_{uuid.uuid4().hex}"
    (tmp_path / f"{module_name}.py").write_text("def answer(x):\n    return x * 2\n")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(module_name)
    finally:
        sys.path.remove(str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    try:
        # Pickled by reference: a worker can only load it with the right import root.
        unloadable = ex.submit(module.answer, 21, import_root=elsewhere)
        failure = unloadable.exception(timeout=60)
        assert failure is not None
        assert module_name in str(failure)
        loaded = ex.submit(module.answer, 21, import_root=tmp_path)
        assert loaded.result(timeout=60) == 42
    finally:
        sys.modules.pop(module_name, None)


def test_two_jobs_overlap_with_two_workers(
    ex: loky_executor.LokyExecutor, tmp_path: pathlib.Path
) -> None:
    # Wait until both workers have run a job, so each is idle and ready for one sleeper.
    seen: set[int] = set()
    for attempt in range(30):
        pair = [
            ex.submit(
                executor_jobs.sleep_and_record,
                (str(tmp_path / f"prime-{attempt}-{i}"), 0.2),
                import_root=JOBS_ROOT,
            )
            for i in range(2)
        ]
        seen.update(f.result(timeout=60) for f in pair)
        if len(seen) == 2:
            break
    assert len(seen) == 2

    first, second = (
        ex.submit(
            executor_jobs.sleep_and_record, (str(tmp_path / name), 1.0), import_root=JOBS_ROOT
        )
        for name in ("a", "b")
    )
    assert first.result(timeout=60) != second.result(timeout=60)

    a_start, a_end = _interval(tmp_path / "a")
    b_start, b_end = _interval(tmp_path / "b")
    assert a_start < b_end
    assert b_start < a_end


def test_unpicklable_result_fails_the_future_and_the_pool_survives(
    ex: loky_executor.LokyExecutor,
) -> None:
    future = ex.submit(executor_jobs.return_lock, None, import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    assert exc is not None
    assert "result" in str(exc)
    assert ex.submit(executor_jobs.add_one, 7, import_root=JOBS_ROOT).result(timeout=60) == 8


def test_job_exception_carries_the_worker_traceback(ex: loky_executor.LokyExecutor) -> None:
    future = ex.submit(executor_jobs.raise_value_error, "no rows", import_root=JOBS_ROOT)

    exc = future.exception(timeout=60)
    assert isinstance(exc, ValueError)
    assert "raise_value_error" in str(exc.__cause__)


def test_shutdown_leaves_no_worker_running() -> None:
    ex = loky_executor.LokyExecutor(max_workers=2)
    pids = {
        ex.submit(executor_jobs.worker_pid, i, import_root=JOBS_ROOT).result(timeout=60)
        for i in range(4)
    }

    ex.shutdown()

    assert not [pid for pid in pids if _alive(pid)]
    assert "shut down" in str(
        ex.submit(executor_jobs.add_one, 1, import_root=JOBS_ROOT).exception()
    )


def _workers_of_this_process() -> int:
    """The loky worker processes this test process has started (and not yet stopped)."""
    found = 0
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        found += ppid == os.getpid() and b"popen_loky_posix" in command
    return found


def _run_jobs(ex: loky_executor.LokyExecutor, count: int) -> None:
    futures = [ex.submit(executor_jobs.add_one, i, import_root=JOBS_ROOT) for i in range(count)]
    assert [f.result(timeout=60) for f in futures] == [i + 1 for i in range(count)]


def test_the_pool_starts_only_the_workers_expected_and_grows_when_more_are() -> None:
    ex = loky_executor.LokyExecutor(max_workers=3)
    try:
        ex.expect(1)
        _run_jobs(ex, 3)
        assert _workers_of_this_process() == 1

        ex.expect(2)
        _run_jobs(ex, 3)
        assert _workers_of_this_process() == 2

        ex.expect(1)  # warm workers are kept for the next run
        _run_jobs(ex, 1)
        assert _workers_of_this_process() == 2

        ex.expect(10)  # never more than max_workers
        _run_jobs(ex, 4)
        assert _workers_of_this_process() == 3
    finally:
        ex.shutdown()


def test_without_an_expectation_the_pool_starts_max_workers() -> None:
    ex = loky_executor.LokyExecutor(max_workers=2)
    try:
        _run_jobs(ex, 1)
        assert _workers_of_this_process() == 2
    finally:
        ex.shutdown()


def _import_as(name: str, directory: pathlib.Path) -> types.ModuleType:
    sys.modules.pop(name, None)
    sys.path.insert(0, str(directory))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory))


def test_same_named_modules_of_two_pipelines_do_not_leak_between_jobs(
    tmp_path: pathlib.Path,
) -> None:
    name = f"stages_{uuid.uuid4().hex}"
    roots = {}
    for label in ("a", "b"):
        root = tmp_path / label
        root.mkdir()
        (root / f"{name}.py").write_text(f"def which(_):\n    return {label!r}\n")
        roots[label] = root
    single = loky_executor.LokyExecutor(max_workers=1)  # one warm worker sees both pipelines
    try:
        for label in ("a", "b", "a"):
            module = _import_as(name, roots[label])
            # Pickled by reference as `<name>.which`: the worker must import the right file.
            result = single.submit(module.which, None, import_root=roots[label])
            assert result.result(timeout=60) == label
    finally:
        single.shutdown()
        sys.modules.pop(name, None)


def test_the_pools_resource_trackers_say_nothing_after_pivot_exits() -> None:
    # A semaphore left registered (as when a failed run's pool is shut down abruptly): the
    # tracker removes it after the parent exits and used to warn on the user's terminal.
    script = (
        "from pivot.adapters.executor import loky_executor\n"
        "pool = loky_executor.LokyExecutor(1)._fresh_pool()\n"
        "from loky.backend import resource_tracker\n"
        "resource_tracker.register('/pivot-test-gone', 'semlock')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "resource_tracker" not in done.stderr


def test_the_pools_resource_trackers_run_at_the_lowest_priority_and_hold_no_output_pipe() -> None:
    # Bookkeeping processes that act only at exit: they must not compete with the first worker
    # for the CPU, nor keep the caller's pipes open after the parent has exited.
    script = (
        "import json, os, pathlib\n"
        "from pivot.adapters.executor import loky_executor\n"
        "before = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "pool = loky_executor.LokyExecutor(1)\n"
        f"pool.submit(len, 'x', import_root=pathlib.Path({str(JOBS_ROOT)!r})).result(60)\n"
        "found = []\n"
        "for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):\n"
        "    try:\n"
        "        fields = stat.read_text().rsplit(')', 1)[1].split()\n"
        "        command = (stat.parent / 'cmdline').read_bytes()\n"
        "        outputs = [os.readlink(stat.parent / 'fd' / n) for n in ('1', '2')]\n"
        "    except (OSError, IndexError):\n"
        "        continue\n"
        "    if int(fields[1]) == os.getpid() and b'resource_tracker' in command:\n"
        "        found.append({'nice': int(fields[16]), 'outputs': outputs})\n"
        "pool.shutdown()\n"
        "after = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "print(json.dumps({'trackers': found, 'nice': [before, after]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=60
    )

    seen = json.loads(done.stdout)
    assert seen["trackers"]
    for tracker in seen["trackers"]:
        assert tracker["nice"] == 19
        assert tracker["outputs"] == [os.devnull, os.devnull]
    assert seen["nice"][0] == seen["nice"][1]  # the parent itself keeps its priority
