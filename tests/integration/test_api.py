import json
import pathlib
import subprocess
import sys

import pytest

from pivot import api
from pivot.domain import errors, events
from tests.e2e import live_project

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "embedding" / "service.py"


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    for name, text in (
        ("helpers.py", live_project.HELPERS),
        ("stages.py", live_project.STAGES),
        ("pipeline.py", live_project.PIPELINE),
    ):
        (proj / name).write_text(text.lstrip())
    for name, text in (("raw.txt", "Hello\n"), ("labels.txt", "A\n"), ("side.txt", "n\n")):
        (proj / name).write_text(text)
    (proj / ".pivot").mkdir()
    return proj


def test_the_embedding_example_runs_on_in_memory_stores(root: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(root)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert {s["state"] for s in body["before"].values()} == {"stale"}
    assert sorted(body["events"]) == sorted(f"{n}: ran" for n in live_project.STAGE_NAMES)
    assert set(body["after"].values()) == {"up_to_date"}
    assert [r["stages"] for r in body["history"]] == [5]
    assert (root / "count.txt").read_text() == "5"
    assert sorted(p.name for p in (root / ".pivot").iterdir()) == []


def test_project_api_sees_edits_between_calls(root: pathlib.Path) -> None:
    seen: list[events.Event] = []
    with api.Project.open(root, executor="inline") as project:
        stages = {s.name: s for s in project.stages()}
        assert stages["count"].upstream == ("clean",)
        assert stages["summary"].layer == 2
        assert stages["side"].deps == ("side.txt",)
        assert project.run(on_event=seen.append).ok
        assert {s.state for s in project.status()} == {"up_to_date"}

        helpers = root / "helpers.py"
        helpers.write_text(helpers.read_text().replace("lower()", "upper()"))
        (reason,) = project.explain("clean")
        assert reason.startswith("code changed: func:helpers.normalize")
        assert project.explain("side") == ()
        with pytest.raises(errors.StageNotFoundError):
            project.explain("nope")

        (plot,) = project.plots()
        assert plot.title.startswith("summary")
        assert plot.svg is not None
        assert "<svg" in plot.svg

        found = project.watch_set()
        assert found.matters(root / "helpers.py")
        assert found.matters(root / "side.txt")
        assert not found.matters(root / "count.txt")
        assert not found.matters(root / ".pivot" / "stages" / "clean.lock")
        assert not found.matters(root / "notes.md")
        assert len(project.history()) == 1
    finished = [e.stage for e in seen if isinstance(e, events.StageFinished)]
    assert sorted(finished) == sorted(live_project.STAGE_NAMES)


def test_opening_outside_a_project_names_the_fix(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.ProjectNotFoundError, match="pivot init"):
        api.Project.open(tmp_path)
