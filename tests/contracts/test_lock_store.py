import pathlib
from collections.abc import Callable

import pytest

from pivot.adapters.lock import json_lock_store
from pivot.adapters.memory import lock_store as memory_lock_store
from pivot.domain import lock, stage
from pivot.ports import lock_store


def noop() -> None:
    """Stage function for the test stages."""


def _stage(root: pathlib.Path, name: str = "train") -> stage.Stage:
    return stage.Stage(name=name, func=noop, pipeline="p", root=root, deps=(), outs=())


def _record(name: str = "train", **changes: object) -> lock.LockRecord:
    record = lock.LockRecord(
        schema_version=lock.SCHEMA_VERSION,
        stage=name,
        code={"func:train": "c0ffee", "stage:train": "beef"},
        params={"lr": 0.01, "layers": [1, 2], "nested": {"b": True, "a": None}},
        deps={"data/train.csv": "ab" * 16},
        outs={
            "train:model": lock.OutRecord(
                path="models/model.pkl", hash="cd" * 16, kind="out", cached=True
            ),
            "train:metrics": lock.OutRecord(
                path="metrics.json", hash="ef" * 16, kind="metric", cached=False
            ),
        },
    )
    record.update(changes)  # pyright: ignore[reportCallIssue, reportArgumentType]
    return record


@pytest.fixture(
    params=[json_lock_store.JsonLockStore, memory_lock_store.MemoryLockStore],
    ids=["json", "memory"],
)
def store(request: pytest.FixtureRequest) -> lock_store.LockStore:
    factory: Callable[[], lock_store.LockStore] = request.param
    return factory()


def test_never_run_stage_has_no_record(store: lock_store.LockStore, tmp_path: pathlib.Path) -> None:
    assert store.read(_stage(tmp_path)) is None


def test_write_then_read_round_trips(store: lock_store.LockStore, tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    store.write(st, _record())
    assert store.read(st) == _record()


def test_write_replaces_the_previous_record(
    store: lock_store.LockStore, tmp_path: pathlib.Path
) -> None:
    st = _stage(tmp_path)
    store.write(st, _record())
    store.write(st, _record(params={"lr": 0.5}))
    found = store.read(st)
    assert found is not None
    assert found["params"] == {"lr": 0.5}


def test_records_are_per_stage_and_per_state_dir(
    store: lock_store.LockStore, tmp_path: pathlib.Path
) -> None:
    train = _stage(tmp_path / "a", "train")
    other_pipeline_train = _stage(tmp_path / "b", "train")
    nested = _stage(tmp_path / "a", "group/train@lr=0.1")
    store.write(train, _record())
    store.write(nested, _record("group/train@lr=0.1"))
    assert store.read(other_pipeline_train) is None
    found = store.read(nested)
    assert found is not None
    assert found["stage"] == "group/train@lr=0.1"
    found = store.read(train)
    assert found is not None
    assert found["stage"] == "train"


def test_mutating_a_record_after_write_or_read_does_not_change_the_store(
    store: lock_store.LockStore, tmp_path: pathlib.Path
) -> None:
    st = _stage(tmp_path)
    record = _record()
    store.write(st, record)
    record["deps"]["data/train.csv"] = "changed"
    found = store.read(st)
    assert found is not None
    found["outs"]["train:model"]["hash"] = "changed"
    assert store.read(st) == _record()


def test_empty_collections_round_trip(store: lock_store.LockStore, tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    record = _record(code={}, params={}, deps={}, outs={})
    store.write(st, record)
    assert store.read(st) == record


def test_batched_writes_are_read_back_inside_and_kept_after(
    store: lock_store.LockStore, tmp_path: pathlib.Path
) -> None:
    first, second = _stage(tmp_path, "a"), _stage(tmp_path, "b")
    with store.batch():
        store.write(first, _record("a"))
        assert store.read(first) == _record("a")
        store.flush()
        store.write(second, _record("b"))
    assert (store.read(first), store.read(second)) == (_record("a"), _record("b"))


def test_batched_writes_survive_an_error_inside_the_block(
    store: lock_store.LockStore, tmp_path: pathlib.Path
) -> None:
    st = _stage(tmp_path)

    def failing_run() -> None:
        with store.batch():
            store.write(st, _record())
            raise RuntimeError("a stage failed the run")

    with pytest.raises(RuntimeError):
        failing_run()
    assert store.read(st) == _record()
