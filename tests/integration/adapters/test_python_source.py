import json
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import cloudpickle
import pytest

from pivot.adapters.discovery import python_source
from pivot.domain import errors, pipeline

STAGES_PY = """\
from typing import Annotated

from pivot import loaders, outputs


def shout(text):
    return text.upper() + "!"


def train(
    data: Annotated[str, outputs.Dep("data.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("model.txt", loaders.Text())]:
    return shout(data)


def broken_helper():
    return {}["missing"]
"""

VALID_PIPELINE_PY = """\
from typing import Annotated

import stages
from pivot import loaders, outputs
from pivot.pipeline import Pipeline
from pivot.stage_def import StageParams


class ScaleParams(StageParams):
    factor: int = 3


def scale(params: ScaleParams) -> Annotated[dict, outputs.Out("scaled.json", loaders.JSON())]:
    return {"scaled": params.factor * 2, "via": stages.shout("ok")}


pipeline = Pipeline("demo")
pipeline.register(stages.train)
pipeline.register(scale, params={"factor": 5})
"""

# Loads pickled (function, argument) pairs in a fresh interpreter and writes the results.
RUN_PICKLED = """\
import json, sys
import cloudpickle
blob_path, import_root, out_path = sys.argv[1:]
sys.path.insert(0, import_root)
with open(blob_path, "rb") as f:
    jobs = cloudpickle.loads(f.read())
with open(out_path, "w") as f:
    json.dump([fn(arg) for fn, arg in jobs], f)
"""


@pytest.fixture(autouse=True)
def project(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pathlib.Path]:
    """A project directory as the working directory; imports it causes are undone after."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and pathlib.Path(file).is_relative_to(tmp_path):
            del sys.modules[name]


def _write(directory: pathlib.Path, name: str, source: str) -> None:
    (directory / name).write_text(textwrap.dedent(source))


def _load_error(directory: pathlib.Path) -> str:
    with pytest.raises(errors.PipelineDefinitionError) as info:
        python_source.PythonPipelineSource().load(directory)
    message = str(info.value)
    assert "Traceback" not in message
    return message


def test_find_on_an_empty_directory_is_none(project: pathlib.Path) -> None:
    assert python_source.PythonPipelineSource().find(project) is None


def test_find_returns_pipeline_py(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "")

    assert python_source.PythonPipelineSource().find(project) == project / "pipeline.py"


def test_load_without_pipeline_py_names_the_directory(project: pathlib.Path) -> None:
    message = _load_error(project)

    assert "pipeline.py" in message
    assert str(project) in message


def test_syntax_error_gives_file_line_and_column(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "import os\ndef broken(:\n    pass\n")

    message = _load_error(project)

    assert message.startswith("pipeline.py:2:12: SyntaxError: ")


def test_syntax_error_in_a_sibling_module_points_at_that_module(project: pathlib.Path) -> None:
    _write(project, "stages.py", "x = 1\ny = (2\n")
    _write(project, "pipeline.py", "import stages\n")

    message = _load_error(project)

    assert message.startswith("stages.py:2:")
    assert "SyntaxError" in message


def test_exception_at_top_level_gives_file_line_and_type(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "import os\n\nx = 1\ny = x / 0\n")

    message = _load_error(project)

    assert message == "pipeline.py:4: ZeroDivisionError: division by zero"


def test_exception_inside_a_library_points_at_the_pipeline_line(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "import json\n\nconfig = json.loads('{')\n")

    message = _load_error(project)

    assert message.startswith("pipeline.py:3: JSONDecodeError: ")


def test_exception_in_a_sibling_module_points_at_its_innermost_line(
    project: pathlib.Path,
) -> None:
    _write(project, "stages.py", STAGES_PY)
    _write(project, "pipeline.py", "import stages\n\nstages.broken_helper()\n")

    message = _load_error(project)

    assert message == "stages.py:17: KeyError: 'missing'"


def test_missing_module_is_reported_at_the_import(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "import os\nimport no_such_module_here\n")

    message = _load_error(project)

    assert message == ("pipeline.py:2: ModuleNotFoundError: No module named 'no_such_module_here'")


def test_registration_error_keeps_its_message_after_the_line(project: pathlib.Path) -> None:
    _write(
        project,
        "pipeline.py",
        """\
        from pivot.pipeline import Pipeline

        pipeline = Pipeline("demo")

        pipeline.register(lambda: None)
        """,
    )

    message = _load_error(project)

    assert message.startswith("pipeline.py:5: stage '<lambda>': a lambda cannot be a stage")


def test_missing_pipeline_variable_says_what_to_define(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "from pivot.pipeline import Pipeline\n\np = Pipeline('x')\n")

    message = _load_error(project)

    assert message.startswith("pipeline.py: ")
    assert "pipeline.py must define `pipeline = Pipeline(...)`" in message
    assert "`p`" in message


def test_pipeline_that_is_not_a_pipeline_says_what_it_is(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "import os\n\npipeline = 42\n")

    message = _load_error(project)

    assert message.startswith("pipeline.py:3: ")
    assert "int" in message
    assert "42" in message


def test_pipeline_that_is_the_pivot_module_says_so(project: pathlib.Path) -> None:
    _write(project, "pipeline.py", "from pivot import pipeline\n")

    message = _load_error(project)

    assert message.startswith("pipeline.py:1: ")
    assert "module 'pivot.pipeline'" in message


def test_valid_pipeline_with_a_sibling_module_loads(project: pathlib.Path) -> None:
    _write(project, "stages.py", STAGES_PY)
    _write(project, "pipeline.py", VALID_PIPELINE_PY)

    loaded = python_source.PythonPipelineSource().load(project)

    assert isinstance(loaded, pipeline.Pipeline)
    assert loaded.name == "demo"
    assert loaded.root == project.resolve()
    assert loaded.list_stages() == ["train", "scale"]
    # Functions defined in pipeline.py belong to no importable module: they travel by value.
    assert loaded.get("scale").func.__module__ not in sys.modules


def test_loading_twice_gives_two_equal_pipelines(project: pathlib.Path) -> None:
    _write(project, "stages.py", STAGES_PY)
    _write(project, "pipeline.py", VALID_PIPELINE_PY)
    source = python_source.PythonPipelineSource()

    first = source.load(project)
    second = source.load(project)

    assert first is not second
    assert first.list_stages() == second.list_stages()


def test_stage_functions_survive_cloudpickle_in_a_fresh_interpreter(
    project: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _write(project, "stages.py", STAGES_PY)
    _write(project, "pipeline.py", VALID_PIPELINE_PY)
    loaded = python_source.PythonPipelineSource().load(project)
    jobs = [
        (loaded.get("train").func, "abc"),
        (loaded.get("scale").func, loaded.get("scale").params),
    ]
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    blob = elsewhere / "jobs.pkl"
    blob.write_bytes(cloudpickle.dumps(jobs))
    out = elsewhere / "out.json"

    subprocess.run(
        [sys.executable, "-c", RUN_PICKLED, str(blob), str(project), str(out)],
        cwd=elsewhere,
        check=True,
    )

    assert json.loads(out.read_text()) == ["ABC!", {"scaled": 10, "via": "OK!"}]


def test_postponed_annotations_and_typed_dict_outputs_in_pipeline_py_load(
    project: pathlib.Path,
) -> None:
    _write(
        project,
        "pipeline.py",
        """\
        from __future__ import annotations

        from typing import Annotated, TypedDict

        from pivot import loaders, outputs
        from pivot.pipeline import Pipeline


        class MakeOutputs(TypedDict):
            a: Annotated[str, outputs.Out("a.txt", loaders.Text())]
            b: Annotated[dict, outputs.Out("b.json", loaders.JSON())]


        def make(raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())]) -> MakeOutputs:
            return MakeOutputs(a=raw, b={})


        pipeline = Pipeline("postponed")
        pipeline.register(make)
        """,
    )

    loaded = python_source.PythonPipelineSource().load(project)

    assert [out.key for out in loaded.get("make").outs] == ["a", "b"]
