import json
import os
import pathlib

import pytest

from pivot.adapters.lock import json_lock_store
from pivot.domain import errors, lock, stage


def noop() -> None:
    """Stage function for the test stages."""


def _stage(root: pathlib.Path, name: str = "train") -> stage.Stage:
    return stage.Stage(name=name, func=noop, pipeline="p", root=root, deps=(), outs=())


def _record(name: str = "train") -> lock.LockRecord:
    return lock.LockRecord(
        schema_version=lock.SCHEMA_VERSION,
        stage=name,
        code={"stage:train": "beef", "func:helper": "c0ffee"},
        params={"z": 1, "a": {"y": 2, "b": 3}},
        deps={"data/b.csv": "22", "data/a.csv": "11"},
        outs={"train": lock.OutRecord(path="m.pkl", hash="3333", kind="out", cached=True)},
    )


STORE = json_lock_store.JsonLockStore()


def test_file_lives_in_the_stage_state_dir(tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    STORE.write(st, _record())
    assert (tmp_path / ".pivot" / "stages" / "train.lock").is_file()


def test_state_dir_override_is_honoured(tmp_path: pathlib.Path) -> None:
    st = stage.Stage(
        name="train",
        func=noop,
        pipeline="p",
        root=tmp_path,
        deps=(),
        outs=(),
        state_dir_override=tmp_path / "elsewhere",
    )
    STORE.write(st, _record())
    assert (tmp_path / "elsewhere" / "stages" / "train.lock").is_file()


def test_output_is_sorted_indented_and_ends_with_a_newline(tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    STORE.write(st, _record())
    text = json_lock_store.lock_path(st).read_text()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"
    assert text.index('"data/a.csv"') < text.index('"data/b.csv"')
    assert '\n  "code": {\n    "func:helper"' in text


def test_equal_records_give_identical_bytes(tmp_path: pathlib.Path) -> None:
    a = _stage(tmp_path / "a")
    b = _stage(tmp_path / "b")
    shuffled = _record()
    shuffled["deps"] = dict(reversed(list(shuffled["deps"].items())))
    STORE.write(a, _record())
    STORE.write(b, shuffled)
    assert json_lock_store.lock_path(a).read_bytes() == json_lock_store.lock_path(b).read_bytes()


def test_rewriting_an_equal_record_leaves_the_file_untouched(tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    STORE.write(st, _record())
    path = json_lock_store.lock_path(st)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    STORE.write(st, _record())
    assert path.stat().st_mtime_ns == 1_000_000_000


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: pathlib.Path) -> None:
    st = _stage(tmp_path)
    STORE.write(st, _record())
    first_inode = json_lock_store.lock_path(st).stat().st_ino
    changed = _record()
    changed["params"] = {"lr": 1}
    STORE.write(st, changed)
    path = json_lock_store.lock_path(st)
    # A rename installs a new file rather than rewriting the old one in place.
    assert path.stat().st_ino != first_inode
    assert os.listdir(path.parent) == ["train.lock"]


@pytest.mark.parametrize(
    ("name", "filename"),
    [("a/b", "a%2Fb.lock"), ("x@y", "x%40y.lock"), ("train@lr=0.1", "train%40lr%3D0.1.lock")],
)
def test_stage_names_are_quoted_into_one_file_name(
    tmp_path: pathlib.Path, name: str, filename: str
) -> None:
    st = _stage(tmp_path, name)
    STORE.write(st, _record(name))
    assert os.listdir(tmp_path / ".pivot" / "stages") == [filename]
    assert STORE.read(st) == _record(name)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"schema_version": 999}', "schema_version is 999"),
        ('{"stage": "train"}', "schema_version is None"),
    ],
)
def test_unreadable_file_raises_lock_file_error_naming_file_and_fix(
    tmp_path: pathlib.Path, content: str, why: str
) -> None:
    st = _stage(tmp_path)
    path = json_lock_store.lock_path(st)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(errors.LockFileError, match=why) as info:
        STORE.read(st)
    message = str(info.value)
    assert str(path) in message
    assert "delete it" in message
    assert "re-run" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stage", 3),
        ("code", {"f": 1}),
        ("deps", []),
        ("params", "lr"),
        ("outs", {"train": {"path": "m", "hash": "h", "kind": "out"}}),
        ("outs", {"train": "m.pkl"}),
    ],
)
def test_wrong_shape_raises_lock_file_error(
    tmp_path: pathlib.Path, field: str, value: object
) -> None:
    st = _stage(tmp_path)
    record = dict(_record())
    record[field] = value
    path = json_lock_store.lock_path(st)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record))
    with pytest.raises(errors.LockFileError, match=field if field != "outs" else "output"):
        STORE.read(st)


def test_batched_write_reaches_the_disk_after_flush_by_the_end_of_the_block(
    tmp_path: pathlib.Path,
) -> None:
    st = _stage(tmp_path)
    store = json_lock_store.JsonLockStore()
    with store.batch():
        store.write(st, _record())
        assert not json_lock_store.lock_path(st).exists()
        store.flush()
        assert store.read(st) == _record()
        store.write(st, _record("again"))
    assert json_lock_store.lock_path(st).read_bytes() == json_lock_store.encode(_record("again"))
    assert os.listdir(json_lock_store.lock_path(st).parent) == [json_lock_store.lock_path(st).name]
