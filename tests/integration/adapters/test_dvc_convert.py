import pathlib
import textwrap

import pytest

from pivot.adapters.dvc import convert, dvc_state
from pivot.domain import errors


def _convert(
    tmp_path: pathlib.Path, dvc_yaml: str, files: dict[str, str] | None = None
) -> convert.Conversion:
    (tmp_path / "dvc.yaml").write_text(textwrap.dedent(dvc_yaml))
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return convert.convert(tmp_path / "dvc.yaml")


def test_foreach_matrix_and_wdir_expand_with_dvc_names(tmp_path: pathlib.Path) -> None:
    result = _convert(
        tmp_path,
        """\
        stages:
          clean:
            foreach: [{n: 1}, {n: 2}]
            do:
              cmd: echo ${item.n} > c${item.n}
              outs: ["c${item.n}"]
          fit:
            matrix: {model: [cnn, xgb], size: [1, 2]}
            cmd: fit ${item.model} ${item.size}
          sub:
            wdir: lib
            cmd: [make, make install]
            deps: [src]
            params: [opt]
            outs: [{../out.bin: {persist: true, cache: false}}]
        """,
        {"lib/params.yaml": "opt: 3\n"},
    )
    stages = result.pivot_yaml["stages"]
    assert list(stages) == [
        "clean@0", "clean@1", "fit@cnn-1", "fit@cnn-2", "fit@xgb-1", "fit@xgb-2", "sub",
    ]  # fmt: skip
    assert stages["clean@1"] == {"cmd": "echo 2 > c2", "outs": ["c2"]}
    assert stages["fit@xgb-2"] == {"cmd": "fit xgb 2"}
    assert stages["sub"] == {
        "cmd": ["cd lib && make", "make install"],
        "deps": ["lib/src"],
        "params": [{"lib/params.yaml": ["opt"]}],
        "outs": [{"out.bin": {"persist": True, "cache": False}}],
    }
    assert result.notes == []


def test_what_cannot_be_expressed_is_noted_with_its_line(tmp_path: pathlib.Path) -> None:
    result = _convert(
        tmp_path,
        """\
        stages:
          train:
            cmd: python train.py
            outs:
              - model.pkl:
                  push: false
              - loss.csv
            frozen: true
            always_changed: true
        metrics: [missing.json]
        plots:
          - loss.csv:
              x: step
        params: [params.yaml]
        """,
    )
    notes = [str(n) for n in result.notes]
    assert any("dvc.yaml:5:" in n and "push: false" in n for n in notes)
    assert any("dvc.yaml:8:" in n and "frozen" in n for n in notes)
    assert any("dvc.yaml:9:" in n and "always_changed" in n for n in notes)
    assert any("dvc.yaml:10:" in n and "missing.json" in n for n in notes)
    assert any("dvc.yaml:14:" in n and "params diff" in n for n in notes)
    # A top-level plot written by a stage becomes that stage's cached plot.
    assert result.pivot_yaml["stages"]["train"]["plots"] == [
        {"loss.csv": {"cache": True, "x": "step"}}
    ]


def test_a_path_outside_the_project_is_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.PipelineDefinitionError, match=r"dvc\.yaml:2:.*outside"):
        _convert(tmp_path, "stages:\n  a:\n    cmd: x\n    deps: [../elsewhere]\n")


def test_dvc_directory_hash_matches_dvc(tmp_path: pathlib.Path) -> None:
    # The .dir hash DVC 3.67 recorded for {a.txt: "a\n", s/b.txt: "b\n"}.
    (tmp_path / "d" / "s").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("a\n")
    (tmp_path / "d" / "s" / "b.txt").write_text("b\n")
    assert dvc_state.workspace_md5(tmp_path / "d") == "6a216f398717513c954eb28e1e130224.dir"
    assert dvc_state.workspace_md5(tmp_path / "nothing") is None
