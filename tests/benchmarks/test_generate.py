import pathlib
import shlex
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from benchmarks import generate, shape

N = 10

CALL_REGISTERED_STAGES = """\
import pipeline
for stage in pipeline.pipeline.stages.values():
    stage.func(**{dep.name: dep.paths[0] for dep in stage.deps})
print(len(pipeline.pipeline.stages))
"""


def _write(form: generate.Form, root: pathlib.Path) -> pathlib.Path:
    dest = root / str(form)
    generate.write_project(shape.layered(N), form, dest)
    return dest


def _python(code_or_script: list[str], cwd: pathlib.Path) -> str:
    done = subprocess.run(
        [sys.executable, *code_or_script], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def _outputs(root: pathlib.Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((root / "out").glob("*.txt"))}


def _yaml_stages(path: pathlib.Path) -> dict[str, dict[str, object]]:
    return dict(YAML(typ="safe").load(path)["stages"])


def test_every_form_runs_the_same_work(tmp_path: pathlib.Path) -> None:
    lower = _write(generate.Form.LOWER_BOUND, tmp_path)
    _python(["lower_bound.py"], lower)

    cmd = _write(generate.Form.PIVOT_CMD, tmp_path)
    for stage in _yaml_stages(cmd / "pivot.yaml").values():
        argv = shlex.split(str(stage["cmd"]))
        assert argv[0] == "python"
        _python(argv[1:], cmd)

    python_form = _write(generate.Form.PIVOT_PYTHON, tmp_path)
    registered = _python(["-c", CALL_REGISTERED_STAGES], python_form)

    assert registered.strip() == str(N)
    assert len(_outputs(lower)) == N
    assert _outputs(cmd) == _outputs(lower)
    assert _outputs(python_form) == _outputs(lower)


def test_pivot_yaml_and_dvc_yaml_declare_the_same_stages(tmp_path: pathlib.Path) -> None:
    pivot_stages = _yaml_stages(_write(generate.Form.PIVOT_CMD, tmp_path) / "pivot.yaml")
    dvc_stages = _yaml_stages(_write(generate.Form.DVC, tmp_path) / "dvc.yaml")

    assert pivot_stages == dvc_stages
    assert list(pivot_stages) == [s.name for s in shape.layered(N).stages]
    first = pivot_stages["s0000"]
    assert first["deps"] == ["stage_cmd.py", "work.py", shape.SHARED_INPUT]
    assert first["outs"] == ["out/s0000.txt"]


def test_pivot_yaml_names_the_pipeline(tmp_path: pathlib.Path) -> None:
    document = YAML(typ="safe").load(_write(generate.Form.PIVOT_CMD, tmp_path) / "pivot.yaml")

    assert document["pipeline"] == generate.PIPELINE_NAME


def test_editing_the_helper_changes_only_its_stage_output(tmp_path: pathlib.Path) -> None:
    root = _write(generate.Form.PIVOT_PYTHON, tmp_path)
    _python(["-c", CALL_REGISTERED_STAGES], root)
    before = _outputs(root)
    mtime = (root / "stages.py").stat().st_mtime_ns

    generate.edit_helper(root, 7)
    _python(["-c", CALL_REGISTERED_STAGES], root)
    after = _outputs(root)

    helper_out = pathlib.Path(shape.layered(N).helper_user.out).name
    assert {k for k in before if before[k] != after[k]} == {helper_out}
    assert after[helper_out].rstrip().endswith("7")
    assert (root / "stages.py").stat().st_mtime_ns >= mtime + 1_000_000_000


def test_editing_a_project_without_the_helper_is_an_error(tmp_path: pathlib.Path) -> None:
    root = _write(generate.Form.PIVOT_PYTHON, tmp_path)
    (root / "stages.py").write_text("x = 1\n")

    with pytest.raises(ValueError, match="tweak"):
        generate.edit_helper(root, 1)


def test_changing_the_leaf_input_gives_new_content(tmp_path: pathlib.Path) -> None:
    root = _write(generate.Form.DVC, tmp_path)
    leaf = root / shape.LEAF_INPUT
    first = leaf.read_text()

    generate.change_leaf_input(root, 1)
    second = leaf.read_text()
    generate.change_leaf_input(root, 2)

    assert len({first, second, leaf.read_text()}) == 3


def test_burn_is_written_into_the_work_module(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "fan"
    generate.write_project(shape.fan_out(2), generate.Form.LOWER_BOUND, dest, burn=1234)

    assert "BURN = 1234" in (dest / "work.py").read_text()
    _python(["lower_bound.py"], dest)
    assert len(_outputs(dest)) == 2
