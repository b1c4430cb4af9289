import json
import pathlib
import shutil

import pytest

from tests.e2e import compare_project, conftest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> tuple[conftest.Project, str, str]:
    """Commit a run with lr=0.1, commit a re-run with lr=0.5, then re-run with lr=0.2."""
    proj = compare_project.make(tmp_path_factory.mktemp("cmp"))
    first = compare_project.git(proj.root, "rev-parse", "HEAD")
    compare_project.change_lr(proj, "0.5")
    compare_project.git(proj.root, "commit", "-q", "-am", "lr 0.5")
    second = compare_project.git(proj.root, "rev-parse", "HEAD")
    proj.edit("stages.py", "lr: float = 0.5", "lr: float = 0.2")
    assert proj.pivot("run").returncode == 0
    return proj, first, second


def _ok(proj: conftest.Project, *args: str) -> str:
    done = proj.pivot(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_metrics_show_lists_flattened_values(changed: tuple[conftest.Project, str, str]) -> None:
    proj, _, _ = changed
    shown = json.loads(_ok(proj, "metrics", "show", "--json"))
    assert shown == {
        "metrics.json": {"acc": 0.9285, "eval.loss": 0.1429, "name": "net"},
        "summary.csv": {"precision": 0.9285, "recall": 0.5},
    }
    text = _ok(proj, "metrics", "show", "train:score", "--precision", "2")
    assert text.splitlines()[1].split() == ["metrics.json", "acc", "0.93"]
    assert "summary.csv" not in text


def test_metrics_diff_head_vs_workspace_and_between_shas(
    changed: tuple[conftest.Project, str, str],
) -> None:
    proj, first, second = changed
    now = json.loads(_ok(proj, "metrics", "diff", "--json"))
    assert (now["old"], now["new"]) == ("HEAD", "workspace")
    acc = now["metrics"]["metrics.json"]["acc"]
    assert (acc["old"], acc["new"]) == (0.9688, 0.9285)
    assert acc["diff"] == pytest.approx(-0.0403)
    assert acc["pct"] == pytest.approx(-0.0403 / 0.9688 * 100)
    text = _ok(proj, "metrics", "diff")
    row = next(line.split() for line in text.splitlines() if " acc " in line)
    assert row == ["metrics.json", "acc", "0.9688", "0.9285", "-0.0403", "-4.16%"]

    between = json.loads(_ok(proj, "metrics", "diff", first, second, "--json"))
    assert (between["old"], between["new"]) == (first, second)
    assert between["metrics"]["metrics.json"]["acc"]["old"] == 0.875
    assert between["metrics"]["metrics.json"]["acc"]["new"] == 0.9688
    assert between["metrics"]["summary.csv"]["precision"]["new"] == 0.9688
    only = json.loads(_ok(proj, "metrics", "diff", first[:10], second, "summary.csv", "--json"))
    assert list(only["metrics"]) == ["summary.csv"]
    everything = json.loads(_ok(proj, "metrics", "diff", first, "--all", "--json"))
    assert everything["metrics"]["summary.csv"]["recall"] == {
        "old": 0.5,
        "new": 0.5,
        "diff": 0.0,
        "pct": 0.0,
    }
    md = _ok(proj, "metrics", "diff", first, second, "--md")
    assert md.splitlines()[0] == f"| Path | Key | {first} | {second} | Change | % |"


def test_params_diff_head_vs_workspace_and_between_shas(
    changed: tuple[conftest.Project, str, str],
) -> None:
    proj, first, second = changed
    now = json.loads(_ok(proj, "params", "diff", "--json"))
    assert now == {
        "old": "HEAD",
        "new": "workspace",
        "params": {"train": {"lr": {"old": 0.5, "new": 0.2}}},
    }
    text = _ok(proj, "params", "diff")
    assert text.splitlines()[1].split() == ["train", "lr", "0.5", "0.2"]
    between = json.loads(_ok(proj, "params", "diff", first, second, "train", "--json"))
    assert between["params"] == {"train": {"lr": {"old": 0.1, "new": 0.5}}}
    assert "No param changed" in _ok(proj, "params", "diff", second, second)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("metrics", "diff", "nope"), "unknown revision 'nope'"),
        (("params", "diff", "HEAD~9"), "unknown revision 'HEAD~9'"),
        (
            ("metrics", "show", "model.txt"),
            "'model.txt' is output 'train:model' (out), not a metric",
        ),
        (("metrics", "show", "confusion"), "stage 'confusion' has no metric outputs"),
        (("metrics", "show", "bad.json"), "metric file 'bad.json' holds no numbers"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    changed: tuple[conftest.Project, str, str], args: tuple[str, ...], message: str
) -> None:
    proj, _, _ = changed
    proj.write("bad.json", '{"name": "x"}')
    try:
        done = proj.pivot(*args)
    finally:
        (proj.root / "bad.json").unlink()
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


def test_outside_git_every_compare_command_says_so(tmp_path: pathlib.Path) -> None:
    proj = conftest.Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", compare_project.STAGES)
    proj.write("pipeline.py", compare_project.PIPELINE)
    assert proj.pivot("init").returncode == 0
    commands = (
        ("metrics", "diff"),
        ("params", "diff"),
        ("plots", "diff"),
        ("get", "train:model", "--rev", "HEAD"),
    )
    for args in commands:
        done = proj.pivot(*args)
        assert done.returncode == 1
        assert done.stderr.startswith("pivot: error: not a git repository:"), done.stderr
        assert done.stderr.count("\n") == 1


def test_get_writes_an_output_as_it_was_at_a_revision(
    changed: tuple[conftest.Project, str, str], tmp_path: pathlib.Path
) -> None:
    proj, first, second = changed
    body = json.loads(
        _ok(proj, "get", "train:model", "--rev", first, "-o", str(tmp_path / "m.txt"), "--json")
    )
    assert (tmp_path / "m.txt").read_text() == "model lr=0.1"
    assert (body["source"], body["target"]) == ("cache", "train:model → model.txt")
    assert (proj.root / "model.txt").read_text() == "model lr=0.2"  # workspace untouched
    done = proj.pivot("get", "model.txt", "--rev", second, "-o", str(tmp_path / "m.txt"))
    assert done.returncode == 1
    assert "already exists" in done.stderr
    _ok(proj, "get", "model.txt", "--rev", second, "-o", str(tmp_path / "m.txt"), "--force")
    assert (tmp_path / "m.txt").read_text() == "model lr=0.5"
    _ok(proj, "get", "stages.py", "--rev", first, "-o", str(tmp_path / "s.py"))
    assert "lr: float = 0.1" in (tmp_path / "s.py").read_text()


def test_get_names_what_is_missing(
    changed: tuple[conftest.Project, str, str], tmp_path: pathlib.Path
) -> None:
    proj, first, _ = changed
    copy = conftest.Project(tmp_path / "copy")
    shutil.copytree(proj.root, copy.root, symlinks=True)
    shutil.rmtree(copy.root / ".pivot" / "cache")
    # Cached outputs are git-ignored: the model is in no commit, only in the (removed) cache.
    compare_project.git(copy.root, "rm", "-q", "--cached", "--ignore-unmatch", "model.txt")
    compare_project.git(copy.root, "commit", "-q", "--allow-empty", "-m", "model out of git")
    cases = {
        ("train:model", "HEAD"): "is not in the local cache, and it cannot be fetched (no remote",
        ("train", first): "stage 'train' has several outputs; name one: train:score",
        ("nope.txt", first): "'nope.txt' at " + first + ": not a stage output, not tracked",
        ("train:model", "v9"): "unknown revision 'v9'",
    }
    for (target, rev), message in cases.items():
        done = copy.pivot("get", target, "--rev", rev, "-o", str(tmp_path / "x"))
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1, done.stderr
        assert message in done.stderr
        assert not (tmp_path / "x").exists()


def test_get_fetches_from_the_default_remote_what_the_cache_lacks(
    changed: tuple[conftest.Project, str, str], tmp_path: pathlib.Path
) -> None:
    proj, first, _ = changed
    remote = tmp_path / "remote"
    # The remote keeps the local cache's layout: a teammate pushed everything this clone made.
    shutil.copytree(proj.root / ".pivot" / "cache" / "files", remote / "files")
    copy = conftest.Project(tmp_path / "copy")
    shutil.copytree(proj.root, copy.root, symlinks=True)
    shutil.rmtree(copy.root / ".pivot" / "cache")
    _ok(copy, "remote", "add", "origin", str(remote), "--default")

    body = json.loads(
        _ok(copy, "get", "train:model", "--rev", first, "-o", str(tmp_path / "m.txt"), "--json")
    )

    assert (tmp_path / "m.txt").read_text() == "model lr=0.1"
    assert body["source"] == "remote"
    shutil.rmtree(remote / "files")
    shutil.rmtree(copy.root / ".pivot" / "cache")
    done = copy.pivot("get", "train:model", "--rev", first, "-o", str(tmp_path / "n.txt"))
    assert done.returncode == 1
    assert f"nor on the remote {remote}" in done.stderr
