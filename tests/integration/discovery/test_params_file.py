import pathlib

import pytest

from pivot.adapters.discovery import params_file, shell_command, yaml_source
from pivot.domain import errors, pipeline
from tests.integration.discovery import param_stages, project

MATRIX_YAML = """\
stages:
  fit:
    python: tests.integration.discovery.param_stages.fit
    outs: ["out/${m}.txt"]
    params: {epochs: 20}
    matrix:
      m: [a, b]
"""


def _python_pipeline(root: pathlib.Path, **params: object) -> pipeline.Pipeline:
    pipe = pipeline.Pipeline("p", root=root)
    pipe.register(param_stages.fit, params=params or None)
    pipe.register(param_stages.noparams)
    return pipe


def test_no_params_file_returns_the_same_pipeline(tmp_path: pathlib.Path) -> None:
    pipe = _python_pipeline(tmp_path)
    assert params_file.apply(pipe) is pipe
    (tmp_path / "params.yaml").write_text("")
    assert params_file.apply(pipe) is pipe


def test_params_file_overrides_registration_params_which_override_defaults(
    tmp_path: pathlib.Path,
) -> None:
    project.write(tmp_path, {"params.yaml": "fit:\n  optimizer: {lr: 0.5}\n"})
    pipe = params_file.apply(_python_pipeline(tmp_path, epochs=3))
    assert params_file.effective(pipe) == {
        "fit": {"epochs": 3, "optimizer": {"lr": 0.5, "momentum": 0.9}}
    }
    assert pipe.list_stages() == ["fit", "noparams"]
    assert pipe.name == "p"
    assert pipe.get("noparams").params is None


def test_unchanged_values_keep_the_pipeline(tmp_path: pathlib.Path) -> None:
    project.write(tmp_path, {"params.yaml": "fit: {epochs: 3}\n"})
    pipe = _python_pipeline(tmp_path, epochs=3)
    assert params_file.apply(pipe) is pipe


def test_variant_section_wins_over_the_stage_section(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "pivot.yaml": MATRIX_YAML,
            "params.yaml": """\
            fit:
              epochs: 30
              optimizer: {lr: 0.1}
            fit@b:
              optimizer: {momentum: 0.5}
              epochs: 40
            """,
        },
    )
    loaded = yaml_source.YamlPipelineSource().load(tmp_path)
    assert loaded.get("fit@a").params_dict()["epochs"] == 20
    pipe = params_file.apply(loaded)
    assert pipe.get("fit@a").params_dict() == {
        "epochs": 30,
        "optimizer": {"lr": 0.1, "momentum": 0.9},
    }
    assert pipe.get("fit@b").params_dict() == {
        "epochs": 40,
        "optimizer": {"lr": 0.1, "momentum": 0.5},
    }


def test_cmd_stage_command_follows_params_file(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "pivot.yaml": """\
            stages:
              fit:
                cmd: python fit.py --lr ${params.lr}
                params: {lr: 0.1}
            """,
            "params.yaml": "fit: {lr: 0.3}\n",
        },
    )
    pipe = params_file.apply(yaml_source.YamlPipelineSource().load(tmp_path))
    st = pipe.get("fit")
    assert isinstance(st.func, shell_command.ShellCommand)
    assert st.func.command == "python fit.py --lr 0.3"
    assert st.params_dict() == {"lr": 0.3}


def _error(root: pathlib.Path, params_yaml: str) -> str:
    project.write(root, {"params.yaml": params_yaml})
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        params_file.apply(_python_pipeline(root))
    return str(caught.value)


def test_invalid_value_names_file_stage_and_field(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "fit:\n  optimizer:\n    lr: fast\n")
    assert "params.yaml:3:9: stage 'fit': invalid value for param 'optimizer.lr'" in message
    assert "valid number" in message


def test_unknown_field_suggests_the_right_one(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "fit:\n  epoch: 3\n")
    assert "params.yaml:2:3: stage 'fit': 'epoch' is not a parameter of FitParams" in message
    assert "did you mean 'epochs'?" in message


def test_sections_naming_no_stage_belong_to_other_tools(tmp_path: pathlib.Path) -> None:
    project.write(tmp_path, {"params.yaml": "base: {seed: 1}\nfti: {epochs: 3}\nbins: 8\n"})
    pipe = _python_pipeline(tmp_path)

    assert params_file.apply(pipe) is pipe


def test_stage_without_params(tmp_path: pathlib.Path) -> None:
    message = _error(tmp_path, "noparams: {x: 1}\n")
    assert "params.yaml:1:1: stage 'noparams' takes no params" in message


def test_section_must_be_a_mapping(tmp_path: pathlib.Path) -> None:
    assert "params.yaml:1:6: params of 'fit' must be a mapping" in _error(tmp_path, "fit: 3\n")


def test_malformed_params_file(tmp_path: pathlib.Path) -> None:
    assert "params.yaml:2:1: malformed YAML" in _error(tmp_path, "fit: {epochs: 3\n")
