import pathlib

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import digests


def _files(root: pathlib.Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_tree_with_size_sums_the_file_sizes(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "data"
    _files(root, {"a.txt": b"aa", "sub/b.txt": b"bbb"})
    service = digests.DigestService(
        state_store.MemoryStateStore(),
        xxh3_hasher.Xxh3Hasher(),
        file_workspace_store.FileWorkspaceStore(content_cache.MemoryContentCache()),
    )

    digest, manifest, size = service.tree_with_size(root)

    assert (digest, manifest) == service.tree(root)
    assert sorted(manifest) == ["a.txt", "sub/b.txt"]
    assert size == 5
