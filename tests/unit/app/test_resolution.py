import pathlib
import sys
import textwrap
from collections.abc import Iterator

import pytest

from pivot.adapters.discovery import python_source
from pivot.adapters.memory import content_cache as memory_cache
from pivot.adapters.workspace import file_workspace_store
from pivot.app import pipelines, project
from pivot.domain import errors, pipeline

WORKSPACE = file_workspace_store.FileWorkspaceStore(memory_cache.MemoryContentCache())

HEADER = """
import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


def _count():
    with open(pathlib.Path(__file__).parent / "loads.log", "a") as f:
        f.write("x")
"""


def _stage(name: str, dep: str | None, out: str | None) -> str:
    args = f'src: Annotated[str, outputs.Dep("{dep}", loaders.Text())]' if dep else ""
    ret = (
        f'Annotated[str, outputs.Out("{out}", loaders.Text())]'
        if out
        else "Annotated[str, outputs.Out(loader=loaders.Text())]"
    )
    return f"\n\ndef {name}({args}) -> {ret}:\n    return '{name}'\n"


def _write_pipeline(
    directory: pathlib.Path,
    name: str,
    stages: list[tuple[str, str | None, str | None]],
    *,
    module: str | None = None,
) -> None:
    """A pipeline.py registering `stages`, defined in pipeline.py or in `module`.py beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    body = "".join(_stage(*s) for s in stages)
    registrations = "".join(
        f"pipeline.register({module + '.' if module else ''}{s[0]})\n" for s in stages
    )
    if module:
        (directory / f"{module}.py").write_text(textwrap.dedent(HEADER) + body)
        text = f"{HEADER}\nimport {module}\n"
    else:
        text = HEADER + body
    text += f'\n_count()\npipeline = Pipeline("{name}")\n' + registrations
    (directory / "pipeline.py").write_text(text)


_TEST_MODULES = ("stages",)
"""Module names these tests write beside their pipelines."""


@pytest.fixture(autouse=True)
def _restore_interpreter() -> Iterator[None]:
    # Like a fresh `pivot` process: no same-named module left by an earlier test (the embedding
    # API's tests keep a `stages` loaded) may answer these pipelines' imports.
    stepped_aside = {
        name: module
        for name, module in sys.modules.items()
        if name.partition(".")[0] in _TEST_MODULES
    }
    for name in stepped_aside:
        del sys.modules[name]
    modules = set(sys.modules)
    path = list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.modules.update(stepped_aside)
    sys.path[:] = path


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    project.init(tmp_path)
    return tmp_path.resolve()


def _load(
    root: pathlib.Path, start: pathlib.Path, *, all_pipelines: bool = False
) -> pipeline.Pipeline:
    found = project.find_pipeline(
        python_source.PythonPipelineSource(), start, root, WORKSPACE, all_pipelines=all_pipelines
    )
    return project.require_pipeline(found, start, root)


def test_sibling_producer_and_its_upstream_are_included(root: pathlib.Path) -> None:
    _write_pipeline(
        root / "A",
        "A",
        [("fetch", None, "raw.txt"), ("clean", "raw.txt", "clean.txt"), ("noise", None, "n.txt")],
    )
    _write_pipeline(root / "B", "B", [("consume", "../A/clean.txt", "result.txt")])

    pipe = _load(root, root / "B")

    assert set(pipe.list_stages()) == {"consume", "clean", "fetch"}
    assert pipe.get("clean").root == root / "A"
    assert pipe.get("clean").state_dir == root / "A" / ".pivot"
    assert pipe.get("clean").pipeline == "A"
    assert pipe.get("consume").pipeline == "B"


def test_closest_parent_pipeline_wins(root: pathlib.Path) -> None:
    _write_pipeline(root, "top", [("far", None, "mid/child/x.txt")])
    _write_pipeline(root / "mid", "mid", [("near", None, "child/y.txt")])
    _write_pipeline(root / "mid" / "child", "child", [("use", "y.txt", "z.txt")])

    pipe = _load(root, root / "mid" / "child")

    assert set(pipe.list_stages()) == {"use", "near"}


def test_existing_file_is_a_plain_input(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("fetch", None, "raw.txt")])
    _write_pipeline(root / "B", "B", [("consume", "../A/raw.txt", "result.txt")])
    (root / "A" / "raw.txt").write_text("already here")

    pipe = _load(root, root / "B")

    assert pipe.list_stages() == ["consume"]


def test_resolution_follows_producers_across_several_pipelines(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("one", None, "a.txt")])
    _write_pipeline(root / "B", "B", [("two", "../A/a.txt", "b.txt")])
    _write_pipeline(root / "C", "C", [("three", "../B/b.txt", "c.txt")])

    pipe = _load(root, root / "C")

    assert {n: pipe.get(n).pipeline for n in pipe.list_stages()} == {
        "three": "C",
        "two": "B",
        "one": "A",
    }


def test_each_pipeline_file_runs_once(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("one", None, "a.txt"), ("two", None, "b.txt")])
    (root / "B").mkdir()
    (root / "B" / "pipeline.py").write_text(
        HEADER
        + _stage("x", "../A/a.txt", "x.txt")
        + _stage("y", "../A/b.txt", "y.txt")
        + '\n_count()\npipeline = Pipeline("B")\npipeline.register(x)\npipeline.register(y)\n'
    )

    pipe = _load(root, root / "B")

    assert set(pipe.list_stages()) == {"x", "y", "one", "two"}
    assert (root / "A" / "loads.log").read_text() == "x"
    assert (root / "B" / "loads.log").read_text() == "x"


def test_same_named_stage_modules_do_not_clash(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("make", None, "a.txt")], module="stages")
    _write_pipeline(root / "B", "B", [("make", "../A/a.txt", "b.txt")], module="stages")

    pipe = _load(root, root / "B")

    own, included = pipe.get("make"), pipe.get("A/make")
    assert pathlib.Path(own.func.__code__.co_filename) == root / "B" / "stages.py"
    assert pathlib.Path(included.func.__code__.co_filename) == root / "A" / "stages.py"
    # B's module stays importable by name; A's is not left to shadow it.
    assert pathlib.Path(sys.modules["stages"].__file__ or "") == root / "B" / "stages.py"


def test_unresolved_missing_dependency_is_left_for_the_run_to_report(
    root: pathlib.Path,
) -> None:
    _write_pipeline(root / "B", "B", [("consume", "missing.txt", "result.txt")])

    pipe = _load(root, root / "B")

    assert pipe.list_stages() == ["consume"]


def test_broken_pipeline_found_while_searching_names_the_needed_path(
    root: pathlib.Path,
) -> None:
    (root / "A").mkdir()
    (root / "A" / "pipeline.py").write_text("raise RuntimeError('boom')\n")
    _write_pipeline(root / "B", "B", [("consume", "missing.txt", "result.txt")])

    with pytest.raises(errors.PipelineDefinitionError, match="B/missing.txt.*'consume'.*boom"):
        _load(root, root / "B")


def test_all_merges_every_pipeline_prefixing_collisions(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("make", None, "a.txt"), ("placed", None, None)])
    _write_pipeline(root / "B", "B", [("make", None, "b.txt")], module="stages")
    _write_pipeline(root / "B" / "sub", "sub", [("solo", None, "s.txt")])

    pipe = _load(root, root / "B", all_pipelines=True)

    assert pipe.name == "all"
    assert pipe.root == root
    assert {n: pipe.get(n).pipeline for n in pipe.list_stages()} == {
        "make": "A",
        "placed": "A",
        "B/make": "B",
        "solo": "sub",
    }
    assert pipe.get("B/make").state_dir == root / "B" / ".pivot"
    assert [o.path for o in pipe.get("placed").outs] == [root / "data" / "all" / "placed.txt"]


def test_all_without_any_pipeline_is_an_error(root: pathlib.Path) -> None:
    with pytest.raises(errors.PipelineDefinitionError, match="no pipeline found anywhere"):
        _load(root, root, all_pipelines=True)


def test_project_walk_skips_tool_and_environment_directories(root: pathlib.Path) -> None:
    _write_pipeline(root / "A", "A", [("make", None, "a.txt")])
    for skipped in (".venv", "node_modules", ".git"):
        _write_pipeline(root / skipped / "x", skipped, [("hidden", None, "h.txt")])
    loader = pipelines.PipelineLoader(python_source.PythonPipelineSource(), root, WORKSPACE)

    assert loader.project_directories() == [root / "A"]


def test_yaml_pipeline_resolves_producer_from_python_pipeline(root: pathlib.Path) -> None:
    from pivot.adapters.discovery import composite_source

    _write_pipeline(root / "A", "A", [("make", None, "a.txt")], module="stages")
    (root / "B").mkdir()
    (root / "B" / "stages.py").write_text(HEADER + _stage("consume", "../A/a.txt", "b.txt"))
    (root / "B" / "pivot.yaml").write_text(
        "pipeline: B\nstages:\n  consume:\n    python: stages:consume\n"
    )

    pipe = project.require_pipeline(
        project.find_pipeline(composite_source.default(), root / "B", root, WORKSPACE),
        root / "B",
        root,
    )

    assert {n: pipe.get(n).pipeline for n in pipe.list_stages()} == {"consume": "B", "make": "A"}
    assert pathlib.Path(pipe.get("make").func.__code__.co_filename) == root / "A" / "stages.py"
