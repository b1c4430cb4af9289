import pathlib
from collections.abc import Callable, Iterator

import pytest

from pivot.adapters.memory import state_store as memory_state_store
from pivot.adapters.state import lmdb_state_store
from pivot.ports import state_store

Factory = Callable[[pathlib.Path], state_store.StateStore]


def _lmdb(tmp_path: pathlib.Path) -> state_store.StateStore:
    return lmdb_state_store.LmdbStateStore(tmp_path / ".pivot" / "state.lmdb")


def _memory(tmp_path: pathlib.Path) -> state_store.StateStore:
    return memory_state_store.MemoryStateStore()


@pytest.fixture(params=[_lmdb, _memory], ids=["lmdb", "memory"])
def store(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> Iterator[state_store.StateStore]:
    factory: Factory = request.param
    opened = factory(tmp_path)
    yield opened
    opened.close()


STAMP = state_store.FileStamp(inode=12, size=34, mtime_ns=1_700_000_000_123_456_789)


def test_unknown_path_has_no_hash(store: state_store.StateStore) -> None:
    assert store.lookup_hash("data/x.csv", STAMP) is None


def test_recorded_hash_is_found_with_the_same_stamp(store: state_store.StateStore) -> None:
    store.record_hashes([("data/x.csv", STAMP, "aa" * 16)])
    assert store.lookup_hash("data/x.csv", STAMP) == "aa" * 16


@pytest.mark.parametrize(
    "other",
    [
        STAMP._replace(inode=13),
        STAMP._replace(size=35),
        STAMP._replace(mtime_ns=STAMP.mtime_ns + 1),
    ],
)
def test_a_different_stamp_misses(
    store: state_store.StateStore, other: state_store.FileStamp
) -> None:
    store.record_hashes([("data/x.csv", STAMP, "aa" * 16)])
    assert store.lookup_hash("data/x.csv", other) is None


def test_recording_again_replaces_the_memo(store: state_store.StateStore) -> None:
    newer = STAMP._replace(mtime_ns=STAMP.mtime_ns + 10)
    store.record_hashes([("f", STAMP, "old")])
    store.record_hashes([("f", newer, "new")])
    assert store.lookup_hash("f", newer) == "new"
    assert store.lookup_hash("f", STAMP) is None


def test_record_many_from_a_generator(store: state_store.StateStore) -> None:
    store.record_hashes((f"f{i}", STAMP._replace(inode=i), f"d{i}") for i in range(100))
    assert [store.lookup_hash(f"f{i}", STAMP._replace(inode=i)) for i in range(100)] == [
        f"d{i}" for i in range(100)
    ]


def test_directory_digests_and_odd_paths_round_trip(store: state_store.StateStore) -> None:
    odd = "dätä/with space/ü\N{SNOWMAN}.bin"
    store.record_hashes([(odd, STAMP, "ab" * 16 + ".dir")])
    assert store.lookup_hash(odd, STAMP) == "ab" * 16 + ".dir"


def test_zero_and_negative_stamps(store: state_store.StateStore) -> None:
    stamp = state_store.FileStamp(inode=0, size=0, mtime_ns=-5)
    store.record_hashes([("epoch", stamp, "d")])
    assert store.lookup_hash("epoch", stamp) == "d"


def test_very_long_paths_work(store: state_store.StateStore) -> None:
    long_a = "a/" * 600 + "file"
    long_b = "a/" * 600 + "other"
    store.record_hashes([(long_a, STAMP, "da"), (long_b, STAMP, "db")])
    assert store.lookup_hash(long_a, STAMP) == "da"
    assert store.lookup_hash(long_b, STAMP) == "db"
    assert store.lookup_hash(long_a + "x", STAMP) is None


def test_generic_get_and_put_many(store: state_store.StateStore) -> None:
    assert store.get("runcache", "k1") is None
    store.put_many("runcache", [("k1", b"v1"), ("k2", b"")])
    assert store.get("runcache", "k1") == b"v1"
    assert store.get("runcache", "k2") == b""
    store.put_many("runcache", iter([("k1", b"v1b")]))
    assert store.get("runcache", "k1") == b"v1b"


def test_values_are_bytes_even_when_given_other_buffers(store: state_store.StateStore) -> None:
    store.put_many("ns", [("k", bytearray(b"\x00\xff"))])  # pyright: ignore[reportArgumentType]
    value = store.get("ns", "k")
    assert type(value) is bytes
    assert value == b"\x00\xff"


def test_large_values(store: state_store.StateStore) -> None:
    blob = bytes(range(256)) * 4096
    store.put_many("fingerprint", [("mod", blob)])
    assert store.get("fingerprint", "mod") == blob


def test_namespaces_are_isolated(store: state_store.StateStore) -> None:
    store.put_many("a", [("k", b"from a")])
    store.put_many("ab", [("k", b"from ab")])
    store.put_many("hash", [("data/x.csv", b"generic")])
    store.record_hashes([("data/x.csv", STAMP, "memo")])
    assert store.get("a", "k") == b"from a"
    assert store.get("ab", "k") == b"from ab"
    assert store.get("b", "k") is None
    assert store.get("hash", "data/x.csv") == b"generic"
    assert store.lookup_hash("data/x.csv", STAMP) == "memo"
    assert store.keys("a") == ["k"]
    assert store.keys("hash") == ["data/x.csv"]


def test_keys_lists_every_key_in_sorted_order(store: state_store.StateStore) -> None:
    assert store.keys("runcache") == []
    long_key = "k" * 1000
    store.put_many("runcache", [("b", b"1"), ("a", b"2"), (long_key, b"3"), ("c/d", b"4")])
    assert store.keys("runcache") == sorted(["a", "b", "c/d", long_key])
    assert store.get("runcache", long_key) == b"3"


def test_empty_or_nul_namespace_is_rejected(store: state_store.StateStore) -> None:
    with pytest.raises(ValueError, match="namespace"):
        store.get("", "k")
    with pytest.raises(ValueError, match="namespace"):
        store.put_many("a\0b", [("k", b"v")])


def test_closed_store_is_unusable(store: state_store.StateStore) -> None:
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.get("ns", "k")
    store.close()
