import pathlib
import pickle

import pytest
from tests.fakes.progress import RecordingProgress

from pivot.adapters.hashing import xxh3_hasher
from pivot.ports import hasher


@pytest.fixture(params=[xxh3_hasher.Xxh3Hasher], ids=["xxh3"])
def h(request: pytest.FixtureRequest) -> hasher.Hasher:
    return request.param()


def _file(tmp_path: pathlib.Path, name: str, data: bytes) -> pathlib.Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data", [b"", b"hello pivot\n", bytes(range(256)) * 5000])
def test_file_and_bytes_digests_agree_and_look_like_digests(
    h: hasher.Hasher, tmp_path: pathlib.Path, data: bytes
) -> None:
    path = _file(tmp_path, "f", data)
    digest = h.file_digest(path)
    assert digest == h.bytes_digest(data)
    assert digest == h.file_digest(str(path))
    assert hasher.DIGEST.fullmatch(digest)
    assert not digest.endswith(hasher.DIR_SUFFIX)


def test_stream_digest_equals_bytes_digest_of_the_whole(h: hasher.Hasher) -> None:
    data = bytes(range(256)) * 12_000

    pieces = (data[i : i + 65_537] for i in range(0, len(data), 65_537))

    assert h.stream_digest(pieces) == h.bytes_digest(data)
    assert h.stream_digest([]) == h.bytes_digest(b"")


def test_different_content_different_digest(h: hasher.Hasher) -> None:
    assert h.bytes_digest(b"a") != h.bytes_digest(b"b")
    assert h.bytes_digest(b"ab") != h.bytes_digest(b"ab\0")


def test_file_digest_reports_the_bytes_read(h: hasher.Hasher, tmp_path: pathlib.Path) -> None:
    progress = RecordingProgress()
    h.file_digest(_file(tmp_path, "f", b"x" * 3000), progress)
    assert progress.nbytes == 3000


def test_missing_file_raises_file_not_found(h: hasher.Hasher, tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        h.file_digest(tmp_path / "absent")


def test_tree_digest_names_a_directory_and_depends_on_every_entry(h: hasher.Hasher) -> None:
    a, b = h.bytes_digest(b"a"), h.bytes_digest(b"b")
    tree = h.tree_digest([("x.txt", a), ("y/z.txt", b)])
    assert tree.endswith(hasher.DIR_SUFFIX)
    assert hasher.DIGEST.fullmatch(tree)
    assert tree == h.tree_digest(iter([("x.txt", a), ("y/z.txt", b)]))
    assert tree != h.tree_digest([("x.txt", b), ("y/z.txt", a)])
    assert tree != h.tree_digest([("x.txt", a), ("y/w.txt", b)])
    assert tree != h.tree_digest([("x.txt", a)])
    assert h.tree_digest([]).endswith(hasher.DIR_SUFFIX)


def test_survives_pickling_for_workers(h: hasher.Hasher, tmp_path: pathlib.Path) -> None:
    path = _file(tmp_path, "f", b"sent to a worker")
    clone: hasher.Hasher = pickle.loads(pickle.dumps(h))
    assert clone.file_digest(path) == h.file_digest(path)
