import json
import os
import pathlib
import pickle
import stat
import subprocess
import sys
import tempfile
import threading

import pytest

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.domain import errors
from pivot.ports import content_cache

HASHER = xxh3_hasher.Xxh3Hasher()
LinkMode = content_cache.LinkMode


@pytest.fixture
def cache(tmp_path: pathlib.Path) -> local_content_cache.LocalContentCache:
    return local_content_cache.LocalContentCache(tmp_path / "cache", HASHER)


def _put(cache: local_content_cache.LocalContentCache, path: pathlib.Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digest = HASHER.file_digest(path)
    cache.put_file(path, digest)
    return digest


def _mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_objects_use_a_two_character_fan_out(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    expected = tmp_path / "cache" / "files" / digest[:2] / digest[2:]
    assert expected.read_bytes() == b"hello"
    assert cache.object_path(digest) == expected
    assert os.listdir(expected.parent) == [digest[2:]]


def test_stored_blob_is_read_only(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    assert _mode(cache.object_path(digest)) == 0o444


def test_existing_object_is_never_overwritten(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    before = cache.object_path(digest).stat()
    (tmp_path / "b").write_bytes(b"impostor")
    cache.put_file(tmp_path / "b", digest)
    after = cache.object_path(digest).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert cache.object_path(digest).read_bytes() == b"hello"


def test_hardlink_shares_the_object_inode(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    used = cache.materialize(digest, tmp_path / "out", (LinkMode.HARDLINK, LinkMode.COPY))
    assert used is LinkMode.HARDLINK
    assert (tmp_path / "out").stat().st_ino == cache.object_path(digest).stat().st_ino


def test_copy_is_a_separate_writable_file(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    assert cache.materialize(digest, tmp_path / "out", (LinkMode.COPY,)) is LinkMode.COPY
    out = tmp_path / "out"
    assert out.stat().st_ino != cache.object_path(digest).stat().st_ino
    assert _mode(out) == 0o644
    assert not out.is_symlink()


def test_symlink_points_at_the_object(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    assert cache.materialize(digest, tmp_path / "out", (LinkMode.SYMLINK,)) is LinkMode.SYMLINK
    out = tmp_path / "out"
    assert out.is_symlink()
    assert out.resolve() == cache.object_path(digest).resolve()


def test_hardlink_across_devices_falls_back_to_the_next_mode(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    shm = pathlib.Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    digest = _put(cache, tmp_path / "a", b"hello")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        dest = pathlib.Path(other) / "out"
        used = cache.materialize(digest, dest, (LinkMode.HARDLINK, LinkMode.COPY))
        assert used is LinkMode.COPY
        assert dest.read_bytes() == b"hello"


@pytest.mark.parametrize("mode", [LinkMode.COPY, LinkMode.HARDLINK, LinkMode.SYMLINK])
def test_large_directory_is_placed_whole_in_every_mode(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, mode: LinkMode
) -> None:
    files = {f"d{i % 7}/sub{i % 3}/f{i}.txt": f"file {i % 90}".encode() for i in range(150)}
    manifest = {rel: _put(cache, tmp_path / "src" / rel, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)

    used = cache.materialize(digest, tmp_path / "out", (mode,))

    assert used is mode
    placed = {
        p.relative_to(tmp_path / "out").as_posix(): p.read_bytes()
        for p in (tmp_path / "out").rglob("*")
        if not p.is_dir()
    }
    assert placed == files
    if mode is LinkMode.COPY:
        assert all(_mode(tmp_path / "out" / rel) == 0o644 for rel in files)


@pytest.mark.parametrize("mode", [LinkMode.COPY, LinkMode.HARDLINK, LinkMode.SYMLINK])
@pytest.mark.parametrize("flat", [True, False], ids=["one-directory", "nested"])
def test_large_directory_with_a_lost_member_is_a_cache_miss_and_leaves_nothing(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, mode: LinkMode, flat: bool
) -> None:
    files = {
        (f"f{i}.txt" if flat else f"d{i % 9}/f{i}.txt"): f"file {i}".encode() for i in range(300)
    }
    manifest = {rel: _put(cache, tmp_path / "src" / rel, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)
    lost = manifest[sorted(files)[211]]
    cache.remove(lost)

    with pytest.raises(errors.CacheMissError, match=lost):
        cache.materialize(digest, tmp_path / "out", (mode,))

    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("umask", [0o077, 0o022, 0o000])
def test_copies_are_writable_by_their_owner_and_readable_whatever_the_umask(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, umask: int
) -> None:
    files = {f"d{i % 3}/f{i}.txt": f"file {i}".encode() for i in range(100)}
    manifest = {rel: _put(cache, tmp_path / "src" / rel, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)
    single = manifest["d0/f0.txt"]

    previous = os.umask(umask)
    try:
        cache.materialize(digest, tmp_path / "tree", (LinkMode.COPY,))
        cache.materialize(single, tmp_path / "single", (LinkMode.COPY,))
    finally:
        os.umask(previous)

    assert {_mode(tmp_path / "tree" / rel) for rel in files} == {0o644}
    assert _mode(tmp_path / "single") == 0o644


def test_directory_round_trip_with_hardlinks(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    files = {"a.txt": b"A", "sub/b.txt": b"B"}
    manifest = {rel: _put(cache, tmp_path / "src" / rel, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)
    assert _mode(cache.object_path(digest)) == 0o444
    assert cache.read_tree(digest) == manifest
    used = cache.materialize(digest, tmp_path / "out", (LinkMode.HARDLINK, LinkMode.COPY))
    assert used is LinkMode.HARDLINK
    for rel, member in manifest.items():
        restored = tmp_path / "out" / rel
        assert restored.read_bytes() == files[rel]
        assert restored.stat().st_ino == cache.object_path(member).stat().st_ino


def _rot(path: pathlib.Path) -> None:
    path.chmod(0o644)
    path.write_bytes(b"bit rot")


def test_corrupted_blob_fails_verify_and_the_cheap_check(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    edited_in_place = _put(cache, tmp_path / "a", b"hello")
    _rot(cache.object_path(edited_in_place))
    assert not cache.verify(edited_in_place)
    assert not cache.verify(edited_in_place, rehash=False)


def test_cheap_check_rehashes_objects_shared_by_a_hard_link(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    through_a_link = _put(cache, tmp_path / "b", b"linked")
    cache.materialize(through_a_link, tmp_path / "workspace", (LinkMode.HARDLINK,))
    (tmp_path / "workspace").chmod(0o644)
    (tmp_path / "workspace").write_bytes(b"edited")
    (tmp_path / "workspace").chmod(0o444)
    assert not cache.verify(through_a_link, rehash=False)


def test_cheap_check_trusts_a_read_only_unshared_object(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    _rot(cache.object_path(digest))
    cache.object_path(digest).chmod(0o444)
    assert cache.verify(digest, rehash=False)  # silent corruption: only a re-hash sees it
    assert not cache.verify(digest)


def test_corrupted_member_fails_tree_verify(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    member = _put(cache, tmp_path / "a", b"A")
    digest = HASHER.tree_digest([("a", member)])
    cache.put_tree({"a": member}, digest)
    assert cache.verify(digest)
    _rot(cache.object_path(member))
    assert not cache.verify(digest)


def test_manifest_that_is_not_json_is_reported_corrupt(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = HASHER.tree_digest([])
    cache.put_tree({}, digest)
    obj = cache.object_path(digest)
    obj.chmod(0o644)
    obj.write_text("{not json")
    with pytest.raises(errors.CacheCorruptError, match=digest):
        cache.read_tree(digest)
    assert not cache.verify(digest)


def test_manifest_escaping_the_destination_is_rejected(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    member = _put(cache, tmp_path / "a", b"A")
    manifest = {"../escape": member}
    with pytest.raises(errors.CacheCorruptError, match="escape"):
        cache.put_tree(manifest, HASHER.tree_digest(manifest.items()))


def test_manifest_tampered_to_escape_is_not_materialized(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    member = _put(cache, tmp_path / "a", b"A")
    digest = HASHER.tree_digest([("ok", member)])
    cache.put_tree({"ok": member}, digest)
    obj = cache.object_path(digest)
    obj.chmod(0o644)
    obj.write_text(f'{{"../../escape": "{member}"}}')
    with pytest.raises(errors.CacheCorruptError):
        cache.materialize(digest, tmp_path / "out" / "d", (LinkMode.COPY,))
    assert not (tmp_path / "escape").exists()


def test_manifest_read_again_reflects_the_object_as_it_is_now(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    member = _put(cache, tmp_path / "a", b"A")
    digest = HASHER.tree_digest([("ok", member)])
    cache.put_tree({"ok": member}, digest)
    first = cache.read_tree(digest)
    first["changed by the caller"] = member
    assert cache.read_tree(digest) == {"ok": member}

    obj = cache.object_path(digest)
    obj.chmod(0o644)
    obj.write_text(f'{{"../../escape": "{member}", "x": "{member}"}}')
    with pytest.raises(errors.CacheCorruptError):
        cache.read_tree(digest)
    cache.remove(digest)
    with pytest.raises(errors.CacheMissError):
        cache.read_tree(digest)


def test_temp_files_are_not_listed_or_left_behind(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    (cache.object_path(digest).parent / ".leftover.pivot-tmp-1234").write_bytes(b"x")
    assert list(cache.iter_digests()) == [digest]
    assert sorted(os.listdir(cache.object_path(digest).parent))[1:] == [digest[2:]]


def _cache_entries(cache: local_content_cache.LocalContentCache) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(top, name), cache.root)
        for top, _, names in os.walk(cache.root)
        for name in names
    )


def test_added_files_are_read_only_objects_and_leave_no_temp_file(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    files = {tmp_path / "src" / f"f{i}": os.urandom(i * 37) for i in range(80)}
    for path, data in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)

    digests = cache.add_files({str(p): len(d) for p, d in files.items()})

    for path, data in files.items():
        stored = cache.object_path(digests[str(path)])
        assert stored.read_bytes() == data
        assert _mode(stored) == 0o444
        assert stored.stat().st_ino != path.stat().st_ino
    assert _cache_entries(cache) == sorted(
        os.path.relpath(cache.object_path(d), cache.root) for d in set(digests.values())
    )


def test_added_objects_are_read_only_whatever_the_umask(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "a").write_bytes(b"private umask")
    old = os.umask(0o077)
    try:
        digests = cache.add_files({str(tmp_path / "a"): 13})
    finally:
        os.umask(old)
    assert _mode(cache.object_path(digests[str(tmp_path / "a")])) == 0o444


def test_adding_an_existing_object_leaves_it_untouched(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"same bytes")
    before = cache.object_path(digest).stat()
    (tmp_path / "b").write_bytes(b"same bytes")

    assert cache.add_files({str(tmp_path / "b"): 10}) == {str(tmp_path / "b"): digest}

    after = cache.object_path(digest).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert os.listdir(cache.object_path(digest).parent) == [digest[2:]]


def test_large_files_are_added_in_chunks_with_the_same_digest(
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(local_content_cache, "_WHOLE_MAX", 1 << 16)
    data = os.urandom((1 << 16) + 1)
    (tmp_path / "big").write_bytes(data)

    digests = cache.add_files({str(tmp_path / "big"): len(data)})

    assert digests == {str(tmp_path / "big"): HASHER.bytes_digest(data)}
    stored = cache.object_path(HASHER.bytes_digest(data))
    assert stored.read_bytes() == data
    assert _mode(stored) == 0o444
    assert _cache_entries(cache) == [os.path.relpath(stored, cache.root)]


def test_adding_a_missing_file_raises_naming_it(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "a").write_bytes(b"here")
    with pytest.raises(FileNotFoundError) as caught:
        cache.add_files({str(tmp_path / "a"): 4, str(tmp_path / "gone"): 4})
    assert caught.value.filename == str(tmp_path / "gone")


def test_remove_deletes_a_read_only_object(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest = _put(cache, tmp_path / "a", b"hello")
    cache.remove(digest)
    assert not cache.object_path(digest).exists()


def test_digest_that_would_escape_the_cache_is_refused(
    cache: local_content_cache.LocalContentCache,
) -> None:
    with pytest.raises(ValueError, match="not a content digest"):
        cache.has("../../etc/passwd")


def test_concurrent_puts_of_the_same_content_leave_one_good_object(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    data = os.urandom(1 << 20)
    src = tmp_path / "src"
    src.write_bytes(data)
    digest = HASHER.file_digest(src)
    threads = [threading.Thread(target=cache.put_file, args=(src, digest)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.verify(digest)
    assert os.listdir(cache.object_path(digest).parent) == [digest[2:]]


def test_unpickled_cache_writes_to_the_same_root(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    clone: local_content_cache.LocalContentCache = pickle.loads(pickle.dumps(cache))
    digest = _put(clone, tmp_path / "a", b"from a worker")
    assert cache.has(digest)


def test_a_received_manifest_rewritten_on_disk_is_checked_again(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    manifest = {
        "a.txt": _put(cache, tmp_path / "a.txt", b"a"),
        "b.txt": _put(cache, tmp_path / "b.txt", b"b"),
    }
    digest = HASHER.tree_digest(manifest.items())
    cache.receive(digest, [json.dumps(manifest, sort_keys=True).encode()])
    assert cache.verify(digest, rehash=False)
    assert cache.read_tree(digest) == manifest

    # An edit in place (root ignores the read-only mode): other bytes, another stamp.
    path = cache.object_path(digest)
    os.chmod(path, 0o644)
    path.write_bytes(json.dumps({"a.txt": manifest["a.txt"]}).encode())
    os.chmod(path, 0o444)

    assert not cache.verify(digest, rehash=False)
    assert cache.read_tree(digest) == {"a.txt": manifest["a.txt"]}


_LARGE = 9 << 20


def _lent(tmp_path: pathlib.Path, data: bytes, mode: int = 0o444) -> tuple[str, pathlib.Path]:
    """A directory remote's object: read-only, on the cache's filesystem."""
    path = tmp_path / "remote" / "files" / "ab" / "cdef"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return HASHER.bytes_digest(data), path


def _leftovers(cache: local_content_cache.LocalContentCache) -> list[str]:
    return [name for _, _, names in os.walk(cache.root) for name in names if name.startswith(".")]


def test_adopt_links_a_large_read_only_file_in_after_hashing_it(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest, lent = _lent(tmp_path, os.urandom(_LARGE))

    assert cache.adopt(digest, str(lent))

    stored = cache.object_path(digest)
    assert stored.stat().st_ino == lent.stat().st_ino
    assert stored.stat().st_nlink == 2
    assert _mode(stored) == 0o444
    assert _leftovers(cache) == []
    assert cache.adopt(digest, str(lent))  # already there: kept, nothing else linked
    assert lent.stat().st_nlink == 2


@pytest.mark.parametrize(
    ("size", "mode"), [(_LARGE, 0o644), (1 << 20, 0o444)], ids=["writable", "small"]
)
def test_adopt_declines_writable_and_small_files(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, size: int, mode: int
) -> None:
    digest, lent = _lent(tmp_path, os.urandom(size), mode)

    assert not cache.adopt(digest, str(lent))
    assert not cache.has(digest)
    assert not cache.adopt(digest, str(tmp_path / "absent"))


def test_adopt_across_filesystems_declines(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    shm = pathlib.Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    with tempfile.TemporaryDirectory(dir=shm) as other:
        digest, lent = _lent(pathlib.Path(other), os.urandom(_LARGE))
        assert not cache.adopt(digest, str(lent))
    assert not cache.has(digest)
    assert _leftovers(cache) == []


@pytest.mark.parametrize("placing", [False, True], ids=["fetch", "pull"])
def test_adopt_of_a_mismatching_file_links_and_prepares_nothing(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, placing: bool
) -> None:
    _, lent = _lent(tmp_path, b"y" * _LARGE)
    digest = HASHER.bytes_digest(b"x" * _LARGE)

    with pytest.raises(errors.CacheCorruptError, match=digest):
        cache.adopt(digest, str(lent), placing=placing)

    assert not cache.has(digest)
    assert _leftovers(cache) == []
    assert lent.stat().st_nlink == 1


def test_an_adopted_object_is_trusted_until_its_inode_changes(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    digest, lent = _lent(tmp_path, os.urandom(_LARGE))
    cache.adopt(digest, str(lent))
    read: list[int] = []

    class Counting:
        def add_total(self, files: int = 0, nbytes: int = 0) -> None:
            pass

        def advance(self, files: int = 0, nbytes: int = 0) -> None:
            read.append(nbytes)

    # Just hashed by this process: the restore after a pull does not read it again...
    assert cache.verify(digest, Counting(), rehash=False)
    assert sum(read) == 0
    # ...but the file is shared with the remote: an edit there is seen (the ctime moved).
    lent.chmod(0o644)
    with lent.open("r+b") as f:
        f.write(b"edited")
    lent.chmod(0o444)
    assert not cache.verify(digest, Counting(), rehash=False)
    assert sum(read) == _LARGE
    fresh = local_content_cache.LocalContentCache(cache.root, HASHER)
    assert not fresh.verify(digest, rehash=False)  # another process re-hashes a shared object


def _copies(cache: local_content_cache.LocalContentCache) -> list[str]:
    return [name for name in _leftovers(cache) if ".pivot-copy-" in name]


def test_adopt_for_a_checkout_prepares_the_copy_the_checkout_takes(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    data = os.urandom(_LARGE)
    digest, lent = _lent(tmp_path, data)

    assert cache.adopt(digest, str(lent), placing=True)
    assert len(_copies(cache)) == 1  # made while the object was re-hashed
    used = cache.materialize(digest, tmp_path / "out", (LinkMode.REFLINK, LinkMode.COPY))

    placed = tmp_path / "out"
    assert used is LinkMode.COPY
    assert placed.read_bytes() == data
    assert placed.stat().st_ino != lent.stat().st_ino
    assert _mode(placed) == 0o644
    assert _leftovers(cache) == []
    # Taken once: the next placement of the same object copies again.
    cache.materialize(digest, tmp_path / "again", (LinkMode.COPY,))
    assert (tmp_path / "again").read_bytes() == data


def _tree_with_adopted(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path, *, placing: bool
) -> tuple[str, bytes, pathlib.Path, str]:
    """A directory of a large object adopted from a remote (`big.bin`) and a small one
    (`small.txt`): its digest, the large bytes, the remote's file, the small object's digest."""
    data = os.urandom(_LARGE)
    digest, lent = _lent(tmp_path, data)
    cache.adopt(digest, str(lent), placing=placing)
    small = _put(cache, tmp_path / "small", b"small")
    tree = HASHER.tree_digest([("big.bin", digest), ("small.txt", small)])
    cache.put_tree({"big.bin": digest, "small.txt": small}, tree)
    return tree, data, lent, small


def test_a_prepared_copy_serves_a_directory_member_too(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    tree, data, _, _ = _tree_with_adopted(cache, tmp_path, placing=True)

    cache.materialize(tree, tmp_path / "dir", (LinkMode.COPY,))

    assert (tmp_path / "dir" / "big.bin").read_bytes() == data
    assert (tmp_path / "dir" / "small.txt").read_bytes() == b"small"
    assert _leftovers(cache) == []


def test_a_prepared_copy_no_checkout_took_is_gone_when_the_process_ends(
    tmp_path: pathlib.Path,
) -> None:
    digest, lent = _lent(tmp_path, os.urandom(_LARGE))
    root = tmp_path / "cache"
    script = (
        "import sys\n"
        "from pivot.adapters.cache import local_content_cache\n"
        "from pivot.adapters.hashing import xxh3_hasher\n"
        "cache = local_content_cache.LocalContentCache(__import__('pathlib').Path(sys.argv[1]),"
        " xxh3_hasher.Xxh3Hasher())\n"
        "assert cache.adopt(sys.argv[2], sys.argv[3], placing=True)\n"
        "print(sum('.pivot-copy-' in n for _, _, ns in __import__('os').walk(sys.argv[1])"
        " for n in ns))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(root), digest, str(lent)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"  # there while the process ran
    cache = local_content_cache.LocalContentCache(root, HASHER)
    assert cache.has(digest)
    assert _leftovers(cache) == []


def _edit_through(path: pathlib.Path) -> None:
    """What a user (or root, who ignores the read-only mode) does to a linked file."""
    os.chmod(path, 0o644)
    with path.open("r+b") as f:
        f.write(b"EDITED")


@pytest.mark.parametrize("placing", [False, True], ids=["fetched", "pulled"])
@pytest.mark.parametrize("mode", [LinkMode.HARDLINK, LinkMode.SYMLINK])
def test_a_workspace_never_shares_an_inode_with_the_remote(
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
    mode: LinkMode,
    placing: bool,
) -> None:
    data = os.urandom(_LARGE)
    digest, lent = _lent(tmp_path, data)
    cache.adopt(digest, str(lent), placing=placing)

    used = cache.materialize(digest, tmp_path / "out", (mode, LinkMode.COPY))
    _edit_through(tmp_path / "out")

    assert used is mode
    assert lent.read_bytes() == data  # the team's copy is untouched
    assert lent.stat().st_nlink == 1
    assert cache.object_path(digest).stat().st_ino != lent.stat().st_ino
    assert _leftovers(cache) == []  # a prepared copy became the object, or none was made
    assert not (cache.root / "shared").exists()


def test_a_copy_keeps_the_adopted_inode_and_a_later_link_unshares_it(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    data = os.urandom(_LARGE)
    digest, lent = _lent(tmp_path, data)
    cache.adopt(digest, str(lent))
    cache.materialize(digest, tmp_path / "copy", (LinkMode.COPY,))
    still_shared = cache.object_path(digest).stat().st_ino == lent.stat().st_ino

    # Another process, the project switched to hard links (`cache.link_modes`, `--mode`).
    later = local_content_cache.LocalContentCache(cache.root, HASHER)
    later.materialize(digest, tmp_path / "linked", (LinkMode.HARDLINK,))
    _edit_through(tmp_path / "linked")

    assert still_shared
    assert lent.read_bytes() == data
    assert (tmp_path / "copy").read_bytes() == data


def test_adopted_members_of_a_directory_are_unshared_before_linking(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> None:
    tree, data, lent, small = _tree_with_adopted(cache, tmp_path, placing=False)

    cache.materialize(tree, tmp_path / "dir", (LinkMode.HARDLINK,))
    _edit_through(tmp_path / "dir" / "big.bin")

    assert lent.read_bytes() == data
    assert (tmp_path / "dir" / "small.txt").stat().st_ino == cache.object_path(small).stat().st_ino
