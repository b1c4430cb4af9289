import json
import textwrap

import pytest

from tests.e2e.conftest import Project, statuses

TWIN_STAGES = """
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01


class TrainOutputs(TypedDict):
    model: Annotated[pathlib.Path, outputs.Out("models/model.pkl", loaders.PathOnly())]


def run(
    params: TrainParams,
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> TrainOutputs:
    with open("calls.log", "a") as f:
        f.write("train\\n")
    out = pathlib.Path("models/model.pkl")
    out.write_text(f"lr={params.lr} rows={len(data.read_text().splitlines())}")
    return TrainOutputs(model=out)
"""

FORMS = {
    "pipeline.py": {
        "pipeline.py": """
            from pivot.pipeline import Pipeline
            import stages

            pipeline = Pipeline("my_pipeline")
            pipeline.register(stages.run, name="train", params={"lr": 0.1})
        """,
    },
    "pivot.yaml": {
        "pivot.yaml": """
            pipeline: my_pipeline
            stages:
              train:
                python: stages:run
                deps: [data/train.csv]
                outs: [models/model.pkl]
                params: {lr: 0.1}
        """,
    },
    "decorator": {
        "pyproject.toml": """
            [tool.pivot]
            pipeline = "my_pipeline"
            modules = ["stages"]
        """,
    },
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_form_runs_skips_and_reruns_alike(project: Project, form: str) -> None:
    for name in ("pipeline.py", "stages.py"):
        (project.root / name).unlink()
    project.write("stages.py", TWIN_STAGES)
    for name, text in FORMS[form].items():
        project.write(name, textwrap.dedent(text))
    if form == "decorator":
        decorated = TWIN_STAGES.replace(
            "\ndef run(", '\n@stage(name="train", params={"lr": 0.1})\ndef run('
        )
        project.write("stages.py", "from pivot.registry import stage\n" + decorated)
    project.write("data/train.csv", "a\nb\n")

    code, events = project.run_json()
    assert (code, statuses(events)) == (0, {"train": "ran"})
    assert (project.root / "models/model.pkl").read_text() == "lr=0.1 rows=2"

    code, events = project.run_json()
    assert (code, statuses(events)) == (0, {"train": "skipped"})

    project.write("data/train.csv", "a\nb\nc\n")
    code, events = project.run_json()
    assert (code, statuses(events)) == (0, {"train": "ran"})
    assert project.calls() == ["train", "train"]


def test_dvc_style_cmd_stages(project: Project) -> None:
    (project.root / "pipeline.py").unlink()
    project.write(
        "scripts/upper.py",
        """
        import sys
        open(sys.argv[2], "w").write(open(sys.argv[1]).read().upper())
        open("calls.log", "a").write("upper\\n")
    """,
    )
    project.write(
        "pivot.yaml",
        """
        stages:
          upper:
            cmd: python scripts/upper.py raw.txt upper.txt
            deps: [scripts/upper.py, raw.txt]
            outs: [upper.txt]
    """,
    )

    assert project.run_json()[0] == 0
    assert (project.root / "upper.txt").read_text() == "HELLO\n"
    assert statuses(project.run_json()[1]) == {"upper": "skipped"}

    project.edit("scripts/upper.py", ".upper()", ".upper().strip()")
    assert statuses(project.run_json()[1]) == {"upper": "ran"}
    assert project.calls() == ["upper", "upper"]


MATRIX_STAGES = """
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class P(StageParams):
    size: str = "none"
    lr: float = 0.0


def train(params: P) -> Annotated[dict, outputs.Out(loader=loaders.JSON())]:
    with open("calls.log", "a") as f:
        f.write(f"{params.size}-{params.lr}\\n")
    return {"size": params.size, "lr": params.lr}
"""


def test_matrix_glob_targets_and_variant_params(project: Project) -> None:
    (project.root / "pipeline.py").unlink()
    project.write("stages.py", MATRIX_STAGES)
    project.write(
        "pivot.yaml",
        """
        stages:
          train:
            python: stages.train
            matrix:
              size: [a, b]
              opt: [x, y]
            params:
              size: ${size}
              lr: 0.1
    """,
    )
    project.write(
        "params.yaml",
        """
        train:
          lr: 0.2
        train@a_y:
          lr: 0.9
    """,
    )

    listing = json.loads(project.pivot("list", "--json").stdout)
    assert sorted(s["name"] for s in listing["stages"]) == [
        "train@a_x",
        "train@a_y",
        "train@b_x",
        "train@b_y",
    ]

    code, events = project.run_json("train@a_*")
    assert code == 0
    assert sorted(statuses(events)) == ["train@a_x", "train@a_y"]
    assert sorted(project.calls()) == ["a-0.2", "a-0.9"]


def test_params_yaml_change_reruns_only_its_stage_and_explains(project: Project) -> None:
    project.write("params.yaml", "train:\n  lr: 0.3\n")
    project.run_json()
    project.calls()
    project.write("params.yaml", "train:\n  lr: 0.4\n")

    explain = project.pivot("status", "--explain").stdout
    assert "param lr changed: 0.3 → 0.4" in explain

    project.run_json()
    # evaluate consumes train's changed model, so it re-runs too; prepare and other do not
    assert sorted(project.calls()) == ["evaluate", "train"]
    shown = json.loads(project.pivot("params", "show", "--json").stdout)
    assert shown["train"] == {"lr": 0.4}


def test_explain_names_changed_helper_with_call_path(project: Project) -> None:
    project.write("helpers/__init__.py", "")
    project.write(
        "helpers/deep.py",
        """
        def scale(x):
            return x * 2
    """,
    )
    project.write(
        "helpers/mid.py",
        """
        from helpers import deep


        def build(x):
            return deep.scale(x) + 1
    """,
    )
    project.edit("stages.py", "def other(", "import helpers.mid\n\n\ndef other(")
    project.edit("stages.py", "return raw[::-1]", "return raw[::-1] * helpers.mid.build(1)")
    assert project.run_json()[0] == 0
    project.calls()
    project.edit("helpers/deep.py", "x * 2", "x * 3")

    out = project.pivot("status", "--explain").stdout

    assert "func:helpers.deep.scale" in out, out
    assert "other → " in out, out
    assert "deep.py:1" in out, out
    project.run_json()
    assert project.calls() == ["other"]
