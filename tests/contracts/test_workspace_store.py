import pathlib
from collections.abc import Callable

import pytest

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache as memory_content_cache
from pivot.adapters.memory import workspace_store as memory_workspace_store
from pivot.adapters.workspace import file_workspace_store
from pivot.domain import errors
from pivot.ports import content_cache, state_store, workspace_store

HASHER = xxh3_hasher.Xxh3Hasher()
LinkMode = content_cache.LinkMode

World = tuple[workspace_store.WorkspaceStore, content_cache.ContentCache]


def _file_world(tmp_path: pathlib.Path) -> World:
    cache = local_content_cache.LocalContentCache(tmp_path / "cache", HASHER)
    return file_workspace_store.FileWorkspaceStore(cache), cache


def _memory_world(tmp_path: pathlib.Path) -> World:
    cache = memory_content_cache.MemoryContentCache()
    return memory_workspace_store.MemoryWorkspaceStore(cache), cache


@pytest.fixture(params=[_file_world, _memory_world], ids=["file", "memory"])
def world(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> World:
    make: Callable[[pathlib.Path], World] = request.param
    return make(tmp_path)


@pytest.fixture
def ws(world: World) -> workspace_store.WorkspaceStore:
    return world[0]


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "project"


def _blob(world: World, tmp_path: pathlib.Path, data: bytes) -> str:
    src = tmp_path / "staging" / HASHER.bytes_digest(data)
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    digest = HASHER.file_digest(src)
    world[1].put_file(src, digest)
    return digest


def _tree(world: World, tmp_path: pathlib.Path, files: dict[str, bytes]) -> str:
    manifest = {rel: _blob(world, tmp_path, data) for rel, data in files.items()}
    digest = HASHER.tree_digest(manifest.items())
    world[1].put_tree(manifest, digest)
    return digest


def _contents(ws: workspace_store.WorkspaceStore, path: pathlib.Path) -> dict[str, bytes]:
    return {rel: ws.read_bytes(p) for rel, p, _ in ws.scan(path)}


def test_write_atomic_creates_parents_and_replaces(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    path = root / "a" / "b" / "x.pvt"
    ws.write_atomic(path, b"one")
    ws.write_atomic(path, b"second")
    assert ws.read_bytes(path) == b"second"
    assert ws.read_bytes(str(path)) == b"second"
    assert ws.is_dir(root / "a" / "b")


def test_read_of_an_absent_file_raises(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    with pytest.raises(FileNotFoundError):
        ws.read_bytes(root / "nothing")


def test_stat_sizes_and_a_rewrite_changes_the_stamp(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    path = root / "data.csv"
    ws.write_atomic(path, b"12345")
    first = ws.stat(path)
    assert first.st_size == 5
    ws.write_atomic(path, b"54321")
    assert state_store.FileStamp.of(ws.stat(str(path))) != state_store.FileStamp.of(first)
    with pytest.raises(FileNotFoundError):
        ws.stat(root / "absent")


def test_exists_and_is_dir(ws: workspace_store.WorkspaceStore, root: pathlib.Path) -> None:
    ws.write_atomic(root / "d" / "f", b"x")
    assert ws.exists(root / "d")
    assert ws.is_dir(root / "d")
    assert ws.exists(root / "d" / "f")
    assert not ws.is_dir(root / "d" / "f")
    assert not ws.exists(root / "e")
    assert not ws.is_dir(root / "e")


def test_scan_lists_every_file_sorted_with_its_size(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    for rel, data in {"b.txt": b"bb", "a/z.txt": b"z", "a/b/c.txt": b"ccc", "a.txt": b""}.items():
        ws.write_atomic(root.joinpath(*rel.split("/")), data)
    ws.make_dirs(root / "empty")
    found = ws.scan(root)
    assert [rel for rel, _, _ in found] == ["a.txt", "a/b/c.txt", "a/z.txt", "b.txt"]
    assert [st.st_size for _, _, st in found] == [0, 3, 1, 2]
    assert [pathlib.Path(p) for _, p, _ in found] == [
        root / "a.txt",
        root / "a" / "b" / "c.txt",
        root / "a" / "z.txt",
        root / "b.txt",
    ]
    assert ws.scan(root / "empty") == []


def test_walk_is_top_down_and_honours_pruning(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    for rel in ("top.txt", "keep/k.txt", "keep/inner/i.txt", "skip/s.txt"):
        ws.write_atomic(root.joinpath(*rel.split("/")), b"x")
    seen: list[tuple[str, list[str]]] = []
    for here, dirnames, filenames in ws.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "skip")
        seen.append((pathlib.Path(here).relative_to(root).as_posix(), sorted(filenames)))
    assert seen == [(".", ["top.txt"]), ("keep", ["k.txt"]), ("keep/inner", ["i.txt"])]


def test_walk_of_an_absent_directory_yields_nothing(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    assert list(ws.walk(root / "absent")) == []


def test_remove_deletes_files_and_trees_and_ignores_absence(
    ws: workspace_store.WorkspaceStore, root: pathlib.Path
) -> None:
    ws.write_atomic(root / "tree" / "sub" / "f", b"x")
    ws.write_atomic(root / "file", b"x")
    ws.write_atomic(root / "tree-sibling", b"kept")
    ws.remove(root / "tree")
    ws.remove(root / "file")
    ws.remove(root / "never-there")
    assert not ws.exists(root / "tree")
    assert not ws.exists(root / "tree" / "sub" / "f")
    assert not ws.exists(root / "file")
    assert ws.read_bytes(root / "tree-sibling") == b"kept"


def test_restore_a_file_into_missing_parents(
    world: World, tmp_path: pathlib.Path, root: pathlib.Path
) -> None:
    ws = world[0]
    digest = _blob(world, tmp_path, b"model bytes")
    used = ws.restore(root / "models" / "m.pkl", digest, (LinkMode.COPY,))
    assert used is LinkMode.COPY
    assert ws.read_bytes(root / "models" / "m.pkl") == b"model bytes"


def test_restore_a_directory_over_a_file_and_back(
    world: World, tmp_path: pathlib.Path, root: pathlib.Path
) -> None:
    ws = world[0]
    tree = _tree(world, tmp_path, {"a.txt": b"A", "sub/b.txt": b"B"})
    blob = _blob(world, tmp_path, b"plain")
    target = root / "out"
    ws.write_atomic(target, b"old file")
    ws.restore(target, tree, (LinkMode.COPY,))
    assert _contents(ws, target) == {"a.txt": b"A", "sub/b.txt": b"B"}
    ws.write_atomic(target / "stray.txt", b"left behind by a stage")
    ws.restore(target, tree, (LinkMode.COPY,))
    assert _contents(ws, target) == {"a.txt": b"A", "sub/b.txt": b"B"}
    ws.restore(target, blob, (LinkMode.COPY,))
    assert not ws.is_dir(target)
    assert ws.read_bytes(target) == b"plain"


def test_restore_of_a_missing_object_leaves_the_path_alone(
    world: World, root: pathlib.Path
) -> None:
    ws = world[0]
    ws.write_atomic(root / "kept", b"as it was")
    with pytest.raises(errors.CacheMissError):
        ws.restore(root / "kept", "0" * 32, (LinkMode.COPY,))
    assert ws.read_bytes(root / "kept") == b"as it was"


def test_make_private_keeps_content_on_a_fresh_file(
    world: World, tmp_path: pathlib.Path, root: pathlib.Path
) -> None:
    ws = world[0]
    digest = _blob(world, tmp_path, b"shared")
    tree = _tree(world, tmp_path, {"x": b"1", "y/z": b"2"})
    ws.restore(root / "f", digest, (LinkMode.HARDLINK, LinkMode.COPY))
    ws.restore(root / "d", tree, (LinkMode.HARDLINK, LinkMode.COPY))
    before = ws.stat(root / "f").st_ino
    ws.make_private(root / "f")
    ws.make_private(root / "d")
    assert ws.read_bytes(root / "f") == b"shared"
    assert ws.stat(root / "f").st_ino != before
    assert _contents(ws, root / "d") == {"x": b"1", "y/z": b"2"}


def test_make_dirs_is_idempotent(ws: workspace_store.WorkspaceStore, root: pathlib.Path) -> None:
    ws.make_dirs(root / "a" / "b")
    ws.make_dirs(root / "a" / "b")
    assert ws.is_dir(root / "a" / "b")
    assert ws.scan(root) == []


def test_temporary_directory_is_empty_and_gone_afterwards(
    ws: workspace_store.WorkspaceStore,
) -> None:
    with ws.temporary_directory() as scratch:
        assert ws.is_dir(scratch)
        assert ws.scan(scratch) == []
        ws.write_atomic(scratch / "sub" / "f", b"x")
    assert not ws.exists(scratch)
