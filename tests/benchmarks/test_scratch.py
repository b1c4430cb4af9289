import os
import pathlib
import shutil
import subprocess

import pytest

from benchmarks import measure, scratch


def test_work_filesystem_when_asked(tmp_path: pathlib.Path) -> None:
    with scratch.filesystem(tmp_path, image=False) as (where, disk):
        assert where == tmp_path / "scratch"
        assert where.is_dir()
        assert "own filesystem" in disk
        assert not os.path.ismount(where)


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mkfs.ext4") is not None


@pytest.mark.skipif(not _can_mount(), reason="needs root and mkfs.ext4 to mount an image")
def test_fresh_journaled_image_mounted_then_removed(tmp_path: pathlib.Path) -> None:
    with scratch.filesystem(tmp_path) as (where, disk):
        if "own filesystem" in disk:
            pytest.skip(f"no loop mount here: {disk}")
        assert os.path.ismount(where)
        (where / "f").write_text("x")
        source = subprocess.run(
            ["findmnt", "-no", "SOURCE", str(where)], capture_output=True, text=True, check=True
        ).stdout.strip()
        features = subprocess.run(
            ["dumpe2fs", "-h", source], capture_output=True, text=True, check=False
        ).stdout
        assert "has_journal" in features
    assert not os.path.ismount(where)
    assert not (tmp_path / "scratch.ext4").exists()


def test_settle_leaves_no_ballast(tmp_path: pathlib.Path) -> None:
    (tmp_path / "kept").write_text("x")

    measure.settle(tmp_path, 3)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
