import os
import pathlib
import stat

import pytest
from tests.fakes.progress import RecordingProgress

from pivot.adapters import fs


def test_atomic_write_creates_parents_and_leaves_no_temp(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    fs.atomic_write_bytes(target, b"one")
    fs.atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["file.json"]


def test_atomic_write_keeps_old_content_and_cleans_temp_on_failure(
    tmp_path: pathlib.Path,
) -> None:
    target = tmp_path / "file"
    fs.atomic_write_bytes(target, b"old")
    with pytest.raises(TypeError):
        fs.atomic_write_bytes(target, "not bytes")  # pyright: ignore[reportArgumentType]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file"]


def test_atomic_write_uses_umask_mode_not_private_temp_mode(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "file"
    fs.atomic_write_bytes(target, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_remove_path_absent_is_fine(tmp_path: pathlib.Path) -> None:
    fs.remove_path(tmp_path / "missing")


def test_remove_path_file_symlink_and_dangling_symlink(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "target"
    target.write_text("x")
    target.chmod(0o444)
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fs.remove_path(link)
    fs.remove_path(dangling)
    assert target.exists()
    assert not link.is_symlink()
    assert not dangling.is_symlink()
    fs.remove_path(target)
    assert not target.exists()


def test_remove_path_symlink_to_directory_keeps_the_directory(tmp_path: pathlib.Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "f").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    fs.remove_path(link)
    assert (real / "f").exists()


def test_remove_path_tree_with_read_only_files_and_directories(tmp_path: pathlib.Path) -> None:
    tree = tmp_path / "tree"
    sub = tree / "sub"
    sub.mkdir(parents=True)
    (sub / "f").write_text("x")
    (tree / "g").write_text("y")
    (sub / "f").chmod(0o444)
    (tree / "g").chmod(0o444)
    sub.chmod(0o555)
    fs.remove_path(tree)
    assert not tree.exists()


def test_atomic_write_many_writes_every_file_and_leaves_no_temp(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "a" / "one.lock", tmp_path / "b" / "two.lock"
    fs.atomic_write_bytes(first, b"old")
    fs.atomic_write_many({first: b"new", second: b"two"})
    assert (first.read_bytes(), second.read_bytes()) == (b"new", b"two")
    assert os.listdir(first.parent) == ["one.lock"]
    assert os.listdir(second.parent) == ["two.lock"]


def test_atomic_write_many_publishes_nothing_when_one_write_fails(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    fs.atomic_write_bytes(first, b"old")
    with pytest.raises(TypeError):
        fs.atomic_write_many(
            {first: b"new", second: "not bytes"}  # pyright: ignore[reportArgumentType]
        )
    assert first.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["one"]


def test_send_file_copies_a_range_or_to_the_end_and_reports_progress(
    tmp_path: pathlib.Path,
) -> None:
    source = tmp_path / "source"
    source.write_bytes(bytes(range(256)) * 40)  # 10,240 bytes
    progress = RecordingProgress()
    with source.open("rb") as src, (tmp_path / "part").open("wb") as part:
        assert fs.send_file(part.fileno(), src.fileno(), 100, 5000, step=1024, progress=progress)
    with source.open("rb") as src, (tmp_path / "rest").open("wb") as rest:
        assert fs.send_file(rest.fileno(), src.fileno(), 10_000, None, step=64)

    assert (tmp_path / "part").read_bytes() == source.read_bytes()[100:5100]
    assert progress.nbytes == 5000
    assert (tmp_path / "rest").read_bytes() == source.read_bytes()[10_000:]


def test_send_file_declines_a_source_the_kernel_cannot_copy_and_writes_nothing(
    tmp_path: pathlib.Path,
) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"from a pipe")
    os.close(write_end)
    try:
        with (tmp_path / "target").open("wb") as target:
            assert not fs.send_file(target.fileno(), read_end, 0, None, step=1024)
    finally:
        os.close(read_end)

    assert (tmp_path / "target").read_bytes() == b""
