import contextlib
import pathlib
import pickle
from collections.abc import Callable

import pytest
from tests.fakes.progress import RecordingProgress

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache as memory_content_cache
from pivot.domain import errors
from pivot.ports import content_cache

HASHER = xxh3_hasher.Xxh3Hasher()
LinkMode = content_cache.LinkMode
ALL_MODES = (LinkMode.HARDLINK, LinkMode.SYMLINK, LinkMode.COPY, LinkMode.REFLINK)


def _local(tmp_path: pathlib.Path) -> content_cache.ContentCache:
    return local_content_cache.LocalContentCache(tmp_path / ".pivot" / "cache", HASHER)


def _memory(tmp_path: pathlib.Path) -> content_cache.ContentCache:
    return memory_content_cache.MemoryContentCache()


@pytest.fixture(params=[_local, _memory], ids=["local", "memory"])
def cache(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> content_cache.ContentCache:
    factory: Callable[[pathlib.Path], content_cache.ContentCache] = request.param
    return factory(tmp_path)


@pytest.fixture
def work(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _put(cache: content_cache.ContentCache, path: pathlib.Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = HASHER.file_digest(path)
    cache.put_file(path, digest)
    return digest


def _put_tree(
    cache: content_cache.ContentCache, work: pathlib.Path, files: dict[str, bytes]
) -> str:
    manifest = {rel: _put(cache, work / "src" / rel, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)
    return digest


def test_put_then_has(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    digest = _put(cache, work / "a.txt", b"hello")
    assert cache.has(digest)
    assert not cache.has(HASHER.bytes_digest(b"other"))


def test_present_answers_small_and_large_batches(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    stored = [_put(cache, work / f"f{i}", f"object {i}".encode()) for i in range(80)]
    tree = _put_tree(cache, work, {"a.txt": b"a", "sub/b.txt": b"b"})
    absent = [HASHER.bytes_digest(f"absent {i}".encode()) for i in range(80)]

    assert cache.present([stored[0], absent[0], tree]) == {stored[0], tree}
    assert cache.present([*stored, *absent, tree, tree]) == {*stored, tree}
    assert cache.present(absent) == set()
    assert cache.present([]) == set()


def test_put_file_keeps_the_first_object(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.txt", b"first")
    (work / "b.txt").write_bytes(b"second")
    cache.put_file(work / "b.txt", digest)
    cache.materialize(digest, work / "out", (LinkMode.COPY,))
    assert (work / "out").read_bytes() == b"first"


def test_put_files_stores_many_files_duplicates_and_present_ones_included(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    present = _put(cache, work / "present", b"old")
    files: dict[str, str] = {}
    for i in range(100):  # enough for the local cache's threads
        path = work / "many" / f"f{i}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"content {i % 70}".encode())
        files[str(path)] = HASHER.file_digest(path)
    files[str(work / "present")] = present

    cache.put_files(files)

    assert all(cache.verify(digest) for digest in set(files.values()))
    assert set(cache.iter_digests()) == set(files.values())


def test_add_files_hashes_and_stores_each_file_in_one_call(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    present = _put(cache, work / "present", b"old")
    contents = {f"many/d{i % 7}/f{i}": f"content {i % 70}".encode() for i in range(100)}
    contents["empty"] = b""
    contents["present"] = b"old"
    sizes: dict[str, int] = {}
    for rel, data in contents.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        sizes[str(path)] = len(data)

    digests = cache.add_files(sizes)

    assert digests == {str(work / rel): HASHER.bytes_digest(data) for rel, data in contents.items()}
    assert digests[str(work / "present")] == present
    assert set(cache.iter_digests()) == set(digests.values())
    for rel, data in contents.items():
        target = work / "out" / rel
        cache.materialize(digests[str(work / rel)], target, (LinkMode.COPY,))
        assert target.read_bytes() == data


def test_add_files_hashes_what_the_file_holds_when_its_size_changed(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    grown, shrunk = work / "grown", work / "shrunk"
    grown.write_bytes(b"now longer than stated")
    shrunk.write_bytes(b"short")

    digests = cache.add_files({str(grown): 3, str(shrunk): 100})

    assert digests == {
        str(grown): HASHER.bytes_digest(b"now longer than stated"),
        str(shrunk): HASHER.bytes_digest(b"short"),
    }
    assert all(cache.verify(digest) for digest in digests.values())


def test_add_files_keeps_the_first_object(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.txt", b"first")
    (work / "b.txt").write_bytes(b"first")

    assert cache.add_files({str(work / "b.txt"): 5}) == {str(work / "b.txt"): digest}
    (work / "b.txt").write_bytes(b"edited after")
    assert cache.verify(digest)


def test_put_file_with_link_stores_the_same_bytes(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    source = work / "foreign"
    source.write_bytes(b"another tool's object")
    source.chmod(0o444)
    digest = HASHER.file_digest(source)
    cache.put_file(source, digest, link=True)
    assert cache.verify(digest)
    cache.materialize(digest, work / "out", (LinkMode.COPY,))
    assert (work / "out").read_bytes() == b"another tool's object"


def test_local_put_file_with_link_shares_a_read_only_object_and_copies_a_writable_one(
    work: pathlib.Path,
) -> None:
    cache = local_content_cache.LocalContentCache(work / "cache", HASHER)
    shared, private = work / "shared", work / "private"
    shared.write_bytes(b"read-only")
    shared.chmod(0o444)
    private.write_bytes(b"writable")
    for path in (shared, private):
        cache.put_file(path, HASHER.file_digest(path), link=True)
    assert cache.object_path(HASHER.file_digest(shared)).stat().st_ino == shared.stat().st_ino
    assert cache.object_path(HASHER.file_digest(private)).stat().st_ino != private.stat().st_ino


def test_source_changes_after_put_do_not_reach_the_cache(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.txt", b"original")
    (work / "a.txt").write_bytes(b"edited")
    assert cache.verify(digest)


@pytest.mark.parametrize("modes", [(mode,) for mode in ALL_MODES] + [ALL_MODES], ids=str)
def test_materialize_file_in_any_mode_gives_the_content(
    cache: content_cache.ContentCache,
    work: pathlib.Path,
    modes: tuple[content_cache.LinkMode, ...],
) -> None:
    digest = _put(cache, work / "a.txt", b"payload")
    try:
        used = cache.materialize(digest, work / "out" / "deep" / "a.txt", modes)
    except OSError:
        if modes != (LinkMode.REFLINK,):
            raise
        pytest.skip("this filesystem cannot reflink")
    assert used in modes or used is LinkMode.COPY
    assert (work / "out" / "deep" / "a.txt").read_bytes() == b"payload"


def test_materialize_empty_file(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    digest = _put(cache, work / "empty", b"")
    cache.materialize(digest, work / "out", (LinkMode.COPY,))
    assert (work / "out").read_bytes() == b""


def test_materialize_copy_is_writable_and_independent(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.txt", b"payload")
    assert cache.materialize(digest, work / "out", (LinkMode.COPY,)) is LinkMode.COPY
    (work / "out").write_bytes(b"changed")
    assert cache.verify(digest)


def test_materialize_refuses_an_existing_destination(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.txt", b"payload")
    (work / "out").write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        cache.materialize(digest, work / "out", (LinkMode.COPY,))
    assert (work / "out").read_bytes() == b"keep me"


def test_materialize_missing_object_names_digest_and_fix(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = HASHER.bytes_digest(b"never stored")
    with pytest.raises(errors.CacheMissError, match=digest) as info:
        cache.materialize(digest, work / "out", (LinkMode.COPY,))
    assert "pivot pull" in str(info.value)
    assert not (work / "out").exists()


def test_tree_round_trip(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    files = {"a.txt": b"A", "sub/b.txt": b"B", "sub/deeper/c.bin": b"\x00\x01", "dup": b"A"}
    digest = _put_tree(cache, work, files)
    assert cache.has(digest)
    assert cache.read_tree(digest) == {
        rel: HASHER.bytes_digest(data) for rel, data in files.items()
    }
    used = cache.materialize(digest, work / "restored", ALL_MODES)
    assert used in ALL_MODES
    restored = {
        p.relative_to(work / "restored").as_posix(): p.read_bytes()
        for p in (work / "restored").rglob("*")
        if p.is_file()
    }
    assert restored == files
    assert cache.verify(digest)


def test_empty_tree_round_trip(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    digest = _put_tree(cache, work, {})
    assert cache.read_tree(digest) == {}
    cache.materialize(digest, work / "restored", (LinkMode.COPY,))
    assert list((work / "restored").iterdir()) == []


def test_tree_with_missing_member_is_a_cache_miss(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put_tree(cache, work, {"a": b"A", "b": b"B"})
    cache.remove(HASHER.bytes_digest(b"B"))
    with pytest.raises(errors.CacheMissError, match=HASHER.bytes_digest(b"B")):
        cache.materialize(digest, work / "restored", (LinkMode.COPY,))
    assert not (work / "restored").exists()
    assert not cache.verify(digest)


def test_read_tree_of_unknown_digest_is_a_cache_miss(
    cache: content_cache.ContentCache,
) -> None:
    with pytest.raises(errors.CacheMissError):
        cache.read_tree(HASHER.tree_digest([("x", "y")]))


def test_put_tree_requires_a_directory_digest(cache: content_cache.ContentCache) -> None:
    with pytest.raises(ValueError, match=".dir"):
        cache.put_tree({}, HASHER.bytes_digest(b""))


def test_iter_digests_lists_files_and_trees(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    assert list(cache.iter_digests()) == []
    one = _put(cache, work / "one", b"1")
    tree = _put_tree(cache, work, {"x": b"X"})
    assert set(cache.iter_digests()) == {one, tree, HASHER.bytes_digest(b"X")}


def test_remove_forgets_the_object(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    digest = _put(cache, work / "one", b"1")
    cache.remove(digest)
    assert not cache.has(digest)
    assert list(cache.iter_digests()) == []
    cache.remove(digest)


def test_verify_detects_a_good_object(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    assert cache.verify(_put(cache, work / "one", b"1"))


def test_verify_of_absent_object_is_a_cache_miss(cache: content_cache.ContentCache) -> None:
    with pytest.raises(errors.CacheMissError):
        cache.verify(HASHER.bytes_digest(b"absent"))
    with pytest.raises(errors.CacheMissError):
        cache.verify(HASHER.bytes_digest(b"absent"), rehash=False)


def test_cheap_check_passes_intact_objects_without_reading_them(
    cache: content_cache.ContentCache, work: pathlib.Path, progress: RecordingProgress
) -> None:
    tree = _put_tree(cache, work, {"a.txt": b"AA", "sub/b.txt": b"BBB"})
    assert cache.verify(_put(cache, work / "one", b"1"), progress, rehash=False)
    assert cache.verify(tree, progress, rehash=False)
    assert progress.nbytes == 0


def test_cheap_check_fails_a_tree_with_a_lost_member(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    tree = _put_tree(cache, work, {"a.txt": b"AA", "b.txt": b"BBB"})
    cache.remove(HASHER.bytes_digest(b"BBB"))
    assert not cache.verify(tree, rehash=False)


def test_cache_is_picklable_and_the_copy_sees_the_same_objects(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "one", b"1")
    clone: content_cache.ContentCache = pickle.loads(pickle.dumps(cache))
    assert clone.has(digest)


def test_size_is_the_object_byte_count(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.bin", b"12345")

    assert cache.size(digest) == 5
    with pytest.raises(errors.CacheMissError):
        cache.size("ab" * 16)


def test_quarantine_removes_the_object_from_service(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = _put(cache, work / "a.bin", b"abc")

    cache.quarantine(digest)

    assert not cache.has(digest)
    assert digest not in set(cache.iter_digests())
    with pytest.raises(errors.CacheMissError):
        cache.materialize(digest, work / "out.bin", (LinkMode.COPY,))


def test_open_streams_stored_bytes(cache: content_cache.ContentCache, work: pathlib.Path) -> None:
    digest = _put(cache, work / "a.txt", b"payload")

    with cache.open(digest) as f:
        assert f.read() == b"payload"


def test_receive_stores_matching_bytes_and_manifests(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    data = b"x" * 3_000_000
    digest = HASHER.bytes_digest(data)
    tree = _put_tree(cache, work, {"a.txt": b"a", "sub/b.txt": b"b"})
    with cache.open(tree) as f:
        manifest_bytes = f.read()
    cache.remove(tree)

    cache.receive(digest, [data[:1000], data[1000:]])
    cache.receive(tree, [manifest_bytes])

    assert cache.verify(digest)
    assert cache.read_tree(tree) == {
        "a.txt": HASHER.bytes_digest(b"a"),
        "sub/b.txt": HASHER.bytes_digest(b"b"),
    }


def test_receive_rejects_bytes_that_do_not_match(cache: content_cache.ContentCache) -> None:
    digest = HASHER.bytes_digest(b"the real content")
    tree = HASHER.tree_digest([("a.txt", digest)])

    with pytest.raises(errors.CacheCorruptError, match=digest):
        cache.receive(digest, [b"flipped bytes"])
    with pytest.raises(errors.CacheCorruptError, match=digest):
        cache.receive(digest, [b"the real", b" content, and more"])
    with pytest.raises(errors.CacheCorruptError, match="not stored"):
        cache.receive(tree, [b'{"a.txt":"0000"}'])

    assert not cache.has(digest)
    assert not cache.has(tree)
    assert list(cache.iter_digests()) == []


def test_materialize_and_verify_report_progress(
    cache: content_cache.ContentCache, work: pathlib.Path, progress: RecordingProgress
) -> None:
    files = {"a.txt": b"AA", "sub/b.txt": b"BBB", "dup": b"AA"}
    digest = _put_tree(cache, work, files)

    cache.materialize(digest, work / "restored", ALL_MODES, progress)
    placed = progress.files
    assert cache.verify(digest, progress)

    assert placed == 3
    # Identical members are one object, re-hashed once.
    assert progress.nbytes == 5


def test_storing_reports_every_byte_stored_or_already_there(
    cache: content_cache.ContentCache, work: pathlib.Path, progress: RecordingProgress
) -> None:
    big = work / "big.bin"
    big.write_bytes(b"x" * (3 << 20))
    members = {
        work / "m" / f"{i}.txt": f"member {i}".encode() for i in range(100)
    }  # above the threaded threshold
    for path, data in members.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    batch = {str(p): HASHER.file_digest(p) for p in members}
    cache.put_file(work / "m" / "0.txt", batch[str(work / "m" / "0.txt")])  # already there

    cache.put_file(big, HASHER.file_digest(big), progress=progress)
    cache.put_files(batch, progress)

    assert progress.nbytes == (3 << 20) + sum(len(d) for d in members.values())
    assert all(cache.has(d) for d in batch.values())


_LARGE = 9 << 20
"""Larger than any threshold below which a cache copies instead of linking."""


def _lent(work: pathlib.Path, data: bytes, mode: int = 0o444) -> tuple[str, pathlib.Path]:
    """A file of another store (a directory remote's object): its digest and path."""
    path = work / "remote" / "object"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return HASHER.bytes_digest(data), path


def test_adopt_stores_the_object_or_nothing(
    cache: content_cache.ContentCache, work: pathlib.Path, progress: RecordingProgress
) -> None:
    data = bytes(range(256)) * (_LARGE // 256)
    digest, path = _lent(work, data)

    adopted = cache.adopt(digest, str(path), progress)

    assert cache.has(digest) is adopted
    if adopted:
        with cache.open(digest) as f:
            assert f.read() == data
        assert cache.verify(digest, rehash=False)
        assert progress.nbytes == len(data)  # re-hashed before it was stored
    assert path.read_bytes() == data


def test_adopt_never_stores_a_file_that_does_not_match(
    cache: content_cache.ContentCache, work: pathlib.Path
) -> None:
    digest = HASHER.bytes_digest(b"x" * _LARGE)
    _, path = _lent(work, b"y" * _LARGE)

    with contextlib.suppress(errors.CacheCorruptError):  # the local cache says so; memory declines
        cache.adopt(digest, str(path))

    assert not cache.has(digest)
    assert list(cache.iter_digests()) == []
