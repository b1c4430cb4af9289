import pathlib
import threading
import time
from collections.abc import Callable

import pytest

from pivot.adapters.lock import file_project_lock
from pivot.adapters.memory import project_lock as memory_project_lock
from pivot.domain import errors, holder, layout
from pivot.ports import project_lock

RUN = holder.Holder("pivot run", 4242)
GC = holder.Holder("pivot gc", 4343)


def _file(tmp_path: pathlib.Path) -> project_lock.ProjectLock:
    layout.state_dir(tmp_path).mkdir()
    return file_project_lock.FileProjectLock(tmp_path)


def _memory(tmp_path: pathlib.Path) -> project_lock.ProjectLock:
    return memory_project_lock.MemoryProjectLock()


@pytest.fixture(params=[_file, _memory], ids=["file", "memory"])
def lock(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> project_lock.ProjectLock:
    factory: Callable[[pathlib.Path], project_lock.ProjectLock] = request.param
    return factory(tmp_path)


def test_holder_is_recorded_while_held_and_cleared_after(lock: project_lock.ProjectLock) -> None:
    assert lock.holder() is None
    with lock.hold(RUN):
        assert lock.holder() == RUN
    assert lock.holder() is None


def test_second_writer_without_wait_fails_naming_the_holder(
    lock: project_lock.ProjectLock,
) -> None:
    busy = pytest.raises(errors.ProjectLockedError, match=r"pivot run \(pid 4242\)")
    with lock.hold(RUN), busy, lock.hold(GC, wait=False):
        pytest.fail("entered a held lock")


def test_second_writer_waits_for_the_first_and_is_told_who(
    lock: project_lock.ProjectLock,
) -> None:
    order: list[str] = []
    waited_for: list[holder.Holder | None] = []
    told = threading.Event()

    def second() -> None:
        def on_wait(current: holder.Holder | None) -> None:
            waited_for.append(current)
            told.set()

        with lock.hold(GC, on_wait=on_wait):
            order.append("gc")

    with lock.hold(RUN):
        thread = threading.Thread(target=second)
        thread.start()
        assert told.wait(10), "the second writer never reported waiting"
        order.append("run")
    thread.join(10)
    assert order == ["run", "gc"]
    assert waited_for == [RUN]
    assert lock.holder() is None


def test_free_lock_is_taken_without_waiting(lock: project_lock.ProjectLock) -> None:
    waited: list[object] = []
    with lock.hold(RUN):
        pass
    with lock.hold(GC, wait=False, on_wait=waited.append):
        assert lock.holder() == GC
    assert waited == []


def test_error_inside_the_block_releases_the_lock(lock: project_lock.ProjectLock) -> None:
    with pytest.raises(KeyError), lock.hold(RUN):
        raise KeyError("boom")
    with lock.hold(GC, wait=False):
        assert lock.holder() == GC


def test_file_lock_ignores_a_holder_record_left_by_a_killed_process(
    tmp_path: pathlib.Path,
) -> None:
    lock = _file(tmp_path)
    layout.project_lock_holder(tmp_path).write_text(RUN.to_json())
    with lock.hold(GC, wait=False):
        assert lock.holder() == GC
    assert not layout.project_lock_holder(tmp_path).exists()
    assert [p.name for p in layout.state_dir(tmp_path).iterdir() if "tmp" in p.name] == []


def test_torn_holder_record_reads_as_unknown(tmp_path: pathlib.Path) -> None:
    lock = _file(tmp_path)
    layout.project_lock_holder(tmp_path).write_text('{"command": "pivot r')
    assert lock.holder() is None


def test_a_clean_release_leaves_nothing_to_recover(lock: project_lock.ProjectLock) -> None:
    with lock.hold(RUN) as interrupted:
        assert interrupted is None
    with lock.hold(GC) as interrupted:
        assert interrupted is None


def test_file_lock_names_a_holder_that_was_killed_while_holding(tmp_path: pathlib.Path) -> None:
    """A holder record outlives only a killed holder: the next one is told, to clean up."""
    lock = _file(tmp_path)
    layout.project_lock_holder(tmp_path).write_text(RUN.to_json())
    (layout.state_dir(tmp_path) / ".lock.holder.x1.pivot-tmp").write_text("{")
    with lock.hold(GC) as interrupted:
        assert interrupted == RUN
        assert lock.holder() == GC
    assert list(layout.state_dir(tmp_path).glob(".lock.holder.*")) == []
    with lock.hold(GC) as interrupted:
        assert interrupted is None


def test_file_lock_reports_a_torn_holder_record_as_unknown(tmp_path: pathlib.Path) -> None:
    lock = _file(tmp_path)
    (layout.state_dir(tmp_path) / ".lock.holder.x1.pivot-tmp").write_text("{")
    with lock.hold(GC) as interrupted:
        assert interrupted == holder.UNKNOWN
    assert str(holder.UNKNOWN) == "an earlier pivot command"


def test_file_lock_waiter_arriving_before_the_record_still_names_the_holder(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _file(tmp_path)
    acquired, done = threading.Event(), threading.Event()
    write = file_project_lock.FileProjectLock._write_holder  # pyright: ignore[reportPrivateUsage]

    def late_write(self: file_project_lock.FileProjectLock, who: holder.Holder) -> None:
        acquired.set()  # the lock is held; its record comes a moment later
        time.sleep(0.2)
        write(self, who)

    monkeypatch.setattr(file_project_lock.FileProjectLock, "_write_holder", late_write)

    def hold_first() -> None:
        with first.hold(RUN):
            done.wait(10)

    thread = threading.Thread(target=hold_first)
    thread.start()
    try:
        assert acquired.wait(10)
        second = file_project_lock.FileProjectLock(tmp_path)
        busy = pytest.raises(errors.ProjectLockedError, match=r"pivot run \(pid 4242\)")
        with busy, second.hold(GC, wait=False):
            pytest.fail("entered a held lock")
    finally:
        done.set()
        thread.join()
