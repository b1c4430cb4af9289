import os
import pathlib
import time

from pivot.adapters.memory import state_store as memory_state
from pivot.app import snapshot

OLD = time.time_ns() - 60 * 1_000_000_000


def _old_file(path: pathlib.Path, text: str = "x") -> str:
    path.write_text(text)
    os.utime(path, ns=(OLD, OLD))
    return str(path)


def test_settle_records_the_stamp_of_each_path_and_absent_paths(tmp_path: pathlib.Path):
    kept = _old_file(tmp_path / "a.txt")
    used = _old_file(tmp_path / "b.txt")
    absent = str(tmp_path / "missing.txt")

    stamps, unsettled = snapshot.settle(
        {used: snapshot.stamp(used), absent: None}, [kept], time.time_ns()
    )

    assert unsettled is None
    assert stamps == {kept: snapshot.stamp(kept), used: snapshot.stamp(used), absent: None}


def test_settle_refuses_a_path_changed_just_before_the_check(tmp_path: pathlib.Path):
    started = time.time_ns()
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("x")

    assert snapshot.settle({}, [str(fresh)], started) == ({}, str(fresh))


def test_settle_refuses_a_path_changed_since_it_was_used(tmp_path: pathlib.Path):
    path = _old_file(tmp_path / "a.txt")
    used = snapshot.stamp(path)
    assert used is not None
    _old_file(tmp_path / "a.txt", "longer")

    assert snapshot.settle({path: used}, [], time.time_ns()) == ({}, path)


def test_settle_refuses_a_path_that_appeared_after_it_was_found_absent(tmp_path: pathlib.Path):
    restored = _old_file(tmp_path / "out.txt")  # e.g. an output restored with the cache's mtime

    assert snapshot.settle({restored: None}, [], time.time_ns()) == ({}, restored)


def test_whole_second_mtimes_need_a_longer_settling_time():
    now = 1_000_000_000_000_000_000
    fine = now - 500_000_000 + 1

    assert snapshot.is_settled((1, 1, fine), now)
    assert not snapshot.is_settled((1, 1, now - 1_000_000_000), now)
    assert snapshot.is_settled((1, 1, now - 3_000_000_000), now)


def test_a_settling_window_of_zero_trusts_any_stamp_older_than_the_check():
    now = 1_000_000_000_000_000_000

    assert snapshot.is_settled((1, 1, now - 1), now, window_ns=0)
    assert not snapshot.is_settled((1, 1, now), now, window_ns=0)
    assert snapshot.is_settled((1, 1, now - 1_000_000_000), now, window_ns=0)


def test_changed_names_the_first_path_whose_stamp_differs(tmp_path: pathlib.Path):
    a = _old_file(tmp_path / "a.txt")
    b = _old_file(tmp_path / "b.txt")
    recorded = snapshot.Snapshot.of({a: snapshot.stamp(a), b: snapshot.stamp(b)}, "", "", 0)
    assert recorded.changed() is None

    os.utime(b, ns=(OLD + 1, OLD + 1))  # touched: same content, new stamp

    assert recorded.changed() == b


def test_a_path_that_appears_is_a_change(tmp_path: pathlib.Path):
    recorded = snapshot.Snapshot.of({str(tmp_path / "new.txt"): None}, "", "", 0)

    (tmp_path / "new.txt").write_text("x")

    assert recorded.changed() == str(tmp_path / "new.txt")


def test_store_round_trip_and_duration_replaced_on_replay():
    store = snapshot.SnapshotStore(memory_state.MemoryStateStore())
    recorded = snapshot.Snapshot.of(
        {"/p": (1, 2, 3), "/q": None},
        "a: skipped\n1 skipped in 0.31s\n",
        "warn\n",
        0,
        duration_text="in 0.31s",
    )

    store.put("k", recorded)
    found = store.get("k")

    assert found == recorded
    assert found is not None
    assert found.size() == 2
    assert found.replay_stdout(0.004) == "a: skipped\n1 skipped in 0.00s\n"
    assert store.get("other") is None


def test_a_json_duration_is_replaced_in_its_own_format():
    recorded = snapshot.Snapshot.of(
        {},
        '{"duration": 0.0}\n{"duration": 0.123, "event": "summary"}\n',
        "",
        0,
        duration_text='"duration": 0.123',
        duration_format='"duration": {:.6f}',
    )

    assert recorded.replay_stdout(0.0042) == (
        '{"duration": 0.0}\n{"duration": 0.004200, "event": "summary"}\n'
    )


def test_stamps_are_compared_per_directory_and_the_changed_path_is_named(tmp_path: pathlib.Path):
    many = tmp_path / "many"
    many.mkdir()
    paths = [_old_file(many / f"f{i:03d}.txt") for i in range(200)]
    gone = tmp_path / "gone"
    gone.mkdir()
    vanishing = _old_file(gone / "x.txt")
    stamps = {p: snapshot.stamp(p) for p in [*paths, vanishing, str(many)]}
    stamps[str(tmp_path / "absent" / "never.txt")] = None  # in a directory that never was
    recorded = snapshot.Snapshot.of(stamps, "", "", 0)
    assert recorded.size() == 203
    assert recorded.changed() is None

    _old_file(many / "f150.txt", "xy")  # a new size, the same mtime
    assert recorded.changed() == paths[150]
    (many / "f150.txt").unlink()
    assert recorded.changed() == str(many)  # its listing changed; directories sort first
    _old_file(many / "f150.txt")
    os.utime(many, ns=(OLD, OLD))
    recorded = snapshot.Snapshot.of({p: snapshot.stamp(p) for p in stamps}, "", "", 0)

    os.unlink(vanishing)
    gone.rmdir()

    assert recorded.changed() == vanishing


def test_the_file_system_root_and_a_directory_itself_can_be_stamped(tmp_path: pathlib.Path):
    recorded = snapshot.Snapshot.of({"/": snapshot.stamp("/"), str(tmp_path): None}, "", "", 0)

    assert recorded.changed() == str(tmp_path)


def test_a_damaged_entry_is_a_miss():
    state = memory_state.MemoryStateStore()
    state.put_many(snapshot.NAMESPACE, [("k", b"\x00garbage")])

    assert snapshot.SnapshotStore(state).get("k") is None


def test_keys_differ_by_every_part():
    assert snapshot.key(["run", "a"]) != snapshot.key(["run", "b"])
    assert snapshot.key(["run", "a"]) == snapshot.key(["run", "a"])
    assert snapshot.key(["run", "ab"]) != snapshot.key(["run", "a", "b"])


def test_an_entry_of_an_older_layout_is_a_miss():
    import marshal

    state = memory_state.MemoryStateStore()
    old = marshal.dumps((2, {"/p": (1, 2, 3)}, "out", "", 0, "", ""))
    state.put_many(snapshot.NAMESPACE, [("k", old)])

    assert snapshot.SnapshotStore(state).get("k") is None
