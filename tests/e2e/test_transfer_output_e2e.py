import json
import os
import pathlib

import pytest

from tests.e2e import team_project
from tests.e2e.conftest import Project


@pytest.fixture
def pushed(project: Project, tmp_path: pathlib.Path) -> Project:
    """Clone A ran everything, pushed it to a directory remote and committed."""
    a = team_project.make_team(project)
    assert a.pivot("remote", "add", "origin", str(tmp_path / "shared-cache")).returncode == 0
    done = a.pivot("push")
    assert done.returncode == 0, done.stderr
    team_project.commit(a)
    return a


def _edit(path: pathlib.Path, text: str) -> None:
    os.chmod(path, 0o644)
    path.write_text(text)


def test_pull_names_the_files_it_kept_and_force_overwrites_them(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(pushed, tmp_path / "clone-b")
    assert b.pivot("pull").returncode == 0
    _edit(b.root / "eval.txt", "my own evaluation\n")

    kept = b.pivot("pull")
    kept_json = b.pivot("pull", "--json")
    forced = b.pivot("pull", "--force")

    assert kept.returncode == 0, kept.stderr
    assert "kept 1 file you changed: eval.txt (pull --force overwrites it)" in kept.stdout
    assert "checked out 0, 4 already up to date, 1 kept" in kept.stdout
    assert kept_json.returncode == 0, kept_json.stderr
    assert json.loads(kept_json.stdout)["checkout"]["kept"] == ["eval.txt"]
    assert forced.returncode == 0, forced.stderr
    assert (b.root / "eval.txt").read_bytes() == (pushed.root / "eval.txt").read_bytes()


def test_pull_json_is_one_document_with_the_fetch_and_the_checkout(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(pushed, tmp_path / "clone-b")

    done = b.pivot("pull", "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["transferred"] == 8
    assert report["ok"] is True
    checkout = report["checkout"]
    assert sorted(r["target"] for r in checkout["restored"]) == [
        "evaluate → eval.txt",
        "images",
        "other → other.txt",
        "prepare → data/clean.txt",
        "train:model → models/model.txt",
    ]
    assert checkout["unchanged"] == []
    assert checkout["kept"] == []
    assert checkout["failed"] == []


def test_quiet_transfers_print_nothing_but_still_move_the_data(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(pushed, tmp_path / "clone-b")

    runs = [
        b.pivot("fetch", "--quiet", "train"),
        b.pivot("-q", "pull"),
        b.pivot("push", "-q"),
    ]
    status = b.pivot("status", "--remote", "-q")

    for done in runs:
        assert done.returncode == 0, done.stderr
        assert done.stdout == "", done.args
        assert done.stderr == "", done.args
    assert (b.root / "eval.txt").read_bytes() == (pushed.root / "eval.txt").read_bytes()
    # status's own answer (stage lines) stays: -q drops only the remote summary.
    assert status.returncode == 0, status.stderr
    assert "All 4 stages up to date." in status.stdout
    assert "remote origin" not in status.stdout


def test_counts_are_singular_for_one_and_have_thousands_separators(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(pushed, tmp_path / "clone-b")

    one = b.pivot("pull", "train:model")
    for i in range(1000):
        pushed.write(f"images/more/m{i}.bin", f"more {i}\n")
    assert pushed.pivot("track", "images").returncode == 0
    status = pushed.pivot("status", "--remote")

    assert one.returncode == 0, one.stderr
    assert "fetched 1 file (" in one.stdout
    assert "checked out 1," in one.stdout
    assert status.returncode == 0, status.stderr
    assert "remote origin: 1,001 to push, 0 to pull, 8 in sync" in status.stdout


def test_status_remote_without_stages_prints_the_remote_counts(tmp_path: pathlib.Path) -> None:
    project = Project(tmp_path / "data")
    project.root.mkdir()
    assert project.pivot("init").returncode == 0
    project.write("raw/a.csv", "x\n1\n")
    assert project.pivot("track", "raw").returncode == 0
    assert project.pivot("remote", "add", "origin", str(tmp_path / "shared")).returncode == 0

    done = project.pivot("status", "--remote")

    assert done.returncode == 0, done.stderr
    assert "No stages; 1 tracked path." in done.stdout
    assert "remote origin: 2 to push, 0 to pull, 0 in sync" in done.stdout


def test_a_corrupt_remote_object_gets_advice_that_helps(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    lock = json.loads((pushed.root / ".pivot/stages/train.lock").read_text())
    digest = lock["outs"]["train:model"]["hash"]
    obj = tmp_path / "shared-cache/files" / digest[:2] / digest[2:]
    _edit(obj, "flipped\n")
    b = team_project.clone(pushed, tmp_path / "clone-b")

    done = b.pivot("pull", "--json")

    assert done.returncode == 1
    assert "pivot pull" not in done.stderr
    report = json.loads(done.stdout)
    assert [f["object"] for f in report["failed"]] == [
        "train:model → models/model.txt",
    ]
    assert "push it again from a clone that has it intact" in report["failed"][0]["reason"]
    assert report["checkout"]["failed"] == [
        {"target": "train:model → models/model.txt", "reason": "not fetched (see above)"}
    ]
    assert not (b.root / "models/model.txt").exists()
    assert (b.root / "eval.txt").read_bytes() == (pushed.root / "eval.txt").read_bytes()


def test_push_json_reports_per_object_failures_and_exits_1(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(pushed, tmp_path / "clone-b")
    assert b.pivot("pull").returncode == 0
    assert b.pivot("remote", "add", "other", str(tmp_path / "other-cache")).returncode == 0
    lock = json.loads((pushed.root / ".pivot/stages/train.lock").read_text())
    digest = lock["outs"]["train:model"]["hash"]
    # A file where the object's directory must go: this one object cannot be written.
    (tmp_path / "other-cache/files").mkdir(parents=True)
    (tmp_path / "other-cache/files" / digest[:2]).write_text("in the way\n")

    done = b.pivot("push", "-r", "other", "--json")

    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert [f["object"] for f in report["failed"]] == ["train:model → models/model.txt"]
    assert report["transferred"] >= 1


def test_push_json_that_fails_before_any_transfer_prints_one_error_line(
    pushed: Project, tmp_path: pathlib.Path
) -> None:
    done = pushed.pivot("push", "-r", "orgin", "--json")

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "did you mean 'origin'?" in done.stderr


def test_missing_tracked_data_is_not_sent_to_a_stage_that_does_not_exist(
    tmp_path: pathlib.Path,
) -> None:
    project = Project(tmp_path / "data")
    project.root.mkdir()
    assert project.pivot("init").returncode == 0
    project.write("notes.txt", "n\n")
    assert project.pivot("track", "notes.txt").returncode == 0
    for obj in (project.root / ".pivot/cache/files").glob("*/*"):
        os.chmod(obj, 0o644)
        obj.unlink()
    (project.root / "notes.txt").unlink()

    done = project.pivot("checkout")

    assert done.returncode == 1
    assert "notes.txt: cache object" in done.stderr
    assert "`pivot pull` it, or `pivot track` it again where you have the file" in done.stderr
    assert "pivot run" not in done.stderr
