import pathlib
import subprocess
import sys

import pytest

from pivot import registry
from pivot.adapters.discovery import decorator_source, function_stage
from pivot.domain import errors
from tests.integration.discovery import project

PYPROJECT = """\
[project]
name = "demo"

[tool.pivot]
modules = ["flows"]
"""

FLOWS_PY = """\
import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.registry import stage
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01


@stage(deps=["data/other.csv"], outs=["models/m.pkl"], params={"lr": 0.2}, mutex=["gpu"])
def train(
    params: TrainParams,
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> Annotated[pathlib.Path, outputs.Out("models/model.pkl", loaders.PathOnly())]:
    return pathlib.Path("models/m.pkl")


@stage(deps=["notes.txt"], outs=["report.txt"], name="report")
def make_report():
    pathlib.Path("report.txt").write_text("ok")


@stage
def bare(
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> Annotated[pathlib.Path, outputs.Out("bare.txt", loaders.PathOnly())]:
    return pathlib.Path("bare.txt")


def helper():
    return 1
"""


def _project(root: pathlib.Path, flows: str = FLOWS_PY, pyproject: str = PYPROJECT):
    return project.write(root, {"pyproject.toml": pyproject, "flows.py": flows})


def test_find_needs_tool_pivot_modules(tmp_path: pathlib.Path) -> None:
    source = decorator_source.DecoratorPipelineSource()
    assert source.find(tmp_path) is None
    project.write(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"})
    assert source.find(tmp_path) is None
    project.write(tmp_path, {"pyproject.toml": "not = [valid toml\n"})
    assert source.find(tmp_path) is None
    _project(tmp_path)
    assert source.find(tmp_path) == tmp_path / "pyproject.toml"


def test_decorated_functions_become_stages(tmp_path: pathlib.Path) -> None:
    pipe = decorator_source.DecoratorPipelineSource().load(_project(tmp_path))
    root = tmp_path.resolve()
    assert pipe.name == tmp_path.name
    assert pipe.list_stages() == ["train", "report", "bare"]
    train = pipe.get("train")
    assert train.deps[0].paths == (root / "data/other.csv",)
    assert [o.path for o in train.outs] == [root / "models/m.pkl"]
    assert train.params_dict() == {"lr": 0.2}
    assert train.mutex == ("gpu",)
    report = pipe.get("report")
    assert isinstance(report.func, function_stage.PlainCall)
    assert [d.paths for d in report.deps] == [(root / "notes.txt",)]
    assert [(o.key, o.path) for o in report.outs] == [(None, root / "report.txt")]
    assert pipe.get("bare").outs[0].path == root / "bare.txt"


def test_decorator_returns_the_function_unchanged() -> None:
    def sample() -> None: ...

    assert registry.stage(deps=["a"])(sample) is sample
    assert registry.stage(sample) is sample


def test_pipeline_name_from_tool_pivot(tmp_path: pathlib.Path) -> None:
    pipe = decorator_source.DecoratorPipelineSource().load(
        _project(tmp_path, pyproject=PYPROJECT + 'pipeline = "deco"\n')
    )
    assert pipe.name == "deco"


def test_same_module_name_in_two_projects_does_not_leak(tmp_path: pathlib.Path) -> None:
    first = decorator_source.DecoratorPipelineSource().load(_project(tmp_path / "a"))
    other = FLOWS_PY.split('@stage(deps=["notes.txt"]', maxsplit=1)[0]
    second = decorator_source.DecoratorPipelineSource().load(_project(tmp_path / "b", other))
    assert first.list_stages() == ["train", "report", "bare"]
    assert second.list_stages() == ["train"]
    assert second.get("train").root == (tmp_path / "b").resolve()


def test_missing_module_names_pyproject(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, pyproject=PYPROJECT.replace("flows", "flowz"))
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        decorator_source.DecoratorPipelineSource().load(tmp_path)
    assert "pyproject.toml: [tool.pivot] modules: cannot import module 'flowz'" in str(caught.value)


def test_modules_must_be_a_list_of_names(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, pyproject=PYPROJECT.replace('["flows"]', '"flows"'))
    with pytest.raises(errors.PipelineDefinitionError, match="must be a list of module names"):
        decorator_source.DecoratorPipelineSource().load(tmp_path)


def test_bad_override_points_at_the_function(tmp_path: pathlib.Path) -> None:
    flows = FLOWS_PY.replace('deps=["data/other.csv"]', 'deps={"dat": "x.csv"}')
    _project(tmp_path, flows)
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        decorator_source.DecoratorPipelineSource().load(tmp_path)
    message = str(caught.value)
    assert "flows.py:13: @stage 'train': deps names 'dat'" in message
    assert "did you mean 'data'?" in message


def test_invalid_params_name_stage_and_field(tmp_path: pathlib.Path) -> None:
    _project(tmp_path, FLOWS_PY.replace('params={"lr": 0.2}', 'params={"lr": "fast"}'))
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        decorator_source.DecoratorPipelineSource().load(tmp_path)
    assert "@stage 'train': invalid value for param 'lr' of TrainParams" in str(caught.value)


def test_importing_the_registry_stays_cheap() -> None:
    script = (
        "import sys, pivot.registry; "
        + "print(sorted(m for m in ('ruamel', 'lmdb', 'loky', 'pydantic', 'cloudpickle') "
        + "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
