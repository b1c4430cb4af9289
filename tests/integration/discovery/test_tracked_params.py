import pathlib

import pytest

from pivot.adapters.discovery import composite_source, shell_command, yaml_source
from pivot.domain import errors, specs
from tests.integration.discovery import project

PARAMS_YAML = """\
lr: 0.1
prepare:
  split: 0.2
  seed: 7
train:
  epochs: 3
  seed: 1
"""


def _load(root: pathlib.Path, files: dict[str, str]):
    project.write(root, files)
    return composite_source.default().load(root)


def test_listed_keys_of_params_yaml_become_the_stage_params(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        {
            "params.yaml": PARAMS_YAML,
            "pivot.yaml": """\
            stages:
              train:
                cmd: python train.py ${lr} ${train.epochs} ${params.train.epochs}
                params: [lr, train.epochs]
            """,
        },
    )
    st = pipe.get("train")
    assert st.params_dict() == {"lr": 0.1, "train": {"epochs": 3}}
    assert isinstance(st.func, shell_command.ShellCommand)
    assert st.func.command == "python train.py 0.1 3 3"
    # The values are tracked as params, not baked into the command's fingerprint.
    assert "0.1" not in st.func.template


def test_other_files_by_key_and_whole(tmp_path: pathlib.Path) -> None:
    pipe = _load(
        tmp_path,
        {
            "params.yaml": PARAMS_YAML,
            "conf/model.yaml": "depth: 4\nwidth: 8\nunused: 1\n",
            "conf/all.yaml": "alpha: 1\nbeta: {b: 2}\n",
            "pivot.yaml": """\
            stages:
              fit:
                cmd: echo ${depth} ${beta.b}
                params: [{conf/model.yaml: [depth, width]}, {conf/all.yaml: }]
            """,
        },
    )
    st = pipe.get("fit")
    assert st.params_dict() == {"depth": 4, "width": 8, "alpha": 1, "beta": {"b": 2}}
    assert isinstance(st.func, shell_command.ShellCommand)
    assert st.func.command == "echo 4 2"


def test_only_the_listed_keys_change_the_params(tmp_path: pathlib.Path) -> None:
    files = {
        "params.yaml": PARAMS_YAML,
        "pivot.yaml": """\
        stages:
          prepare:
            cmd: echo ${prepare.split}
            params: [prepare.split]
          train:
            cmd: echo ${train.epochs}
            params: [train.epochs]
        """,
    }
    before = _load(tmp_path, files)
    project.write(tmp_path, {"params.yaml": PARAMS_YAML.replace("seed: 7", "seed: 8")})
    after = composite_source.default().load(tmp_path)
    assert after.get("prepare").params == before.get("prepare").params
    assert after.get("train").params == before.get("train").params
    project.write(tmp_path, {"params.yaml": PARAMS_YAML.replace("epochs: 3", "epochs: 4")})
    changed = composite_source.default().load(tmp_path)
    assert changed.get("prepare").params == before.get("prepare").params
    assert changed.get("train").params_dict() == {"train": {"epochs": 4}}


def test_a_missing_key_names_the_line_and_the_keys(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        _load(
            tmp_path,
            {
                "params.yaml": PARAMS_YAML,
                "pivot.yaml": """\
                stages:
                  train:
                    cmd: echo hi
                    params: [lr, train.epoch]
                """,
            },
        )
    message = str(caught.value)
    assert "pivot.yaml:4:" in message
    assert "'train.epoch' is not in params.yaml" in message
    assert "epochs" in message


def test_a_missing_params_file_is_named(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.PipelineDefinitionError, match=r"'other\.yaml' does not exist"):
        _load(
            tmp_path,
            {"pivot.yaml": "stages:\n  s:\n    cmd: echo\n    params: [{other.yaml: [a]}]\n"},
        )


def test_python_stages_reject_a_key_list(tmp_path: pathlib.Path) -> None:
    project.write(tmp_path, {"stages.py": project.STAGES_PY, "params.yaml": "lr: 1\n"})
    files = {"pivot.yaml": "stages:\n  train:\n    python: stages.train\n    params: [lr]\n"}
    with pytest.raises(errors.PipelineDefinitionError, match="cmd:"):
        _load(tmp_path, files)


def test_output_options_cache_persist_and_plot_axes(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path,
        {
            "pivot.yaml": """\
            stages:
              s:
                cmd: echo
                desc: documentation only
                meta: {owner: me}
                outs: [a.txt, {b.txt: {cache: false}}, {log.txt: {persist: true}}]
                metrics: [{m.json: {cache: true}}]
                plots: [{p.csv: {x: step, y: loss, template: linear, title: Loss}}]
            """
        },
    )
    st = yaml_source.YamlPipelineSource().load(tmp_path).get("s")
    by_key = {o.key: o for o in st.outs}
    assert by_key["a.txt"].cached
    assert by_key["a.txt"].kind is specs.OutKind.OUT
    assert not by_key["b.txt"].cached
    assert by_key["log.txt"].kind is specs.OutKind.INCREMENTAL
    assert by_key["m.json"].kind is specs.OutKind.METRIC
    assert by_key["m.json"].cached
    plot = by_key["p.csv"].spec
    assert isinstance(plot, specs.Plot)
    assert (plot.x, plot.y, plot.template, plot.title) == ("step", "loss", "linear", "Loss")


def test_unknown_output_option_is_rejected_with_its_line(tmp_path: pathlib.Path) -> None:
    project.write(
        tmp_path, {"pivot.yaml": "stages:\n  s:\n    cmd: echo\n    outs: [{a: {cach: false}}]\n"}
    )
    with pytest.raises(errors.PipelineDefinitionError, match=r"pivot\.yaml:4:.*cach"):
        yaml_source.YamlPipelineSource().load(tmp_path)
