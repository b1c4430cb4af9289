import json
import os
import pathlib
import sys

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


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lr": 0.01, "layers": [1, 2, [3, []]], "nested": {"b": True, "a": None, "e": {}}},
        {
            "text": 'caf\u00e9 "quoted"\n\ttab \u2603 \U0001f600',
            "\u00e9": False,
            "ctrl": "\x00\x1f",
        },
        {"big": 10**30, "neg": -7, "tiny": 1e-300, "huge": 1e300, "round": 2.0},
        {"nan": float("nan"), "inf": float("inf"), "minus_inf": float("-inf")},
        {"tuple": (1, "a"), "zeta": 1},  # not a plain JSON value: left to the json module
        {"1": "string key", "2": ["x"]},
    ],
    ids=["empty", "nested", "unicode", "numbers", "non-finite", "tuple", "digit-keys"],
)
def test_encoding_is_the_json_modules_indented_sorted_text(params: dict[str, object]) -> None:
    record = _record()
    record["params"] = params
    expected = json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert json_lock_store.encode(record) == expected.encode()


_RECORDING: list[list[str]] = []
"""While a test records: the list every opened file's name is appended to."""


def _record_opens(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _RECORDING and isinstance(args[0], str | pathlib.Path):
        _RECORDING[-1].append(str(args[0]))


@pytest.fixture(scope="session")
def opens_recorded() -> None:
    """Audit hooks cannot be removed: added once, for the tests that record opened files."""
    sys.addaudithook(_record_opens)


@pytest.mark.usefixtures("opens_recorded")
def test_a_batch_reads_each_lock_file_once(tmp_path: pathlib.Path) -> None:
    """A run reads a record to decide, then writes it: the write compares with what was read
    instead of reading the file again (and a missing file is not looked for twice)."""
    old, new = _stage(tmp_path, "old"), _stage(tmp_path, "new")
    STORE.write(old, _record("old"))
    store = json_lock_store.JsonLockStore()
    opened: list[str] = []
    with store.batch():
        _RECORDING.append(opened)
        try:
            assert store.read(old) == _record("old")
            assert store.read(new) is None
            store.write(old, _record("old"))
            store.write(new, _record("new"))
            assert store.read(new) == _record("new")
        finally:
            _RECORDING.clear()
    locks = [json_lock_store.lock_path(st) for st in (old, new)]
    assert [p for p in opened if p.endswith(".lock")] == [str(p) for p in locks]
    assert STORE.read(new) == _record("new")


def test_a_record_written_in_a_batch_is_read_back_after_its_flush(
    tmp_path: pathlib.Path,
) -> None:
    st = _stage(tmp_path)
    store = json_lock_store.JsonLockStore()
    with store.batch():
        assert store.read(st) is None
        store.write(st, _record("first"))
        store.flush()
        store.flush()  # the first flush is done: nothing is in flight any more
        assert store.read(st) == _record("first")
        store.write(st, _record())
        assert store.read(st) == _record()
    assert json_lock_store.lock_path(st).read_bytes() == json_lock_store.encode(_record())
