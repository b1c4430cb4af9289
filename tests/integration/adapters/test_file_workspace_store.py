import os
import pathlib

import pytest

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.workspace import file_workspace_store
from pivot.domain import errors
from pivot.ports import content_cache, workspace_store

HASHER = xxh3_hasher.Xxh3Hasher()
LinkMode = content_cache.LinkMode


@pytest.fixture
def cache(tmp_path: pathlib.Path) -> local_content_cache.LocalContentCache:
    return local_content_cache.LocalContentCache(tmp_path / ".pivot" / "cache", HASHER)


@pytest.fixture
def ws(
    cache: local_content_cache.LocalContentCache, tmp_path: pathlib.Path
) -> workspace_store.WorkspaceStore:
    return file_workspace_store.FileWorkspaceStore(cache)


def _blob(cache: content_cache.ContentCache, tmp_path: pathlib.Path, data: bytes) -> str:
    src = tmp_path / "staging" / HASHER.bytes_digest(data)
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    digest = HASHER.file_digest(src)
    cache.put_file(src, digest)
    return digest


def _tree(
    cache: content_cache.ContentCache, tmp_path: pathlib.Path, files: dict[str, bytes]
) -> str:
    manifest = {rel: _blob(cache, tmp_path, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    cache.put_tree(manifest, digest)
    return digest


def _snapshot(path: pathlib.Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _siblings(path: pathlib.Path) -> list[str]:
    return sorted(os.listdir(path.parent))


def test_restore_file_into_missing_parents(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    digest = _blob(cache, tmp_path, b"model bytes")
    target = tmp_path / "models" / "model.pkl"
    assert ws.restore(target, digest) is LinkMode.COPY  # reflink where the filesystem has it
    assert target.read_bytes() == b"model bytes"
    assert _siblings(target) == ["model.pkl"]


def test_restore_replaces_an_existing_file(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    digest = _blob(cache, tmp_path, b"cached")
    target = tmp_path / "metrics.json"
    target.write_bytes(b"edited by hand")
    assert ws.restore(target, digest, (LinkMode.COPY,)) is LinkMode.COPY
    assert target.read_bytes() == b"cached"
    assert "metrics.json" in _siblings(target)
    assert not [n for n in _siblings(target) if n.startswith(".metrics.json")]


def test_restore_replaces_a_symlink_not_its_target(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    digest = _blob(cache, tmp_path, b"cached")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"do not touch")
    target = tmp_path / "metrics.json"
    target.symlink_to(elsewhere)
    ws.restore(target, digest, (LinkMode.COPY,))
    assert not target.is_symlink()
    assert target.read_bytes() == b"cached"
    assert elsewhere.read_bytes() == b"do not touch"


def test_restore_directory_over_an_existing_directory(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    digest = _tree(cache, tmp_path, {"a.csv": b"A", "part/b.csv": b"B"})
    target = tmp_path / "data" / "clean"
    (target / "stale").mkdir(parents=True)
    (target / "stale" / "old.csv").write_bytes(b"old")
    (target / "a.csv").write_bytes(b"edited")
    ws.restore(target, digest)
    assert _snapshot(target) == {"a.csv": b"A", "part/b.csv": b"B"}
    assert _siblings(target) == ["clean"]


def test_restore_directory_over_a_file_and_back(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    tree = _tree(cache, tmp_path, {"x": b"X"})
    blob = _blob(cache, tmp_path, b"single")
    target = tmp_path / "data" / "clean"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"a file where a directory belongs")
    ws.restore(target, tree, (LinkMode.COPY,))
    assert _snapshot(target) == {"x": b"X"}
    ws.restore(target, blob, (LinkMode.COPY,))
    assert target.read_bytes() == b"single"
    assert _siblings(target) == ["clean"]


def test_failed_restore_keeps_the_old_output_and_no_temp(
    ws: workspace_store.WorkspaceStore, tmp_path: pathlib.Path
) -> None:
    target = tmp_path / "metrics.json"
    target.write_bytes(b"current")
    with pytest.raises(errors.CacheMissError):
        ws.restore(target, HASHER.bytes_digest(b"never cached"))
    assert target.read_bytes() == b"current"
    assert _siblings(target) == ["metrics.json"]


def test_restored_hardlink_is_protected_copy_is_writable(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    digest = _blob(cache, tmp_path, b"payload")
    linked = tmp_path / "linked"
    copied = tmp_path / "copied"
    ws.restore(linked, digest, (LinkMode.HARDLINK,))
    ws.restore(copied, digest, (LinkMode.COPY,))
    assert linked.stat().st_mode & 0o777 == 0o444
    assert copied.stat().st_mode & 0o777 == 0o644


def test_remove_file_directory_and_absent(
    ws: workspace_store.WorkspaceStore,
    cache: local_content_cache.LocalContentCache,
    tmp_path: pathlib.Path,
) -> None:
    tree = _tree(cache, tmp_path, {"sub/x": b"X"})
    directory = tmp_path / "data" / "clean"
    ws.restore(directory, tree)
    file = tmp_path / "metrics.json"
    file.write_bytes(b"m")
    ws.remove(directory)
    ws.remove(file)
    ws.remove(tmp_path / "never-existed")
    assert not directory.exists()
    assert not file.exists()
    assert cache.verify(tree)


def _files(root: pathlib.Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_scan_lists_files_sorted_with_one_stat_each_and_skips_linked_dirs(
    tmp_path: pathlib.Path, cache: local_content_cache.LocalContentCache
) -> None:
    root = tmp_path / "data"
    _files(root, {"b.txt": b"bb", "a/z.txt": b"z", "a.txt": b"a", "a/b/c.txt": b"ccc"})
    os.symlink(root / "a", root / "linked-dir")
    os.symlink(root / "b.txt", root / "linked-file")

    found = file_workspace_store.FileWorkspaceStore(cache).scan(root)

    assert [rel for rel, _, _ in found] == [
        "a.txt",
        "a/b/c.txt",
        "a/z.txt",
        "b.txt",
        "linked-file",
    ]
    for rel, path, st in found:
        assert path == os.path.join(root, *rel.split("/"))
        assert st.st_size == os.stat(path).st_size
