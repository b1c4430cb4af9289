import json

from tests.e2e.conftest import Project


def test_dag_draws_the_artifact_graph_and_marks_stale_stages(project: Project) -> None:
    before = project.pivot("dag")
    project.pivot("run")
    project.edit("stages.py", "lr: float = 0.1", "lr: float = 0.2")
    after = project.pivot("dag", "--json")

    assert before.returncode == 0, before.stderr
    assert "│ train:model → models/model.txt ● │" in before.stdout
    assert "← data/clean.txt" in before.stdout
    nodes = {n["id"]: n for n in json.loads(after.stdout)["nodes"]}
    assert {n for n, node in nodes.items() if node["stale"]} == {
        "metrics.json",
        "models/model.txt",
        "eval.txt",
    }
    assert nodes["raw.txt"]["kind"] == "input"
    assert nodes["eval.txt"]["layer"] == 3


def test_dag_of_stages_for_a_target_with_mermaid(project: Project) -> None:
    done = project.pivot("dag", "--stages", "--mermaid", "train")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["flowchart TD", '    n0["prepare"]', '    n1["train"]']
    assert "    n0 --> n1" in done.stdout
    assert "evaluate" not in done.stdout
    assert "other" not in done.stdout


def test_dag_downstream_of_a_file_as_dot(project: Project) -> None:
    done = project.pivot("dag", "--dot", "--downstream", "models/model.txt")

    assert done.returncode == 0, done.stderr
    assert '"models/model.txt" -> "eval.txt" [label="evaluate"];' in done.stdout
    assert "raw.txt" not in done.stdout


def test_dag_unknown_target_is_one_line_and_exit_1(project: Project) -> None:
    done = project.pivot("dag", "trian")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "pivot: error: unknown stage, output or path 'trian'; did you mean 'train'? "
        + "(`pivot list` shows them)"
    ]
