import json
import pathlib

import pytest

from tests.e2e import team_project
from tests.e2e.conftest import Project


def _recorded(project: Project, stage: str, ident: str) -> str:
    lock = json.loads((project.root / f".pivot/stages/{stage}.lock").read_text())
    return lock["outs"][ident]["hash"]


@pytest.fixture
def shared(project: Project, tmp_path: pathlib.Path) -> Project:
    """Clone A ran everything, `run --push`ed it to a directory remote and committed."""
    a = team_project.make_team(project)
    assert a.pivot("remote", "add", "origin", str(tmp_path / "shared-cache")).returncode == 0
    pushed = a.pivot("run", "--push")
    assert pushed.returncode == 0, pushed.stderr
    assert a.calls() == []
    team_project.commit(a)
    return a


def test_run_push_uploads_every_output_of_the_run(shared: Project) -> None:
    stages = ("prepare", "train", "evaluate", "other")
    done = shared.pivot("push", "--dry-run", "--json", *stages)
    status = json.loads(shared.pivot("status", "--remote", "--json").stdout)["remote"]

    assert json.loads(done.stdout)["transferred"] == 0
    assert json.loads(done.stdout)["already_there"] == 5  # 4 outputs and metrics.json
    assert status["to_push"] == 4  # the tracked images/ (3 files, 1 manifest): read by no stage


def test_run_pull_fetches_only_the_targets_outputs_and_runs_nothing(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(shared, tmp_path / "clone-b")

    done = b.pivot("run", "--pull", "evaluate")

    assert done.returncode == 0, done.stderr
    assert b.calls() == []
    assert team_project.cached_objects(b) == {_recorded(shared, "evaluate", "evaluate")}
    assert (b.root / "eval.txt").read_bytes() == (shared.root / "eval.txt").read_bytes()
    for rel in ("data/clean.txt", "models/model.txt", "other.txt", "images"):
        assert not (b.root / rel).exists(), rel
    assert "fetched 1 file (" in done.stderr


def test_run_pull_after_a_params_change_fetches_inputs_and_runs_only_the_changed_stage(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    c = team_project.clone(shared, tmp_path / "clone-c")
    c.edit("stages.py", "lr: float = 0.1", "lr: float = 0.3")

    done = c.pivot("run", "--pull", "evaluate")

    assert done.returncode == 0, done.stderr
    assert c.calls() == ["train", "evaluate"]
    clean = _recorded(shared, "prepare", "prepare")
    assert clean in team_project.cached_objects(c)
    assert _recorded(shared, "train", "train:model") not in team_project.cached_objects(c)
    assert "lr=0.3" in (c.root / "models/model.txt").read_text()
    assert not (c.root / "other.txt").exists()


def test_run_pull_reuses_a_teammates_run_from_the_remote_run_cache(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    shared.edit("stages.py", "lr: float = 0.1", "lr: float = 0.2")
    assert shared.pivot("run", "--push", "train").returncode == 0
    model_02 = (shared.root / "models/model.txt").read_bytes()
    shared.edit("stages.py", "lr: float = 0.2", "lr: float = 0.1")
    assert shared.pivot("run", "train").returncode == 0
    assert shared.calls() == ["train"]  # the lr=0.2 run; lr=0.1 came from the run cache
    b = team_project.clone(shared, tmp_path / "clone-b")
    b.edit("stages.py", "lr: float = 0.1", "lr: float = 0.2")

    done = b.pivot("run", "--pull", "train")

    assert done.returncode == 0, done.stderr
    assert b.calls() == []
    assert (b.root / "models/model.txt").read_bytes() == model_02
    assert "train: restored (run cache)" in done.stdout
    assert not (b.root / "data/clean.txt").exists()


def test_run_pull_dry_run_says_what_it_would_fetch_and_moves_nothing(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(shared, tmp_path / "clone-b")

    done = b.pivot("run", "--pull", "--dry-run", "evaluate")

    assert done.returncode == 0, done.stderr
    assert "evaluate: up to date on the remote (lock record)" in done.stderr
    assert "would fetch 1 file from origin" in done.stderr
    assert team_project.cached_objects(b) == set()


def test_run_pull_json_reports_the_fetch_as_an_event(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(shared, tmp_path / "clone-b")

    code, events = b.run_json("--pull", "evaluate")

    assert code == 0
    pulls = [e for e in events if e["event"] == "pull"]
    assert len(pulls) == 1
    assert pulls[0]["transferred"] == 1
    assert pulls[0]["remote"] == "origin"
    assert pulls[0]["failed"] == []
    assert events[-1]["event"] == "summary"


def test_run_pull_dry_run_json_prints_the_verdicts_as_events(
    shared: Project, tmp_path: pathlib.Path
) -> None:
    b = team_project.clone(shared, tmp_path / "clone-b")

    code, events = b.run_json("--pull", "--dry-run", "evaluate")

    assert code == 0
    assert {"event": "verdict", "stage": "evaluate", "verdict": "recorded"} in events
    pulls = [e for e in events if e["event"] == "pull"]
    assert [(p["transferred"], p["dry_run"]) for p in pulls] == [(1, True)]
    assert team_project.cached_objects(b) == set()


GALLERY = """

def gallery(
    images: Annotated[pathlib.Path, outputs.Dep("images", loaders.PathOnly())],
) -> Annotated[str, outputs.Out("gallery.txt", loaders.Text())]:
    return str(len(list(images.iterdir())))
"""


def test_run_pull_dry_run_counts_a_directorys_files_as_the_real_run_moves_them(
    project: Project, tmp_path: pathlib.Path
) -> None:
    project.write("stages.py", (project.root / "stages.py").read_text() + GALLERY)
    project.write(
        "pipeline.py",
        (project.root / "pipeline.py").read_text() + "pipeline.register(stages.gallery)\n",
    )
    a = team_project.make_team(project)
    assert a.pivot("remote", "add", "origin", str(tmp_path / "shared-cache")).returncode == 0
    assert a.pivot("push").returncode == 0
    team_project.commit(a)
    b = team_project.clone(a, tmp_path / "clone-b")

    dry = b.pivot("run", "--pull", "--force", "--dry-run", "gallery")
    real = b.pivot("run", "--pull", "--force", "gallery")

    assert dry.returncode == 0, dry.stderr
    assert real.returncode == 0, real.stderr
    assert "would fetch 4 files from origin" in dry.stderr  # images/: 3 files and its manifest
    assert "fetched 4 files (" in real.stderr
    assert (b.root / "gallery.txt").read_text() == "3"


def test_run_push_json_reports_the_push_as_an_event(shared: Project) -> None:
    shared.edit("stages.py", "lr: float = 0.1", "lr: float = 0.4")

    code, events = shared.run_json("--push", "train")

    assert code == 0
    pushes = [e for e in events if e["event"] == "push"]
    assert len(pushes) == 1
    assert pushes[0]["transferred"] == 1  # the new model; metrics.json is already there
    assert pushes[0]["ok"] is True
    assert events[-1] == pushes[0]
