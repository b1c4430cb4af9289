import pathlib

import pytest

from pivot.adapters.discovery import params_file, yaml_document, yaml_source
from pivot.domain import errors
from tests.integration.discovery import project

VALID_YAML = """\
pipeline: p
vars:
  - config/vars.yaml
stages:
  train:
    python: stages.train
    params: {epochs: "${epochs}"}
  report:
    cmd: python report.py ${data.dir}
    deps: ["${data.dir}/a.csv"]
    outs: [report.txt]
    matrix:
      size: [small, large]
"""


def _write(root: pathlib.Path, pivot_yaml: str) -> None:
    project.write(
        root,
        {
            "pivot.yaml": pivot_yaml,
            "stages.py": project.STAGES_PY,
            "config/vars.yaml": "data: {dir: inputs}\nepochs: 7\n",
            "params.yaml": "train: {lr: 0.5}\n",
        },
    )


def test_valid_files_load_without_a_round_trip_parse(tmp_path: pathlib.Path) -> None:
    _write(tmp_path, VALID_YAML)
    before = dict(yaml_document.parses)
    pipe = params_file.apply(yaml_source.YamlPipelineSource().load(tmp_path))
    assert sorted(pipe.stages) == ["report@large", "report@small", "train"]
    assert params_file.effective(pipe)["train"] == {"lr": 0.5, "epochs": 7}
    assert yaml_document.parses["round-trip"] == before.get("round-trip", 0)
    # pivot.yaml, the vars file and params.yaml each went through the fast loader
    assert yaml_document.parses["safe"] == before.get("safe", 0) + 3


def test_error_found_while_building_stages_still_has_line_and_column(
    tmp_path: pathlib.Path,
) -> None:
    _write(tmp_path, VALID_YAML.replace("stages.train", "stages.missing"))
    before = yaml_document.parses["round-trip"]
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        yaml_source.YamlPipelineSource().load(tmp_path)
    assert "pivot.yaml:6:13: stage 'train':" in str(caught.value)
    assert yaml_document.parses["round-trip"] == before + 1


def test_error_in_a_params_file_has_line_and_column(tmp_path: pathlib.Path) -> None:
    _write(tmp_path, VALID_YAML)
    (tmp_path / "params.yaml").write_text("base: {seed: 1}\ntrain:\n  lr: fast\n")
    with pytest.raises(errors.PipelineDefinitionError) as caught:
        params_file.apply(yaml_source.YamlPipelineSource().load(tmp_path))
    assert "params.yaml:3:7: stage 'train': invalid value for param 'lr'" in str(caught.value)


def test_position_is_parsed_once_per_document(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a:\n  b: [1, 2]\n")
    doc = yaml_document.read(path)
    before = yaml_document.parses["round-trip"]
    assert doc.locate(("a", "b", 1)) == (2, 10)
    assert doc.locate(("a",), at_key=True) == (1, 1)
    assert yaml_document.parses["round-trip"] == before + 1


def test_yaml_1_1_directive_keeps_its_meaning(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("%YAML 1.1\n---\nflag: yes\nname: no-op\n")
    assert yaml_document.read(path).data == {"flag": True, "name": "no-op"}


def test_file_only_the_round_trip_loader_accepts_still_loads(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\nb: !custom x\n")
    assert yaml_document.read(path).data["a"] == 1
