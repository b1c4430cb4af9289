import json
import os
import subprocess

import pytest

from tests.e2e.conftest import Project

STAGES = """
import csv
import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TableParams(StageParams):
    version: int = 1


def table(
    params: TableParams,
) -> Annotated[pathlib.Path, outputs.Out("data/table.csv", loaders.PathOnly())]:
    rows = [[i, f"n{i}", i * 10] for i in range(1, 6)]
    if params.version == 2:  # keyed: id 2 removed, id 1 modified, id 9 added, order changed
        rows = [[9, "n9", 90], *[r for r in rows if r[0] != 2]]
        rows[1][2] = 11
    if params.version == 3:  # positional: row 3 modified in place, one row appended
        rows[2][1] = "changed"
        rows.append([6, "n6", 60])
    path = pathlib.Path("data/table.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "score"])
        writer.writerows(rows)
    return path


def model() -> Annotated[str, outputs.Out("models/model.txt", loaders.Text())]:
    return "model"
"""

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("data")
pipeline.register(stages.table)
pipeline.register(stages.model)
"""


def _git(project: Project, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", *args], cwd=project.root, env=env, check=True, capture_output=True)


@pytest.fixture
def data_project(project: Project) -> Project:
    project.write("stages.py", STAGES)
    project.write("pipeline.py", PIPELINE)
    assert project.pivot("run").returncode == 0
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "v1")
    return project


def _rerun(project: Project, version: int) -> None:
    project.edit("stages.py", "version: int = 1", f"version: int = {version}")
    done = project.pivot("run")
    assert done.returncode == 0, done.stderr


def test_keyed_diff_reports_added_removed_and_modified_rows(data_project: Project) -> None:
    _rerun(data_project, 2)

    text = data_project.pivot("diff", "table", "--key", "id")
    report = json.loads(
        data_project.pivot("diff", "data/table.csv", "--key", "id", "--json").stdout
    )

    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("table → data/table.csv  (HEAD ")
    assert lines[1:] == [
        "  rows: 5 → 5: +1 added, -1 removed, ~1 modified (matched by id)",
        "  + id=9  name=n9  score=90",
        "  - id=2  name=n2  score=20",
        "  ~ id=1  score: 10 → 11",
    ]
    (file,) = report["files"]
    assert file["state"] == "changed"
    diff = file["diff"]
    assert (diff["added"], diff["removed"], diff["modified"]) == (1, 1, 1)
    assert diff["samples_modified"] == [{"row": {"id": "1"}, "changes": {"score": ["10", "11"]}}]


def test_positional_diff_and_summary(data_project: Project) -> None:
    _rerun(data_project, 3)

    text = data_project.pivot("diff")
    summary = data_project.pivot("diff", "--summary", "--md")

    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[1:] == [
        "  rows: 5 → 6: +1 added, -0 removed, ~1 modified (matched by position)",
        "  + row 6  id=6  name=n6  score=60",
        "  ~ row 3  name: n3 → changed",
    ]
    assert "| `table` | same | 5 → 6 | 1 | 0 | 1 |" in summary.stdout
    assert "row 3" not in summary.stdout


def test_bad_revision_non_data_target_and_no_repository(data_project: Project, tmp_path) -> None:
    bad_rev = data_project.pivot("diff", "--rev", "nope")
    not_data = data_project.pivot("diff", "model")
    (data_project.root / ".git").rename(tmp_path / "git-moved")
    no_repo = data_project.pivot("diff")

    for done in (bad_rev, not_data, no_repo):
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "nope" in bad_rev.stderr
    assert "'model → models/model.txt' is not a data file" in not_data.stderr
    assert "not a git repository" in no_repo.stderr
