import pathlib
import re

import pytest

from pivot.adapters.discovery import declaration, matrix, yaml_source
from pivot.domain import errors
from tests.integration.discovery import project


def test_two_by_two_names_in_dimension_order() -> None:
    variants = matrix.expand("train", {"model": ["a", "b"], "data": ["x", "y"]})
    assert [v.name for v in variants] == ["train@a_x", "train@a_y", "train@b_x", "train@b_y"]
    assert variants[1].values == {"model": "a", "data": "y"}


def test_scalar_values_keep_their_type_and_read_as_yaml() -> None:
    variants = matrix.expand("fit", {"lr": [0.1, 1], "norm": [True]})
    assert [v.name for v in variants] == ["fit@0.1_true", "fit@1_true"]
    assert variants[0].values == {"lr": 0.1, "norm": True}


def test_mapping_dimension_carries_per_value_overrides() -> None:
    variants = matrix.expand(
        "train",
        {
            "model": {"bert": {"params": {"hidden": 768}}, "gpt": {"deps": {"tok": "t.json"}}},
            "data": {"swe": None},
        },
    )
    assert [v.name for v in variants] == ["train@bert_swe", "train@gpt_swe"]
    assert variants[0].overrides == {"params": {"hidden": 768}}
    assert variants[1].overrides == {"deps": {"tok": "t.json"}}
    assert variants[1].values == {"model": "gpt", "data": "swe"}


def test_name_template_replaces_the_variant_part() -> None:
    variants = matrix.expand("train", {"m": ["a", "b"], "d": ["x"]}, "${d}-${m}")
    assert [v.name for v in variants] == ["train@x-a", "train@x-b"]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("${m}", "both give the stage name 'train@a'"),
        ("${nope}", "unresolved ${nope}"),
        ("x@${m}${d}", "must not contain '@'"),
    ],
)
def test_bad_name_templates(template: str, problem: str) -> None:
    with pytest.raises(declaration.DeclarationError, match=re.escape(problem)) as caught:
        matrix.expand("train", {"m": ["a"], "d": ["x", "y"]}, template)
    assert caught.value.where == ("name",)


def test_empty_dimension_and_empty_matrix() -> None:
    with pytest.raises(declaration.DeclarationError, match="dimension 'm' is empty") as caught:
        matrix.expand("t", {"m": []})
    assert caught.value.where == ("matrix", "m")
    with pytest.raises(declaration.DeclarationError, match="no dimensions"):
        matrix.expand("t", {})


def test_merge_updates_mappings_extends_lists_and_deep_merges_params() -> None:
    base = {
        "deps": {"data": "d.csv"},
        "outs": ["a"],
        "params": {"opt": {"lr": 1, "m": 2}},
        "mutex": ["gpu"],
    }
    override = {
        "deps": {"tok": "t.json"},
        "outs": ["b"],
        "params": {"opt": {"lr": 3}},
        "plots": ["p.csv"],
    }
    assert matrix.merge(base, override) == {
        "deps": {"data": "d.csv", "tok": "t.json"},
        "outs": ["a", "b"],
        "params": {"opt": {"lr": 3, "m": 2}},
        "mutex": ["gpu"],
        "plots": ["p.csv"],
    }


def test_merge_rejects_mixed_forms() -> None:
    with pytest.raises(declaration.DeclarationError, match="'deps' is a list in the stage"):
        matrix.merge({"deps": ["a"]}, {"deps": {"x": "b"}}, where=("matrix", "m", "v"))


def test_yaml_matrix_interpolates_paths_and_params(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "stages.py": project.STAGES_PY,
            "pivot.yaml": """\
            stages:
              train:
                python: stages.train
                deps: {data: "data/${data}.csv"}
                outs: {model: "models/${model}_${data}.pkl"}
                metrics: {scores: "metrics/${model}_${data}.json"}
                matrix:
                  model:
                    a: {params: {lr: 0.5}}
                    b: {params: {epochs: 3}}
                  data: [x, y]
            """,
        },
    )
    pipe = yaml_source.YamlPipelineSource().load(tmp_path)
    assert pipe.list_stages() == ["train@a_x", "train@a_y", "train@b_x", "train@b_y"]
    st = pipe.get("train@b_y")
    root = tmp_path.resolve()
    assert st.deps[0].paths == (root / "data/y.csv",)
    assert {o.key: o.path for o in st.outs} == {
        "model": root / "models/b_y.pkl",
        "scores": root / "metrics/b_y.json",
    }
    assert st.params_dict() == {"lr": 0.01, "epochs": 3}
    assert pipe.get("train@a_x").params_dict() == {"lr": 0.5, "epochs": 10}


def test_yaml_matrix_from_vars_with_typed_values_and_template(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "stages.py": project.STAGES_PY,
            "pivot.yaml": """\
            vars: [{rates: [0.1, 0.2]}]
            stages:
              train:
                python: stages.train
                outs: {model: "models/${lr}.pkl"}
                metrics: {scores: "metrics/${lr}.json"}
                params: {lr: "${lr}"}
                name: "lr-${lr}"
                matrix:
                  lr: "${rates}"
            """,
        },
    )
    pipe = yaml_source.YamlPipelineSource().load(tmp_path)
    assert pipe.list_stages() == ["train@lr-0.1", "train@lr-0.2"]
    assert pipe.get("train@lr-0.2").params_dict()["lr"] == 0.2


def test_yaml_matrix_dimension_var_of_the_wrong_shape(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "stages.py": project.STAGES_PY,
            "pivot.yaml": """\
            vars: [{rates: 3}]
            stages:
              train:
                python: stages.train
                matrix:
                  lr: "${rates}"
            """,
        },
    )
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        yaml_source.YamlPipelineSource().load(tmp_path)
    assert "pivot.yaml:6:11: stage 'train': matrix dimension 'lr' must be a list" in str(
        caught.value
    )


def test_yaml_matrix_variant_override_of_an_undeclared_dep(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "stages.py": project.STAGES_PY,
            "pivot.yaml": """\
            stages:
              train:
                python: stages.train
                matrix:
                  model:
                    a: {}
                    b: {deps: {tokenizer: t.json}}
            """,
        },
    )
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        yaml_source.YamlPipelineSource().load(tmp_path)
    message = str(caught.value)
    assert "stage 'train@b': deps names 'tokenizer'" in message
    assert "pivot.yaml:" in message
