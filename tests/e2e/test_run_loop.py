import json

import pytest

from tests.e2e.conftest import Project, statuses

ALL = {"prepare", "train", "evaluate", "other"}


def test_first_run_runs_everything_second_skips_everything(project: Project) -> None:
    code, events = project.run_json()

    assert code == 0
    assert statuses(events) == dict.fromkeys(ALL, "ran")
    assert sorted(project.calls()) == sorted(ALL)
    assert (project.root / "eval.txt").read_text() == "evaluated model(HELLO, lr=0.1)"
    assert json.loads((project.root / "metrics.json").read_text()) == {"acc": 0.9}
    assert (project.root / ".pivot/stages/train.lock").exists()

    code, events = project.run_json()

    assert code == 0
    assert statuses(events) == dict.fromkeys(ALL, "skipped")
    assert project.calls() == []
    assert events[-1]["event"] == "summary"
    assert events[-1]["ok"] is True


def test_editing_a_stage_body_reruns_it_and_its_downstream_only(project: Project) -> None:
    project.run_json()
    project.calls()
    project.edit(
        "stages.py", 'return TrainOutputs(model=f"model(', 'return TrainOutputs(model=f"m2('
    )

    code, events = project.run_json()

    assert code == 0
    assert sorted(project.calls()) == ["evaluate", "train"]
    assert statuses(events)["prepare"] == "skipped"
    assert statuses(events)["other"] == "skipped"


def test_comment_and_docstring_edits_rerun_nothing(project: Project) -> None:
    project.run_json()
    project.calls()
    project.edit("stages.py", "# training comment", "# a different comment, longer")
    project.edit("stages.py", '"""Evaluate the model."""', '"""Evaluate it, carefully."""')

    code, events = project.run_json()

    assert code == 0
    assert project.calls() == []
    assert set(statuses(events).values()) == {"skipped"}


def test_changing_a_dependency_reruns_its_consumers(project: Project) -> None:
    project.run_json()
    project.calls()
    (project.root / "raw.txt").write_text("changed\n")

    project.run_json()

    assert sorted(project.calls()) == sorted(ALL)


def test_unchanged_upstream_output_stops_propagation(project: Project) -> None:
    project.run_json()
    project.calls()
    # Same content after upper-casing: prepare re-runs, its output is identical, train skips.
    (project.root / "raw.txt").write_text("HELLO\n")

    project.run_json()

    assert sorted(project.calls()) == ["other", "prepare"]


def test_deleted_output_is_restored_without_running(project: Project) -> None:
    project.run_json()
    project.calls()
    (project.root / "models/model.txt").unlink()

    code, events = project.run_json()

    assert code == 0
    assert project.calls() == []
    assert (project.root / "models/model.txt").read_text() == "model(HELLO, lr=0.1)"
    restored = [e for e in events if e.get("stage") == "train" and e["event"] == "stage_finished"]
    assert "restored from cache" in restored[0]["message"]


def test_status_json_names_what_changed(project: Project) -> None:
    project.run_json()
    project.edit("stages.py", 'return "evaluated " + model', 'return "judged " + model')

    done = project.pivot("status", "--json")

    assert done.returncode == 0
    report = {s["name"]: s for s in json.loads(done.stdout)["stages"]}
    assert report["evaluate"]["stale"] is True
    assert report["train"]["stale"] is False
    messages = [r["message"] for r in report["evaluate"]["reasons"]]
    assert any("code changed" in m and "evaluate" in m for m in messages), messages


def test_status_json_lists_stages_even_when_clean(project: Project) -> None:
    project.run_json()

    payload = json.loads(project.pivot("status", "--json").stdout)

    assert {s["name"] for s in payload["stages"]} == ALL
    assert not any(s["stale"] for s in payload["stages"])


def test_params_change_reruns_with_reason(project: Project) -> None:
    project.run_json()
    project.edit(
        "pipeline.py",
        "pipeline.register(stages.train)",
        "pipeline.register(stages.train, params={'lr': 0.5})",
    )

    done = project.pivot("status", "--explain")

    assert "param lr changed: 0.1 → 0.5" in done.stdout


def test_dry_run_reports_and_changes_nothing(project: Project) -> None:
    done = project.pivot("run", "--dry-run")

    assert done.returncode == 0
    assert "would run" in done.stdout
    assert project.calls() == []
    assert not (project.root / ".pivot/stages").exists()


def test_named_stage_runs_with_its_upstream_only(project: Project) -> None:
    code, events = project.run_json("train")

    assert code == 0
    assert set(statuses(events)) == {"prepare", "train"}


def test_single_stage_and_force(project: Project) -> None:
    project.run_json()
    project.calls()

    project.run_json("--force", "-s", "train")

    assert project.calls() == ["train"]


def test_repro_is_an_alias_of_run(project: Project) -> None:
    done = project.pivot("repro")

    assert done.returncode == 0
    assert sorted(project.calls()) == sorted(ALL)


def test_list_shows_identities_and_paths(project: Project) -> None:
    listing = json.loads(project.pivot("list", "--json").stdout)

    train = next(s for s in listing["stages"] if s["name"] == "train")
    assert {o["identity"]: o["path"] for o in train["outs"]} == {
        "train:model": "models/model.txt",
        "train:score": "metrics.json",
    }
    assert "train:model → models/model.txt" in project.pivot("list").stdout


def test_successful_run_prints_nothing_on_stderr(project: Project) -> None:
    done = project.pivot("run", "-j", "2")

    assert done.returncode == 0
    assert done.stderr == ""


CHATTY = """
from typing import Annotated

from pivot import loaders, outputs


def chatty() -> Annotated[str, outputs.Out("chatty.txt", loaders.Text())]:
    print("progress: 50%")
    return "done"
"""


@pytest.mark.parametrize("executor", ["loky", "inline"])
def test_json_stdout_stays_json_when_a_stage_prints(
    project: Project, monkeypatch: pytest.MonkeyPatch, executor: str
) -> None:
    monkeypatch.setenv("PIVOT_EXECUTOR", executor)
    project.write("stages.py", CHATTY)
    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n"
        "pipeline = Pipeline('c')\npipeline.register(stages.chatty)\n",
    )

    done = project.pivot("run", "--json")

    assert done.returncode == 0
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["event"] == "summary"
    assert "progress: 50%" in done.stderr
