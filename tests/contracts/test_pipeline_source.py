import pathlib
import sys
from collections.abc import Callable, Iterator

import pytest

from pivot.adapters.discovery import (
    composite_source,
    decorator_source,
    python_source,
    yaml_source,
)
from pivot.domain import errors
from pivot.ports import pipeline_source

STAGE = """\
from typing import Annotated

from pivot import loaders, outputs


def train(
    data: Annotated[str, outputs.Dep("data.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("model.txt", loaders.Text())]:
    return data.upper()
"""

PIPELINE_PY = (
    STAGE
    + """
from pivot.pipeline import Pipeline

pipeline = Pipeline("contract")
pipeline.register(train)
"""
)

PIVOT_YAML = "pipeline: contract\nstages:\n  train:\n    python: contract_stages:train\n"

DECORATED = STAGE.replace("def train(", "@stage()\ndef train(").replace(
    "from pivot import loaders, outputs\n",
    "from pivot import loaders, outputs\nfrom pivot.registry import stage\n",
)

PYPROJECT = '[project]\nname = "contract"\n\n[tool.pivot]\nmodules = ["contract_flows"]\n'


def _python(directory: pathlib.Path, broken: bool) -> str:
    (directory / "pipeline.py").write_text(PIPELINE_PY + ("\n{}['x']\n" if broken else ""))
    return "pipeline.py"


def _yaml(directory: pathlib.Path, broken: bool) -> str:
    (directory / "contract_stages.py").write_text(STAGE)
    text = PIVOT_YAML.replace("train:\n", "train:\n    nonsense: 1\n") if broken else PIVOT_YAML
    (directory / "pivot.yaml").write_text(text)
    return "pivot.yaml"


def _decorated(directory: pathlib.Path, broken: bool) -> str:
    (directory / "contract_flows.py").write_text(DECORATED + ("\n{}['x']\n" if broken else ""))
    (directory / "pyproject.toml").write_text(PYPROJECT)
    return "pyproject.toml"


Writer = Callable[[pathlib.Path, bool], str]
SOURCES: dict[str, tuple[Callable[[], pipeline_source.PipelineSource], Writer]] = {
    "python": (python_source.PythonPipelineSource, _python),
    "yaml": (yaml_source.YamlPipelineSource, _yaml),
    "decorator": (decorator_source.DecoratorPipelineSource, _decorated),
    "composite-python": (composite_source.default, _python),
    "composite-yaml": (composite_source.default, _yaml),
}


@pytest.fixture(autouse=True)
def isolated_imports() -> Iterator[None]:
    """Each definition's modules (same names in every test) leave sys.modules as they were."""
    saved_path = list(sys.path)
    saved = set(sys.modules)
    yield
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved:
        if name.startswith("contract_"):
            del sys.modules[name]


@pytest.fixture(params=sorted(SOURCES))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_nothing_to_find_in_an_empty_directory(kind: str, tmp_path: pathlib.Path) -> None:
    source = SOURCES[kind][0]()
    assert source.find(tmp_path) is None


def test_finds_and_loads_the_definition(kind: str, tmp_path: pathlib.Path) -> None:
    make, write = SOURCES[kind]
    name = write(tmp_path, False)
    source = make()

    assert source.find(tmp_path) == tmp_path / name
    pipe = source.load(tmp_path)

    assert pipe.list_stages() == ["train"]
    st = pipe.get("train")
    assert st.root == tmp_path
    assert list(st.dep_paths()) == [tmp_path / "data.txt"]
    assert [o.path for o in st.outs] == [tmp_path / "model.txt"]
    assert st.func("abc") == "ABC"


def test_a_broken_definition_is_a_pivot_error(kind: str, tmp_path: pathlib.Path) -> None:
    make, write = SOURCES[kind]
    write(tmp_path, True)

    with pytest.raises(errors.PivotError):
        make().load(tmp_path)
