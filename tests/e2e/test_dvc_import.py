import json
import pathlib
import re
import sys

import pytest

from tests.e2e import conftest, dvc_project


@pytest.fixture(scope="session")
def dvc(tmp_path_factory: pytest.TempPathFactory) -> dvc_project.Dvc:
    return dvc_project.install(tmp_path_factory)


def _project(root: pathlib.Path) -> conftest.Project:
    root.mkdir(parents=True)
    dvc_project.write_project(root)
    return conftest.Project(root)


def _ran(proj: conftest.Project) -> set[str]:
    code, events = proj.run_json()
    assert code == 0, events
    return {name for name, status in conftest.statuses(events).items() if status == "ran"}


def _edit_params(root: pathlib.Path, old: str, new: str) -> None:
    path = root / "params.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


ALL_STAGES = {"prepare", "featurize", "train", "evaluate", "report@us", "report@uk", "summary"}


@pytest.mark.slow
def test_imported_pipeline_matches_dvc_repro_byte_for_byte(
    tmp_path: pathlib.Path,
    dvc: dvc_project.Dvc,
) -> None:
    theirs = tmp_path / "dvc"
    _project(theirs)
    dvc(theirs, "init", "--no-scm")
    dvc(theirs, "repro")
    ours = _project(tmp_path / "pivot")

    imported = ours.pivot("import-dvc")
    assert imported.returncode == 0, imported.stderr
    assert _ran(ours) == ALL_STAGES
    for name in dvc_project.OUTPUTS:
        assert (ours.root / name).read_bytes() == (theirs / name).read_bytes(), name

    # One params key: exactly the stages listing it and their downstream.
    for root in (theirs, ours.root):
        _edit_params(root, "epochs: 5", "epochs: 7")
    dvc(theirs, "repro")
    assert _ran(ours) == {"train", "evaluate", "report@us", "report@uk", "summary"}
    for name in dvc_project.OUTPUTS:
        assert (ours.root / name).read_bytes() == (theirs / name).read_bytes(), name

    # A key no stage lists changes nothing; a foreach item re-runs its own variant only.
    _edit_params(ours.root, "unused: 1", "unused: 2")
    assert _ran(ours) == set()
    _edit_params(ours.root, "uk: 0.5", "uk: 0.75")
    assert _ran(ours) == {"report@uk"}


def test_run_in_a_dvc_project_says_how_to_import(tmp_path: pathlib.Path) -> None:
    proj = _project(tmp_path / "p")
    done = proj.pivot("run")
    assert done.returncode == 1
    assert "pivot import-dvc" in done.stderr
    assert "Traceback" not in done.stderr
    assert proj.pivot("init").returncode == 0
    status = proj.pivot("status")
    assert status.returncode == 1
    assert "found a DVC pipeline (dvc.yaml)" in status.stderr
    assert "pivot import-dvc" in status.stderr


def test_dry_run_prints_the_pipeline_and_writes_nothing(tmp_path: pathlib.Path) -> None:
    proj = _project(tmp_path / "p")
    done = proj.pivot("import-dvc", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "report@us:" in done.stdout
    assert "cd sub && python ../scripts/summary.py" in done.stdout
    assert not (proj.root / "pivot.yaml").exists()
    assert not (proj.root / ".pivot").exists()


def test_existing_pivot_yaml_needs_force_and_json_lists_stages(tmp_path: pathlib.Path) -> None:
    proj = _project(tmp_path / "p")
    (proj.root / "pivot.yaml").write_text("stages: {}\n")
    refused = proj.pivot("import-dvc")
    assert refused.returncode == 1
    assert "already exists; pass --force" in refused.stderr
    assert (proj.root / "pivot.yaml").read_text() == "stages: {}\n"
    done = proj.pivot("import-dvc", "--force", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["stages"]) == ALL_STAGES
    assert result["written"] is True
    assert result["not_carried_over"] == []
    listed = proj.pivot("list", "--json")
    assert listed.returncode == 0, listed.stderr


BAD = {
    "malformed": ("stages:\n  a:\n    cmd: [echo\n", r"dvc\.yaml:4:\d+: malformed YAML"),
    "unknown key": (
        "stages:\n  a:\n    cmd: echo\n    outz: [x]\n",
        r"dvc\.yaml:4:\d+: stage 'a': unknown key 'outz'; did you mean 'outs'\?",
    ),
    "foreach over a missing var": (
        "stages:\n  a:\n    foreach: ${nothere}\n    do:\n      cmd: echo ${item}\n",
        r"dvc\.yaml:3:\d+: unresolved \$\{nothere\}",
    ),
    "missing params key": (
        "stages:\n  a:\n    cmd: echo\n    params: [nokey]\n",
        r"dvc\.yaml:4:\d+: stage .a.: param .nokey. is not in params\.yaml",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_clear_line(tmp_path: pathlib.Path, case: str) -> None:
    text, pattern = BAD[case]
    proj = conftest.Project(tmp_path)
    proj.write("dvc.yaml", text)
    proj.write("params.yaml", "lr: 1\n")
    done = proj.pivot("import-dvc")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert not (tmp_path / "pivot.yaml").exists()


def _locked_md5(root: pathlib.Path, stage: str, path: str) -> str:
    from ruamel.yaml import YAML

    lock = YAML(typ="safe").load((root / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"][stage]["outs"] if o["path"] == path)


@pytest.mark.slow
def test_state_dvc_left_up_to_date_carries_over(
    tmp_path: pathlib.Path,
    dvc: dvc_project.Dvc,
) -> None:
    proj = _project(tmp_path / "p")
    root = proj.root
    dvc(root, "init", "--no-scm")
    dvc(root, "add", "data/raw.csv")
    dvc(root, "remote", "add", "storage", "/tmp/somewhere")
    dvc(root, "repro")
    model_md5 = _locked_md5(root, "train", "model.txt")
    corrupt = root / ".dvc/cache/files/md5" / model_md5[:2] / model_md5[2:]
    corrupt.chmod(0o644)
    corrupt.write_text("garbage\n")

    done = proj.pivot("import-dvc", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["up_to_date"]) == ALL_STAGES
    assert result["stale"] == []
    assert result["corrupt_cache_objects"] == [str(corrupt.relative_to(root))]
    assert result["tracked"] == ["data/raw.csv.dvc → data/raw.csv.pvt"]
    assert any("remote 'storage'" in n for n in result["not_carried_over"])
    assert result["cache_objects_imported"] > 0
    # No second copy: Pivot's object for the raw data is DVC's, hard-linked.
    pvt = json.loads((root / "data/raw.csv.pvt").read_text())
    ours = root / ".pivot/cache/files" / pvt["hash"][:2] / pvt["hash"][2:]
    raw_md5 = dvc_project.md5_of(root / "data/raw.csv")
    theirs = root / ".dvc/cache/files/md5" / raw_md5[:2] / raw_md5[2:]
    assert ours.stat().st_ino == theirs.stat().st_ino

    assert _ran(proj) == set()

    # The workspace no longer matches dvc.lock for one stage: it is left stale and listed.
    _edit_params(root, "scale: 2.0", "scale: 3.0")
    again = proj.pivot("import-dvc", "--force", "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["stale"] == ["featurize: param featurize.scale changed"]
    assert "featurize" not in result["up_to_date"]
    assert "featurize" in _ran(proj)


@pytest.mark.slow
def test_exported_python_pipeline_runs_under_dvc_repro(
    tmp_path: pathlib.Path,
    dvc: dvc_project.Dvc,
) -> None:
    proj = conftest.Project(tmp_path / "p")
    proj.root.mkdir()
    proj.write("stages.py", conftest.STAGES)
    proj.write("pipeline.py", conftest.PIPELINE)
    proj.write("raw.txt", "hello\n")
    assert proj.pivot("init").returncode == 0
    done = proj.pivot("export")
    assert done.returncode == 0, done.stderr
    assert "cmd: python -m pivot exec train" in (proj.root / "dvc.yaml").read_text()

    # DVC runs the commands with this interpreter's `python` (the one Pivot is installed in).
    dvc(proj.root, "init", "--no-scm")
    dvc(proj.root, "repro", python=pathlib.Path(sys.executable).parent)
    assert sorted(proj.calls()) == ["evaluate", "other", "prepare", "train"]
    assert (proj.root / "eval.txt").read_text() == "evaluated model(HELLO, lr=0.1)"
    assert json.loads((proj.root / "metrics.json").read_text()) == {"acc": 0.9}
    # Outputs were saved exactly as a run would: Pivot agrees they are up to date.
    _, events = proj.run_json()
    assert set(conftest.statuses(events).values()) == {"skipped"}

    dvc(proj.root, "repro", python=pathlib.Path(sys.executable).parent)
    assert proj.calls() == []
    proj.edit("stages.py", "return raw[::-1]", "return raw[::-1] + '!'")
    dvc(proj.root, "repro", python=pathlib.Path(sys.executable).parent)
    assert "other" in proj.calls()
    assert (proj.root / "other.txt").read_text() == "\nolleh!"


def test_exec_runs_one_stage_even_when_up_to_date(project: conftest.Project) -> None:
    assert project.pivot("run").returncode == 0
    project.calls()
    done = project.pivot("exec", "train")
    assert done.returncode == 0, done.stderr
    assert project.calls() == ["train"]
    unknown = project.pivot("exec", "trian")
    assert unknown.returncode == 1
    assert "trian" in unknown.stderr
    assert "Traceback" not in unknown.stderr
