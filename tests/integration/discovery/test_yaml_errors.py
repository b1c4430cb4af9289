import pathlib

import pytest

from pivot.adapters.discovery import yaml_source
from pivot.domain import errors
from tests.integration.discovery import project


def _error(root: pathlib.Path, pivot_yaml: str, **files: str) -> str:
    project.write(root, {"pivot.yaml": pivot_yaml, "stages.py": project.STAGES_PY, **files})
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        yaml_source.YamlPipelineSource().load(root)
    return str(caught.value)


def test_malformed_yaml_points_at_the_problem(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: [unclosed\n")
    assert "pivot.yaml:4:1: malformed YAML" in message


def test_duplicate_key_is_malformed_yaml(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n  train:\n    python: stages.train\n",
    )
    assert "pivot.yaml:4:3: malformed YAML" in message
    assert "duplicate key" in message


def test_top_level_must_be_a_mapping(tmp_path: pathlib.Path) -> None:
    assert "pivot.yaml:1:1: the file must be a mapping" in _error(tmp_path, "- train\n")


def test_missing_stages_key(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "pipeline: p\n")
    assert "pivot.yaml:1:1: missing required key 'stages'" in message


def test_unknown_top_level_key_suggests_the_right_one(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "pipeline: p\nstage:\n  train: {python: stages.train}\n")
    assert "pivot.yaml:2:1: unknown key 'stage'; did you mean 'stages'?" in message
    assert "Allowed keys: pipeline, vars, stages" in message


def test_unknown_stage_key_names_stage_and_suggests(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    dep: [data/x.csv]\n",
    )
    assert "pivot.yaml:4:5: stage 'train': unknown key 'dep'; did you mean 'deps'?" in message
    assert "python, cmd, deps, outs" in message


def test_unknown_key_in_a_matrix_variant(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        """\
        stages:
          train:
            python: stages.train
            matrix:
              model:
                bert: {parms: {lr: 0.2}}
        """,
    )
    assert "pivot.yaml:6:16: stage 'train': unknown key 'parms'; did you mean 'params'?" in message


def test_python_and_cmd_together_are_rejected(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: stages.train\n    cmd: echo\n")
    assert "pivot.yaml:2:3: stage 'train': give exactly one of 'python:'" in message


def test_stage_needs_python_or_cmd(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    deps: [a]\n")
    assert "pivot.yaml:2:3: stage 'train': give exactly one of" in message


def test_wrong_shape_says_what_is_allowed(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: stages.train\n    deps: 5\n")
    assert "pivot.yaml:4:11: stage 'train': deps:" in message
    assert "expected: Inputs." in message


def test_missing_module(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: nowhere.train\n")
    assert "pivot.yaml:3:13: stage 'train': cannot import module 'nowhere'" in message


def test_missing_function_suggests_a_close_name(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: stages:trian\n")
    assert "pivot.yaml:3:13: stage 'train':" in message
    assert "has no function 'trian'; did you mean 'train'?" in message


def test_module_that_fails_to_import_reports_its_error(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: broken.train\n",
        **{"broken.py": "import not_installed_anywhere\n"},
    )
    assert "pivot.yaml:3:13:" in message
    assert "importing module 'broken' raised ModuleNotFoundError" in message
    assert "not_installed_anywhere" in message


def test_not_a_function_reference(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: train\n")
    assert "pivot.yaml:3:13:" in message
    assert "write 'module:function' or 'module.function'" in message


def test_reference_to_a_non_function(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n    python: stages.VALUE\n")
    assert "'stages.VALUE' is a int, not a function" in message


def test_unresolved_variable_is_named(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "vars: [{known: 1}]\nstages:\n  train:\n    python: stages.train\n"
        + "    deps: {data: '${missing}/x.csv'}\n",
    )
    assert "pivot.yaml:5:18: stage 'train': unresolved ${missing}" in message
    assert "defined variables: known" in message


def test_params_reference_outside_cmd_is_explained(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    deps: ['${params.lr}']\n",
    )
    assert "unresolved ${params.lr}" in message
    assert "only available in 'cmd:'" in message


def test_empty_matrix_dimension(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    matrix:\n      model: []\n",
    )
    assert "pivot.yaml:5:7: stage 'train': matrix dimension 'model' is empty" in message


def test_params_of_the_wrong_type_name_stage_and_field(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    params:\n      lr: fast\n",
    )
    assert "pivot.yaml:5:11: stage 'train': invalid value for param 'lr' of TrainParams" in message
    assert "valid number" in message


def test_unknown_param_suggests_the_field(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    params: {lrr: 0.1}\n",
    )
    assert (
        "pivot.yaml:4:14: stage 'train': 'lrr' is not a parameter of TrainParams; "
        + "did you mean 'lr'?"
    ) in message


def test_params_for_a_function_without_params(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  prep:\n    python: stages.prepare\n    params: {lr: 0.1}\n",
    )
    assert "pivot.yaml:4:5: stage 'prep': params were given but 'prepare' takes no StageParams" in (
        message
    )


def test_vars_file_outside_the_pipeline_directory(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "pipe"
    project.write(tmp_path, {"shared.yaml": "a: 1\n"})
    message = _error(root, "vars: [../shared.yaml]\nstages: {}\n")
    assert "pivot.yaml:1:8: vars file '../shared.yaml' lies outside the pipeline directory" in (
        message
    )


def test_missing_vars_file(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "vars: [nope.yaml]\nstages: {}\n")
    assert "pivot.yaml:1:8: vars file 'nope.yaml' does not exist" in message


def test_malformed_vars_file_points_into_that_file(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "vars: [v.yaml]\nstages: {}\n", **{"v.yaml": "a: [1\n"})
    assert "v.yaml:2:1: malformed YAML" in message


def test_dep_override_naming_an_undeclared_dep(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    deps: {dta: x.csv}\n",
    )
    assert "pivot.yaml:4:12: stage 'train': deps names 'dta'" in message
    assert "declares no such dependency; did you mean 'data'?" in message


def test_out_override_naming_an_undeclared_output(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    outs: {modle: m.pkl}\n",
    )
    assert "pivot.yaml:4:12: stage 'train': outs names 'modle'" in message
    assert "did you mean 'model'?" in message


def test_output_listed_under_the_wrong_kind(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  train:\n    python: stages.train\n    metrics: {model: m.json}\n",
    )
    assert "output 'model' of 'train' is declared as Out; list it under 'outs:'" in message


def test_list_override_with_the_wrong_count(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  prep:\n    python: stages.prepare\n    deps: [only_one.csv]\n",
    )
    assert "pivot.yaml:4:5: stage 'prep': deps lists 1 path(s)" in message
    assert "'raw', 'extra', in this order" in message


def test_output_naming_a_parent_of_the_pipeline_root(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  prep:\n    python: stages.prepare\n    outs: [..]\n",
    )
    assert "pivot.yaml:2:3:" in message
    assert "is the pipeline directory or one of its parents" in message


def test_cmd_with_unknown_param_reference(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  fit:\n    cmd: python fit.py --lr ${params.lr}\n    params: {rate: 1}\n",
    )
    assert "pivot.yaml:3:10: stage 'fit': unresolved ${params.lr}" in message


def test_invalid_stage_name(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  'a:b':\n    python: stages.train\n")
    assert "pivot.yaml:2:3: invalid stage name 'a:b'" in message


def test_matrix_stage_name_with_separator(tmp_path: pathlib.Path) -> None:
    message = _error(
        tmp_path,
        "stages:\n  a@b:\n    python: stages.train\n    matrix: {m: [x]}\n",
    )
    assert "pivot.yaml:2:3: stage 'a@b': a matrix stage's name must not contain '@'" in message


def test_name_template_without_matrix(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  t:\n    python: stages.train\n    name: x\n")
    assert "'name:' is a template for matrix variants; it needs 'matrix:'" in message


def test_stage_must_be_a_mapping(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "stages:\n  train:\n")
    assert "pivot.yaml:2:3: stage 'train': a stage must be a mapping with 'python:' or 'cmd:'" in (
        message
    )


def test_stages_must_be_a_mapping(tmp_path: pathlib.Path) -> None:
    assert "pivot.yaml:1:1: 'stages' must be a mapping" in _error(tmp_path, "stages: [a]\n")
