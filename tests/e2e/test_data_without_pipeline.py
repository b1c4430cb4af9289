import pathlib
import shutil

from tests.e2e.conftest import Project


def test_track_and_checkout_work_before_any_pipeline_exists(tmp_path: pathlib.Path) -> None:
    project = Project(tmp_path)
    assert project.pivot("init").returncode == 0
    project.write("raw/a.csv", "x,y\n1,2\n")

    assert project.pivot("track", "raw").returncode == 0
    shutil.rmtree(tmp_path / "raw")
    done = project.pivot("checkout")

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "raw/a.csv").read_text() == "x,y\n1,2\n"
    run = project.pivot("run")
    assert run.returncode == 1
    assert "no pipeline found" in run.stderr
