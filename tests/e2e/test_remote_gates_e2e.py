import json
import pathlib

import pytest

from tests.e2e import team_project
from tests.e2e.conftest import Project


@pytest.fixture
def shared(project: Project, tmp_path: pathlib.Path) -> Project:
    """Clone A ran everything, pushed it all to a directory remote and committed."""
    a = team_project.make_team(project)
    assert a.pivot("remote", "add", "origin", str(tmp_path / "shared-cache")).returncode == 0
    assert a.pivot("push").returncode == 0
    team_project.commit(a)
    return a


def _remote_objects(tmp_path: pathlib.Path) -> set[str]:
    files = tmp_path / "shared-cache" / "files"
    return {p.parent.name + p.name for p in files.glob("*/*") if not p.name.startswith(".")}


def test_verify_allow_missing_accepts_what_is_on_the_remote(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(shared, tmp_path / "clone-b")

    strict = b.pivot("verify")
    allowed = b.pivot("verify", "--allow-missing", "--json")
    lock = json.loads((shared.root / ".pivot/stages/evaluate.lock").read_text())
    digest = lock["outs"]["evaluate"]["hash"]
    (tmp_path / "shared-cache/files" / digest[:2] / digest[2:]).unlink()
    missing = b.pivot("verify", "--allow-missing")

    assert strict.returncode == 1
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert json.loads(allowed.stdout)["ok"] is True
    assert missing.returncode == 1
    assert "evaluate → eval.txt: missing from workspace and cache, and not on the remote" in (
        missing.stdout
    )
    assert "stage 'train'" not in missing.stdout  # its outputs are on the remote
    assert team_project.cached_objects(b) == set()


def test_gc_remote_removes_only_unreferenced_objects_after_asking(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    before = _remote_objects(tmp_path)
    shared.edit("stages.py", "lr: float = 0.1", "lr: float = 0.4")
    assert shared.pivot("run", "--push", "train").returncode == 0
    new_model = json.loads((shared.root / ".pivot/stages/train.lock").read_text())["outs"][
        "train:model"
    ]["hash"]
    shared.edit("stages.py", "lr: float = 0.4", "lr: float = 0.1")
    assert shared.pivot("run", "train").returncode == 0
    assert new_model in _remote_objects(tmp_path)

    dry = shared.pivot("gc", "--remote", "--dry-run", "--json")
    unasked = shared.pivot("gc", "--remote")
    kept = _remote_objects(tmp_path)
    done = shared.pivot("gc", "--remote", "--force", "--json")

    assert json.loads(dry.stdout)["removed"] == [new_model]
    assert kept == before | {new_model}
    assert unasked.returncode == 1
    assert "stdin is not a terminal" in unasked.stderr
    assert "pivot gc --remote --force" in unasked.stderr
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["removed"] == [new_model]
    assert _remote_objects(tmp_path) == before
    b = team_project.clone(shared, tmp_path / "clone-b")
    assert b.pivot("pull").returncode == 0
