import csv
import json
import pathlib
import subprocess

import pytest
from ruamel import yaml

from tests.e2e.conftest import Project, statuses

DOCUMENT_STAGES = """
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs


class Scores(TypedDict):
    metrics: Annotated[dict, outputs.Metric("metrics.json")]
    summary: Annotated[dict, outputs.Metric("summary.yaml")]
    curve: Annotated[list, outputs.Plot("plots/curve.csv", x="step", y="loss")]
    points: Annotated[list, outputs.Plot("plots/points.json")]


def score(raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())]) -> Scores:
    return Scores(
        metrics={"acc": 0.9, "n": len(raw)},
        summary={"model": "tiny", "rows": 2},
        curve=[{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}],
        points=[{"x": 1, "y": 2}],
    )


def report(
    metrics: Annotated[dict, outputs.Dep("metrics.json", loaders.JSON())],
) -> Annotated[str, outputs.Out("report.txt", loaders.Text())]:
    return f"acc={metrics['acc']}"
"""

DOCUMENT_PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("docs")
pipeline.register(stages.score)
pipeline.register(stages.report)
"""


def test_metric_and_plot_without_loader_write_the_returned_value(project: Project) -> None:
    project.write("stages.py", DOCUMENT_STAGES)
    project.write("pipeline.py", DOCUMENT_PIPELINE)

    code, events = project.run_json()

    assert code == 0, events
    assert statuses(events) == {"score": "ran", "report": "ran"}
    assert json.loads((project.root / "metrics.json").read_text()) == {"acc": 0.9, "n": 6}
    summary = yaml.YAML(typ="safe").load((project.root / "summary.yaml").read_text())
    assert summary == {"model": "tiny", "rows": 2}
    with (project.root / "plots/curve.csv").open() as f:
        assert list(csv.DictReader(f)) == [
            {"step": "1", "loss": "0.5"},
            {"step": "2", "loss": "0.25"},
        ]
    assert json.loads((project.root / "plots/points.json").read_text()) == [{"x": 1, "y": 2}]
    assert (project.root / "report.txt").read_text() == "acc=0.9"
    code, events = project.run_json()
    assert statuses(events) == {"score": "skipped", "report": "skipped"}


def test_metric_without_loader_and_an_unknown_extension_says_which_loader_to_give(
    project: Project,
) -> None:
    project.write(
        "stages.py",
        DOCUMENT_STAGES.replace('outputs.Metric("summary.yaml")', 'outputs.Metric("summary.bin")'),
    )
    project.write("pipeline.py", DOCUMENT_PIPELINE)

    done = project.pivot("run")

    assert done.returncode == 1
    assert "summary.bin" in done.stdout + done.stderr
    assert "loader" in done.stdout + done.stderr
    assert not (project.root / "summary.bin").exists()


SIBLING_A = """
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


def produce(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("../shared/data.txt", loaders.Text())]:
    return raw.upper()


pipeline = Pipeline("a")
pipeline.register(produce)
"""

SIBLING_B = """
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


def consume(
    data: Annotated[str, outputs.Dep("../shared/data.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("result.txt", loaders.Text())]:
    return "consumed " + data


pipeline = Pipeline("b")
pipeline.register(consume)
"""


def test_sibling_pipelines_share_data_through_a_common_directory(tmp_path) -> None:
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("a/pipeline.py", SIBLING_A)
    proj.write("a/raw.txt", "hello")
    proj.write("b/pipeline.py", SIBLING_B)
    assert proj.pivot("init").returncode == 0

    done = proj.pivot("run", "--json", cwd=proj.root / "b")

    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert done.returncode == 0, done.stdout + done.stderr
    assert statuses(events) == {"produce": "ran", "consume": "ran"}
    assert (proj.root / "shared/data.txt").read_text() == "HELLO"
    assert (proj.root / "b/result.txt").read_text() == "consumed HELLO"
    again = proj.pivot("run", "--json", cwd=proj.root / "b")
    events = [json.loads(line) for line in again.stdout.splitlines() if line.strip()]
    assert again.returncode == 0
    assert set(statuses(events).values()) == {"skipped"}


def test_an_output_escaping_the_project_is_rejected_naming_the_project(tmp_path) -> None:
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("a/pipeline.py", SIBLING_A.replace("../shared/data.txt", "../../outside.txt"))
    proj.write("a/raw.txt", "hello")
    assert proj.pivot("init").returncode == 0

    done = proj.pivot("run", cwd=proj.root / "a")

    assert done.returncode == 1
    assert "'../../outside.txt'" in done.stderr
    assert "outside the project" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "outside.txt").exists()


PARAM_STAGES = """
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01
    n_est: int = 10


def train(params: TrainParams) -> Annotated[str, outputs.Out("model.txt", loaders.Text())]:
    return f"lr={params.lr!r} n_est={params.n_est!r}"
"""

PARAM_PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("p")
pipeline.register(stages.train)
"""


def _params_project(project: Project, params_yaml: str, pivot_yaml: str | None = None) -> None:
    project.write("stages.py", PARAM_STAGES)
    if pivot_yaml is None:
        project.write("pipeline.py", PARAM_PIPELINE)
    else:
        (project.root / "pipeline.py").unlink()
        project.write("pivot.yaml", pivot_yaml)
    project.write("params.yaml", params_yaml)


def test_params_yaml_sections_that_are_not_stages_are_left_to_other_tools(
    project: Project,
) -> None:
    _params_project(
        project,
        """
        base:
          seed: 42
        featurize:
          bins: 8
        train:
          lr: 0.2
        """,
    )

    done = project.pivot("run")

    assert done.returncode == 0, done.stderr
    assert (project.root / "model.txt").read_text() == "lr=0.2 n_est=10"


def test_an_unknown_key_inside_a_stage_section_is_still_an_error(project: Project) -> None:
    _params_project(project, "base:\n  seed: 42\ntrain:\n  lrr: 0.2\n")

    done = project.pivot("run")

    assert done.returncode == 1
    assert "params.yaml:4:3:" in done.stderr
    assert "did you mean 'lr'?" in done.stderr
    assert not (project.root / "model.txt").exists()


INTERPOLATED = """
vars: [params.yaml]
stages:
  train:
    python: stages.train
    params:
      n_est: ${model.n_est}
      lr: ${model.lr}
"""


def test_interpolated_params_yaml_values_keep_their_type(project: Project) -> None:
    _params_project(project, "model:\n  n_est: 50\n  lr: 0.5\n", INTERPOLATED)

    done = project.pivot("run")

    assert done.returncode == 0, done.stderr
    assert (project.root / "model.txt").read_text() == "lr=0.5 n_est=50"


def test_an_interpolated_value_of_the_wrong_type_names_its_file_and_key(project: Project) -> None:
    _params_project(project, "model:\n  n_est: fifty\n  lr: 0.5\n", INTERPOLATED)

    done = project.pivot("run")

    assert done.returncode == 1
    assert "n_est" in done.stderr
    assert "${model.n_est}" in done.stderr
    assert "params.yaml:2:10" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert not (project.root / "model.txt").exists()


def _cache_object(project: Project, stage: str) -> pathlib.Path:
    lock = json.loads((project.root / f".pivot/stages/{stage}.lock").read_text())
    digest = next(iter(lock["outs"].values()))["hash"]
    return project.root / ".pivot/cache/files" / digest[:2] / digest[2:]


def _edit_in_place(path: pathlib.Path, text: str) -> None:
    with path.open("r+") as f:  # same inode: what an editor saving in place or `>>` does
        f.seek(0)
        f.write(text)
        f.truncate()


@pytest.mark.parametrize("restore", [("run",), ("checkout",)])
def test_editing_a_restored_output_never_changes_the_cache(
    project: Project, restore: tuple[str, ...]
) -> None:
    assert project.pivot("run").returncode == 0
    output = project.root / "data/clean.txt"
    cached = _cache_object(project, "prepare")
    output.unlink()

    done = project.pivot(*restore)

    assert done.returncode == 0, done.stderr
    assert output.read_text() == "HELLO\n"
    assert output.stat().st_ino != cached.stat().st_ino
    _edit_in_place(output, "EDITED\n")
    assert cached.read_text() == "HELLO\n"


def test_opt_in_hardlinks_an_edit_through_the_link_is_caught_before_reuse(
    project: Project,
) -> None:
    project.write(".pivot/config.yaml", "cache:\n  link_modes: [hardlink, copy]\n")
    assert project.pivot("run").returncode == 0
    output = project.root / "data/clean.txt"
    cached = _cache_object(project, "prepare")
    output.unlink()
    assert project.pivot("run").returncode == 0
    assert output.stat().st_ino == cached.stat().st_ino  # the user asked for hard links
    project.calls()

    _edit_in_place(output, "EDITED\n")
    code, events = project.run_json()

    assert code == 0
    assert statuses(events)["prepare"] == "ran"
    assert project.calls() == ["prepare"]
    assert output.read_text() == "HELLO\n"
    assert _cache_object(project, "prepare").read_text() == "HELLO\n"


def _git(project: Project, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project.root, capture_output=True, text=True, check=True
    ).stdout


def test_git_add_all_never_commits_data(project: Project) -> None:
    _git(project, "init", "-q")
    project.write("big.csv", "a,b\n1,2\n")
    assert project.pivot("track", "big.csv").returncode == 0
    assert project.pivot("run").returncode == 0
    assert project.pivot("run").returncode == 0

    _git(project, "add", "-A")
    committed = set(_git(project, "ls-files").split())

    assert {"big.csv.pvt", ".pivot/stages/prepare.lock", "metrics.json", "pipeline.py"} <= (
        committed
    )
    data = {"big.csv", "data/clean.txt", "models/model.txt", "eval.txt", "other.txt"}
    assert not data & committed
    assert not any(p.startswith((".pivot/cache", ".pivot/state")) for p in committed)
    assert (project.root / "data/.gitignore").read_text() == "/clean.txt\n"
    root_ignore = (project.root / ".gitignore").read_text().splitlines()
    assert sorted(root_ignore) == ["/big.csv", "/eval.txt", "/other.txt"]


def test_gitignore_keeps_user_lines_and_never_duplicates(project: Project) -> None:
    _git(project, "init", "-q")
    project.write(".gitignore", "*.log")  # no trailing newline
    assert project.pivot("run").returncode == 0
    assert project.pivot("run", "--force").returncode == 0

    lines = (project.root / ".gitignore").read_text().splitlines()

    assert lines[0] == "*.log"
    assert sorted(lines[1:]) == ["/eval.txt", "/other.txt"]
