import os
import pathlib

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import state_store
from pivot.app import digests


def _files(root: pathlib.Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_scan_lists_files_sorted_with_one_stat_each_and_skips_linked_dirs(
    tmp_path: pathlib.Path,
) -> None:
    root = tmp_path / "data"
    _files(root, {"b.txt": b"bb", "a/z.txt": b"z", "a.txt": b"a", "a/b/c.txt": b"ccc"})
    os.symlink(root / "a", root / "linked-dir")
    os.symlink(root / "b.txt", root / "linked-file")

    found = digests.scan_files(root)

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
    assert digests.walk_files(root) == [(rel, pathlib.Path(p)) for rel, p, _ in found]


def test_tree_with_size_sums_the_file_sizes(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "data"
    _files(root, {"a.txt": b"aa", "sub/b.txt": b"bbb"})
    service = digests.DigestService(state_store.MemoryStateStore(), xxh3_hasher.Xxh3Hasher())

    digest, manifest, size = service.tree_with_size(root)

    assert (digest, manifest) == service.tree(root)
    assert sorted(manifest) == ["a.txt", "sub/b.txt"]
    assert size == 5
