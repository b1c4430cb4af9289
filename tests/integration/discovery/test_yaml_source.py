import json
import pathlib

import pytest

from pivot.adapters.discovery import function_stage, yaml_model, yaml_source
from pivot.domain import specs
from tests.integration.discovery import project


def _load(root: pathlib.Path, pivot_yaml: str, **files: str):
    project.write(root, {"pivot.yaml": pivot_yaml, "stages.py": project.STAGES_PY, **files})
    return yaml_source.YamlPipelineSource().load(root)


def test_find_prefers_pivot_yaml_then_pivot_yml(tmp_path: pathlib.Path) -> None:
    source = yaml_source.YamlPipelineSource()
    assert source.find(tmp_path) is None
    (tmp_path / "pivot.yml").write_text("stages: {}\n")
    assert source.find(tmp_path) == tmp_path / "pivot.yml"
    (tmp_path / "pivot.yaml").write_text("stages: {}\n")
    assert source.find(tmp_path) == tmp_path / "pivot.yaml"


def test_design_example_loads_with_overrides_and_params(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        pipeline: my_pipeline
        stages:
          train:
            python: stages.train
            deps: [data/other.csv]
            outs: {model: models/m.pkl}
            metrics: [scores.json]
            params: {lr: 0.1}
            mutex: [gpu]
            resources: {GPU: 1, memory: 2GiB}
        """,
    )
    assert pipe.name == "my_pipeline"
    assert pipe.root == tmp_path.resolve()
    st = pipe.get("train")
    assert st.deps[0].name == "data"
    assert st.deps[0].paths == (tmp_path.resolve() / "data/other.csv",)
    outs = {o.key: o.path for o in st.outs}
    assert outs == {
        "model": tmp_path.resolve() / "models/m.pkl",
        "scores": tmp_path.resolve() / "scores.json",
    }
    assert st.params_dict() == {"lr": 0.1, "epochs": 10}
    assert st.mutex == ("gpu",)
    assert st.resources == (("GPU", 1.0), ("memory", 2.0 * 2**30))
    assert st.func.__name__ == "train"


def test_pipeline_name_defaults_to_directory_name(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "churn"
    root.mkdir()
    pipe = _load(root, "stages:\n  train:\n    python: stages:train\n")
    assert pipe.name == "churn"
    assert pipe.list_stages() == ["train"]


@pytest.mark.parametrize("reference", ["stages:train", "stages.train", "pkg.mod:train"])
def test_function_reference_forms(tmp_path: pathlib.Path, reference: str) -> None:
    pipe = _load(
        tmp_path,
        f"stages:\n  train:\n    python: {reference}\n",
        **{"pkg/__init__.py": "", "pkg/mod.py": "from stages import train\n"},
    )
    assert pipe.get("train").func.__qualname__ == "train"


def test_no_overrides_keeps_annotated_paths(tmp_path: pathlib.Path) -> None:
    pipe = _load(tmp_path, "stages:\n  prep:\n    python: stages.prepare\n")
    st = pipe.get("prep")
    assert [d.paths[0].name for d in st.deps] == ["raw.csv", "extra.csv"]
    assert [o.key for o in st.outs] == [None]


def test_list_override_is_positional_and_single_output_by_stage_name(
    tmp_path: pathlib.Path,
) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          prep:
            python: stages.prepare
            deps: [in/a.csv, in/b.csv]
            outs: {prep: out/train.csv}
        """,
    )
    st = pipe.get("prep")
    assert {d.name: d.paths[0].relative_to(tmp_path.resolve()).as_posix() for d in st.deps} == {
        "raw": "in/a.csv",
        "extra": "in/b.csv",
    }
    assert st.outs[0].path == tmp_path.resolve() / "out/train.csv"


def test_plots_override_and_multi_path_dep(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          plot:
            python: stages.plot
            deps: {data: [a.csv, b.csv]}
            plots: [plots/other.csv]
        """,
    )
    st = pipe.get("plot")
    assert st.deps[0].multi
    assert [p.name for p in st.deps[0].paths] == ["a.csv", "b.csv"]
    assert st.outs[0].kind == specs.OutKind.PLOT
    assert st.outs[0].path.name == "other.csv"


def test_function_without_annotations_tracks_listed_paths(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        stages:
          shout:
            python: stages.plain
            deps: [notes.txt]
            outs: [report.txt]
        """,
        **{"notes.txt": "hello"},
    )
    st = pipe.get("shout")
    assert isinstance(st.func, function_stage.PlainCall)
    assert [d.paths[0].name for d in st.deps] == ["notes.txt"]
    assert [(o.key, o.path.name) for o in st.outs] == [(None, "report.txt")]
    # The executor passes every dep by name; the function takes none of them.
    result = project.run_in(tmp_path, st.func, **{d.name: d.paths[0] for d in st.deps})
    assert result == pathlib.Path("report.txt")
    assert (tmp_path / "report.txt").read_text() == "HELLO"


def test_vars_files_and_inline_values_fill_interpolation(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        """\
        vars:
          - config/vars.yaml
          - {rate: 0.5}
        stages:
          train:
            python: stages.train
            deps: {data: "${data.dir}/train.csv"}
            params: {lr: "${rate}", epochs: "${epochs}"}
        """,
        **{"config/vars.yaml": "data: {dir: inputs}\nepochs: 7\n"},
    )
    st = pipe.get("train")
    assert st.deps[0].paths[0] == tmp_path.resolve() / "inputs/train.csv"
    assert st.params_dict() == {"lr": 0.5, "epochs": 7}


def test_yaml_and_python_forms_build_the_same_stage(tmp_path: pathlib.Path) -> None:
    import sys

    pipe = _load(tmp_path, "stages:\n  train:\n    python: stages.train\n")
    stages_mod = sys.modules["stages"]
    from pivot.domain import pipeline

    twin = pipeline.Pipeline(pipe.name, root=tmp_path)
    twin.register(stages_mod.train)
    assert pipe.get("train") == twin.get("train")


def test_json_schema_describes_the_file() -> None:
    schema = yaml_model.json_schema()
    text = json.dumps(schema)
    assert schema["required"] == ["stages"]
    assert set(schema["properties"]) == {"pipeline", "stages", "vars"}
    stage = schema["$defs"]["StageConfig"]
    assert stage["additionalProperties"] is False
    assert {"python", "cmd", "deps", "outs", "metrics", "plots", "params", "mutex", "matrix"} <= (
        set(stage["properties"])
    )
    assert "module:function" in text
