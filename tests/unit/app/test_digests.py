import pathlib

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import digests
from pivot.ports import progress as progress_port


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


class _MemoOnly(xxh3_hasher.Xxh3Hasher):
    """Digests directories, but fails on any file it would have to read."""

    def file_digest(
        self, path: pathlib.Path | str, progress: progress_port.Progress = progress_port.NULL
    ) -> str:
        raise AssertionError(f"re-read {path}")


def test_a_restored_directory_is_memoised_under_the_names_its_scan_gives(
    tmp_path: pathlib.Path,
) -> None:
    root = tmp_path / "data"
    _files(root, {"a.txt": b"aa", "sub/deeper/b.txt": b"bbb"})
    hasher = xxh3_hasher.Xxh3Hasher()
    manifest = {rel: hasher.file_digest(root / rel) for rel in ("a.txt", "sub/deeper/b.txt")}
    digest = hasher.tree_digest(manifest.items())
    state = state_store.MemoryStateStore()
    workspace = file_workspace_store.FileWorkspaceStore(content_cache.MemoryContentCache())
    restored = digests.DigestService(state, hasher, workspace)

    restored.remember_restored(root, digest, manifest)
    restored.flush()

    assert digests.DigestService(state, _MemoOnly(), workspace).tree(root) == (digest, manifest)
