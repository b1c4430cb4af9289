import json
import re

import pytest

from tests.e2e.conftest import Project

pytestmark = pytest.mark.usefixtures("counted_runs")


def _run_with_lr(project: Project, old: str, new: str) -> None:
    project.edit("stages.py", f"lr: float = {old}", f"lr: float = {new}")
    assert project.pivot("run").returncode == 0


def test_history_compare_lists_three_runs_with_params_and_metrics(project: Project) -> None:
    project.edit("stages.py", 'score={"acc": 0.9}', 'score={"acc": round(1 - params.lr, 3)}')
    assert project.pivot("run").returncode == 0
    _run_with_lr(project, "0.1", "0.3")
    _run_with_lr(project, "0.3", "0.2")

    table = project.pivot("history", "--compare", "train", "--sort-by", "acc")
    as_json = json.loads(project.pivot("history", "--compare", "--json").stdout)

    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split()[-2:] == ["lr", "acc"]
    assert [row.split()[-2:] for row in rows] == [["0.1", "0.9"], ["0.2", "0.8"], ["0.3", "0.7"]]
    assert as_json["params"] == ["train.lr"]
    assert [(r["params"]["train.lr"], r["metrics"]["acc"]) for r in as_json["rows"]] == [
        (0.1, 0.9),
        (0.3, 0.7),
        (0.2, 0.8),
    ]


def test_history_and_show_describe_each_run(project: Project) -> None:
    assert project.pivot("run").returncode == 0
    _run_with_lr(project, "0.1", "0.5")

    listing = project.pivot("history")
    runs = json.loads(project.pivot("history", "--json", "-n", "1").stdout)["runs"]
    shown = project.pivot("show", runs[0]["id"][:17])

    assert listing.returncode == 0
    assert len(listing.stdout.splitlines()) == 3
    assert "4 ran" in listing.stdout.splitlines()[2]
    assert len(runs) == 1
    assert {s["name"]: s["status"] for s in runs[0]["stages"]} == {
        "prepare": "skipped",
        "train": "ran",
        "evaluate": "ran",
        "other": "skipped",
    }
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^train +ran +[0-9.]+s +.*param lr changed: 0.1 → 0.5", shown.stdout, re.M)
    assert re.search(r"^train +metrics.json +acc=0.9$", shown.stdout, re.M)


def test_show_unknown_run_is_one_line_exit_1(project: Project) -> None:
    assert project.pivot("run").returncode == 0

    done = project.pivot("show", "nope")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "pivot: error: no run 'nope' in the history; `pivot history` lists run ids"
    ]
