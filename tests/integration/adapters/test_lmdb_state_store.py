import pathlib
import subprocess
import sys
import textwrap
import threading

import lmdb
import pytest

from pivot.adapters.state import lmdb_state_store
from pivot.ports import state_store

STAMP = state_store.FileStamp(inode=1, size=2, mtime_ns=3)


def test_map_grows_when_a_transaction_does_not_fit(tmp_path: pathlib.Path) -> None:
    store = lmdb_state_store.LmdbStateStore(tmp_path / "state.lmdb", map_size=64 * 1024)
    try:
        blob = b"x" * 4096
        store.put_many("big", ((f"k{i}", blob) for i in range(2000)))
        store.record_hashes((f"p{i}", STAMP, f"{i:032x}") for i in range(5000))
        assert len(store.keys("big")) == 2000
        assert store.get("big", "k1999") == blob
        assert store.lookup_hash("p4999", STAMP) == f"{4999:032x}"
    finally:
        store.close()


def test_same_path_opened_twice_shares_one_environment(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "state.lmdb"
    first = lmdb_state_store.LmdbStateStore(path)
    second = lmdb_state_store.LmdbStateStore(tmp_path / "sub" / ".." / "state.lmdb")
    first.put_many("ns", [("k", b"v")])
    assert second.get("ns", "k") == b"v"
    second.record_hashes([("f", STAMP, "d")])
    assert first.lookup_hash("f", STAMP) == "d"
    first.close()
    assert second.get("ns", "k") == b"v"
    second.close()
    # Once every store closed, the environment itself is closed: lmdb allows a fresh open.
    lmdb.open(str(path)).close()


def test_reopen_persists(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "state.lmdb"
    store = lmdb_state_store.LmdbStateStore(path)
    store.record_hashes([("f", STAMP, "d")])
    store.put_many("runcache", [("sig", b"outs")])
    store.close()
    reopened = lmdb_state_store.LmdbStateStore(path)
    try:
        assert reopened.lookup_hash("f", STAMP) == "d"
        assert reopened.get("runcache", "sig") == b"outs"
    finally:
        reopened.close()


def test_creates_missing_parent_directories(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "project" / ".pivot" / "state.lmdb"
    store = lmdb_state_store.LmdbStateStore(path)
    store.close()
    assert path.is_dir()


def test_reads_after_own_write_see_it_despite_snapshot_reuse(tmp_path: pathlib.Path) -> None:
    store = lmdb_state_store.LmdbStateStore(tmp_path / "state.lmdb")
    try:
        assert store.get("ns", "k") is None
        store.put_many("ns", [("k", b"1")])
        assert store.get("ns", "k") == b"1"
        store.put_many("ns", [("k", b"2")])
        assert store.get("ns", "k") == b"2"
    finally:
        store.close()


_GROW_IN_CHILD = textwrap.dedent(
    """
    import pathlib, sys
    from pivot.adapters.state import lmdb_state_store
    store = lmdb_state_store.LmdbStateStore(pathlib.Path(sys.argv[1]), map_size=1 << 20)
    store.put_many("child", ((f"k{i}", b"y" * 4096) for i in range(3000)))
    store.close()
    """
)


def test_map_grown_by_another_process_is_adopted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "state.lmdb"
    store = lmdb_state_store.LmdbStateStore(path, map_size=1 << 20)
    try:
        store.put_many("parent", [("before", b"1")])
        subprocess.run([sys.executable, "-c", _GROW_IN_CHILD, str(path)], check=True)
        store.put_many("parent", [("after", b"2")])
        assert store.get("child", "k2999") == b"y" * 4096
        assert store.keys("parent") == ["after", "before"]
    finally:
        store.close()


def _hammer(store: lmdb_state_store.LmdbStateStore, worker: int, failures: list[str]) -> None:
    for i in range(200):
        stamp = STAMP._replace(inode=i)
        store.record_hashes([(f"w{worker}/f{i}", stamp, f"d{i}")])
        if store.lookup_hash(f"w{worker}/f{i}", stamp) != f"d{i}":
            failures.append(f"w{worker}/f{i}")


def test_threads_share_a_store_safely(tmp_path: pathlib.Path) -> None:
    store = lmdb_state_store.LmdbStateStore(tmp_path / "state.lmdb")
    failures: list[str] = []
    threads = [threading.Thread(target=_hammer, args=(store, w, failures)) for w in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
    finally:
        store.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "a file"])
def test_a_damaged_store_is_moved_aside_and_rebuilt(
    tmp_path: pathlib.Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.lmdb"
    store = lmdb_state_store.LmdbStateStore(path)
    store.put_many("ns", [(f"k{i}", b"v" * 4096) for i in range(64)])
    store.close()
    data = path / "data.mdb"
    match damage:
        case "garbage":
            data.write_bytes(b"\xff" * 65536)
        case "truncated":
            data.write_bytes(data.read_bytes()[: data.stat().st_size // 3])
        case _:
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
            path.write_text("not a directory")

    reopened = lmdb_state_store.LmdbStateStore(path)
    try:
        assert reopened.get("ns", "k1") is None
        reopened.put_many("ns", [("k1", b"new")])
        assert reopened.get("ns", "k1") == b"new"
    finally:
        reopened.close()
    assert (tmp_path / "state.lmdb.damaged").exists()
    assert "was damaged" in capsys.readouterr().err
