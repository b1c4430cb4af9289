import os
import pathlib
import pickle

import pytest
import xxhash
from tests.fakes.progress import RecordingProgress

from pivot.adapters.hashing import xxh3_hasher
from pivot.ports import hasher


@pytest.fixture
def h() -> xxh3_hasher.Xxh3Hasher:
    return xxh3_hasher.Xxh3Hasher()


def test_empty_file_digest_is_xxh3_128_of_no_bytes(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert h.file_digest(path) == xxhash.xxh3_128_hexdigest(b"")
    assert h.file_digest(path) == "99aa06d3014798d86001c324468d497f"


def test_small_file_digest_is_xxh3_128_of_its_bytes(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "small.txt"
    path.write_bytes(b"hello pivot\n")
    assert h.file_digest(path) == xxhash.xxh3_128_hexdigest(b"hello pivot\n")
    assert len(h.file_digest(path)) == 32


@pytest.mark.parametrize(
    "size",
    [
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
        3 * (1 << 20) + 7,
        (4 << 20) + 13,
        9 << 20,
    ],
)
def test_large_files_streamed_or_mapped_match_one_shot_digest(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path, size: int
) -> None:
    data = os.urandom(size)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert h.file_digest(path) == xxhash.xxh3_128_hexdigest(data)


def test_reused_buffer_does_not_leak_between_files(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path
) -> None:
    first = tmp_path / "first"
    second = tmp_path / "second"
    first.write_bytes(b"a" * (3 << 20))
    second.write_bytes(b"b" * ((1 << 20) + 5))
    h.file_digest(first)
    assert h.file_digest(second) == xxhash.xxh3_128_hexdigest(b"b" * ((1 << 20) + 5))


def test_bytes_digest_equals_file_digest(h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"content")
    assert h.bytes_digest(b"content") == h.file_digest(path)


def test_missing_file_raises_file_not_found(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(FileNotFoundError):
        h.file_digest(tmp_path / "nope")


def test_tree_digest_hashes_sorted_lines_and_marks_directories(
    h: xxh3_hasher.Xxh3Hasher,
) -> None:
    entries = [("b/x.txt", "22"), ("a.txt", "11")]
    expected = xxhash.xxh3_128_hexdigest(b"a.txt\x0011\nb/x.txt\x0022\n") + hasher.DIR_SUFFIX
    assert h.tree_digest(entries) == expected
    assert h.tree_digest(reversed(entries)) == expected


def test_tree_digest_of_empty_directory_is_stable(h: xxh3_hasher.Xxh3Hasher) -> None:
    assert h.tree_digest([]) == xxhash.xxh3_128_hexdigest(b"") + hasher.DIR_SUFFIX


def test_tree_digest_depends_on_paths_and_digests(h: xxh3_hasher.Xxh3Hasher) -> None:
    base = h.tree_digest([("a", "11")])
    assert h.tree_digest([("b", "11")]) != base
    assert h.tree_digest([("a", "12")]) != base


def test_hasher_is_picklable(h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    clone = pickle.loads(pickle.dumps(h))
    assert clone.file_digest(path) == h.file_digest(path)


def test_satisfies_the_hasher_port() -> None:
    port: hasher.Hasher = xxh3_hasher.Xxh3Hasher()
    assert port.tree_digest([]).endswith(hasher.DIR_SUFFIX)


def test_a_file_larger_than_one_map_window_is_hashed_window_by_window(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of 4 MiB over a 10.5 MiB file: two whole windows, a partial one, no gap or overlap.
    monkeypatch.setattr(xxh3_hasher, "_WINDOW", 4 << 20)
    data = os.urandom((10 << 20) + 512 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)

    assert h.file_digest(path) == xxhash.xxh3_128_hexdigest(data)


@pytest.mark.parametrize("size", [0, 100, (1 << 20) + 1, (40 << 20) + 3])
def test_file_digest_reports_every_byte_read(
    h: xxh3_hasher.Xxh3Hasher, tmp_path: pathlib.Path, size: int, progress: RecordingProgress
) -> None:
    path = tmp_path / "data"
    path.write_bytes(os.urandom(size))

    digest = h.file_digest(path, progress)

    assert digest == h.file_digest(path)
    assert (progress.files, progress.nbytes) == (0, size)
