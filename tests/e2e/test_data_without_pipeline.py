import json
import pathlib
import shutil

import pytest

from tests.e2e.conftest import Project


def _data_project(root: pathlib.Path, files: dict[str, str]) -> Project:
    """An initialised project holding `files` and no pipeline."""
    project = Project(root)
    assert project.pivot("init").returncode == 0
    for name, text in files.items():
        project.write(name, text)
    return project


def test_track_and_checkout_work_before_any_pipeline_exists(tmp_path: pathlib.Path) -> None:
    project = _data_project(tmp_path, {"raw/a.csv": "x,y\n1,2\n"})

    assert project.pivot("track", "raw").returncode == 0
    shutil.rmtree(tmp_path / "raw")
    done = project.pivot("checkout")

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "raw/a.csv").read_text() == "x,y\n1,2\n"
    run = project.pivot("run")
    assert run.returncode == 1
    assert "no pipeline found" in run.stderr


def test_status_and_verify_report_tracked_data_without_a_pipeline(tmp_path: pathlib.Path) -> None:
    project = _data_project(tmp_path, {"raw/a.csv": "x,y\n1,2\n", "notes.txt": "n\n"})
    assert project.pivot("track", "raw", "notes.txt").returncode == 0

    status = project.pivot("status")
    verify = project.pivot("verify")

    assert status.returncode == 0, status.stderr
    assert "raw: tracked, clean" in status.stdout
    assert "notes.txt: tracked, clean" in status.stdout
    assert verify.returncode == 0, verify.stderr
    assert "OK" in verify.stdout

    shutil.rmtree(tmp_path / "raw")
    assert "raw: tracked, missing" in project.pivot("status").stdout
    assert (
        project.pivot("verify").returncode == 0
    )  # still in the cache: `pivot checkout` brings it back
    for blob in (tmp_path / ".pivot/cache").rglob("*"):
        if blob.is_file():
            blob.chmod(0o644)
            blob.unlink()
    lost = project.pivot("verify", "--json")
    assert lost.returncode == 1
    assert {p["target"] for p in json.loads(lost.stdout)["problems"]} == {"raw"}


def test_status_with_neither_pipeline_nor_tracked_data_says_how_to_start(
    tmp_path: pathlib.Path,
) -> None:
    project = Project(tmp_path)
    assert project.pivot("init").returncode == 0

    done = project.pivot("status")

    assert done.returncode == 1
    assert "no pipeline found" in done.stderr
    assert "pivot track" in done.stderr


def _object(tmp_path: pathlib.Path, digest: str) -> pathlib.Path:
    return tmp_path / ".pivot/cache/files" / digest[:2] / digest[2:]


def test_track_links_the_workspace_to_the_cache_per_link_modes(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _data_project(
        tmp_path, {"big.bin": "x" * 10_000, "images/a.png": "aa", "kept.txt": "copy me"}
    )
    monkeypatch.setenv("PIVOT_LINK_MODES", "copy")
    assert project.pivot("track", "kept.txt").returncode == 0
    monkeypatch.setenv("PIVOT_LINK_MODES", "hardlink,copy")

    done = project.pivot("track", "big.bin", "images")

    assert done.returncode == 0, done.stderr
    big = json.loads((tmp_path / "big.bin.pvt").read_text())["hash"]
    assert (tmp_path / "big.bin").stat().st_ino == _object(tmp_path, big).stat().st_ino
    tree = json.loads((tmp_path / "images.pvt").read_text())["hash"]
    member = json.loads(_object(tmp_path, tree).read_text())["a.png"]
    assert (tmp_path / "images/a.png").stat().st_ino == _object(tmp_path, member).stat().st_ino
    assert (tmp_path / "big.bin").read_text() == "x" * 10_000
    kept = json.loads((tmp_path / "kept.txt.pvt").read_text())["hash"]
    assert (tmp_path / "kept.txt").stat().st_nlink == 1
    assert (tmp_path / "kept.txt").stat().st_ino != _object(tmp_path, kept).stat().st_ino
    status = project.pivot("status")
    assert "big.bin: tracked, clean" in status.stdout
    assert "images: tracked, clean" in status.stdout


def test_an_unchanged_retrack_leaves_the_workspace_alone(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _data_project(tmp_path, {"images/a.png": "aa", "images/sub/b.png": "bbb"})
    monkeypatch.setenv("PIVOT_LINK_MODES", "copy")
    assert project.pivot("track", "images").returncode == 0
    files = sorted(p for p in (tmp_path / "images").rglob("*") if p.is_file())
    before = [(p.stat().st_ino, p.stat().st_nlink) for p in files]
    monkeypatch.setenv("PIVOT_LINK_MODES", "hardlink,copy")

    done = project.pivot("track", "images")

    assert done.returncode == 0, done.stderr
    assert "unchanged: images" in done.stdout
    assert [(p.stat().st_ino, p.stat().st_nlink) for p in files] == before
    assert "images: tracked, clean" in project.pivot("status").stdout


def test_pivotignore_hides_directories_from_status(tmp_path: pathlib.Path) -> None:
    project = _data_project(tmp_path, {"keep/a.txt": "a\n", "archive/b.txt": "b\n"})
    assert project.pivot("track", "keep/a.txt", "archive/b.txt").returncode == 0
    project.write(".pivotignore", "# old experiments\narchive/\n")

    status = project.pivot("status")

    assert "keep/a.txt: tracked, clean" in status.stdout
    assert "archive" not in status.stdout
