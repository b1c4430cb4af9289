import pathlib

import pytest

from pivot.adapters.discovery import composite_source
from pivot.domain import errors
from pivot.domain import pipeline as pipeline_mod
from tests.integration.discovery import project

STAGES_PY = """\
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01


class TrainOutputs(TypedDict):
    model: Annotated[pathlib.Path, outputs.Out("models/model.pkl", loaders.PathOnly())]


def train(
    params: TrainParams,
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> TrainOutputs:
    return TrainOutputs(model=pathlib.Path("models/model.pkl"))
"""

PIVOT_YAML = """\
pipeline: my_pipeline
stages:
  train:
    python: stages.train
    deps: [data/train.csv]
    outs: [models/model.pkl]
    params: {lr: 0.1}
"""

PIPELINE_PY = """\
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("my_pipeline")
pipeline.register(stages.train, params={"lr": 0.1})
"""

PYPROJECT = """\
[tool.pivot]
modules = ["decorated"]
pipeline = "my_pipeline"
"""

DECORATED_PY = STAGES_PY.replace("def train(", '@stage(params={"lr": 0.1})\ndef train(').replace(
    "from pivot import loaders, outputs",
    "from pivot import loaders, outputs\nfrom pivot.registry import stage",
)

FORMS = {
    "yaml": {"pivot.yaml": PIVOT_YAML, "stages.py": STAGES_PY},
    "yml": {"pivot.yml": PIVOT_YAML, "stages.py": STAGES_PY},
    "python": {"pipeline.py": PIPELINE_PY, "stages.py": STAGES_PY},
    "decorator": {"pyproject.toml": PYPROJECT, "decorated.py": DECORATED_PY},
}


def _summary(pipe: pipeline_mod.Pipeline) -> dict[str, object]:
    return {
        "name": pipe.name,
        "stages": {
            st.name: (
                [(d.name, [p.relative_to(pipe.root).as_posix() for p in d.paths]) for d in st.deps],
                [(o.key, o.path.relative_to(pipe.root).as_posix(), o.kind) for o in st.outs],
                st.params_dict(),
            )
            for st in pipe.stages.values()
        },
    }


@pytest.mark.parametrize("form", list(FORMS))
def test_every_form_discovers_the_same_pipeline(tmp_path: pathlib.Path, form: str) -> None:
    project.write(tmp_path, FORMS[form])
    source = composite_source.default()
    found = source.find(tmp_path)
    assert found is not None
    assert found.name == next(iter(FORMS[form]))
    assert _summary(source.load(tmp_path)) == {
        "name": "my_pipeline",
        "stages": {
            "train": (
                [("data", ["data/train.csv"])],
                [("model", "models/model.pkl", "out")],
                {"lr": 0.1},
            )
        },
    }


@pytest.mark.parametrize("form", list(FORMS))
def test_params_file_applies_to_every_form(tmp_path: pathlib.Path, form: str) -> None:
    project.write(tmp_path, {**FORMS[form], "params.yaml": "train: {lr: 0.7}\n"})
    pipe = composite_source.default().load(tmp_path)
    assert pipe.get("train").params_dict() == {"lr": 0.7}


@pytest.mark.parametrize("yaml_name", ["pivot.yaml", "pivot.yml"])
def test_yaml_and_pipeline_py_together_is_an_error_naming_both(
    tmp_path: pathlib.Path, yaml_name: str
) -> None:
    project.write(
        tmp_path, {yaml_name: PIVOT_YAML, "pipeline.py": PIPELINE_PY, "stages.py": STAGES_PY}
    )
    source = composite_source.default()
    for attempt in (source.find, source.load):
        with pytest.raises(errors.PipelineDefinitionError) as caught:
            attempt(tmp_path)
        assert f"holds both {yaml_name} and pipeline.py" in str(caught.value)


def test_yaml_wins_over_decorator_modules(tmp_path: pathlib.Path) -> None:
    project.write(tmp_path, {**FORMS["yaml"], **FORMS["decorator"]})
    source = composite_source.default()
    assert source.find(tmp_path) == tmp_path / "pivot.yaml"


def test_empty_directory(tmp_path: pathlib.Path) -> None:
    source = composite_source.default()
    assert source.find(tmp_path) is None
    with pytest.raises(errors.PipelineDefinitionError, match="create pivot.yaml or pipeline.py"):
        source.load(tmp_path)
