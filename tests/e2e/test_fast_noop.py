"""The no-op snapshot (issue 15): every change a no-op decision depends on leaves the fast path.

Each test records a snapshot with a full no-op check, changes one thing, and checks with
`pivot -v`, which says on stderr whether the answer came from the snapshot ("nothing changed")
or which path sent it back to the full check ("… changed; checking in full").
"""

import json
import os
import pathlib
import textwrap
import time
from typing import Any

import pytest

from tests.e2e.conftest import Project

pytestmark = pytest.mark.slow  # each test drives `pivot` five to eight times

FAST = "nothing changed ("
FULL = "; checking in full"


def settle(root: pathlib.Path) -> None:
    """Date every file and directory 30 s back: a snapshot trusts only stamps older than the
    check that records it (a file written a moment ago may still change within its mtime)."""
    past = time.time() - 30
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), (past, past))
        os.utime(dirpath, (past, past))


def record(project: Project, *args: str) -> str:
    """Run the full check on settled files, so that it records a snapshot; its stdout."""
    project.calls()
    settle(project.root)
    done = project.pivot("-v", *args)
    assert done.returncode == 0, done.stderr
    assert FAST not in done.stderr
    assert project.calls() == []
    again = project.pivot("-v", *args)
    assert FAST in again.stderr, done.stderr + again.stderr
    return done.stdout


def full_because(project: Project, changed: str, *args: str) -> str:
    """Check again; assert the snapshot sent it to the full check naming `changed`."""
    done = project.pivot("-v", *args)
    assert done.returncode == 0, done.stderr
    reason = next((line for line in done.stderr.splitlines() if line.endswith(FULL)), "")
    assert changed in reason, done.stderr
    return done.stdout


@pytest.fixture(autouse=True)
def _fast_path_as_users_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever `--fast-path` the suite runs with: these tests are about the default."""
    monkeypatch.delenv("PIVOT_FAST", raising=False)
    monkeypatch.delenv("PIVOT_FAST_SETTLE_MS", raising=False)
    monkeypatch.delenv("E2E_REPEAT_NOOPS", raising=False)


@pytest.fixture
def ran(project: Project) -> Project:
    assert project.pivot("run").returncode == 0
    project.calls()
    return project


def test_noop_is_answered_from_the_snapshot_with_the_same_output(ran: Project):
    full = record(ran, "run")

    fast = ran.pivot("run")

    assert fast.returncode == 0
    assert ran.calls() == []
    strip = [line.rsplit(" in ", 1)[0] for line in full.splitlines()]
    assert [line.rsplit(" in ", 1)[0] for line in fast.stdout.splitlines()] == strip
    assert "4 skipped" in fast.stdout


def test_status_is_answered_from_its_own_snapshot(ran: Project):
    full = record(ran, "status", "--explain")

    fast = ran.pivot("status", "--explain")

    assert fast.stdout == full
    assert "All 4 stages up to date." in fast.stdout
    assert FAST not in ran.pivot("-v", "status").stderr  # another spelling: its own snapshot


def _events(stdout: str) -> list[dict[str, Any]]:
    """JSON Lines events, the summary's duration checked and dropped (it differs between any
    two runs)."""
    found = [json.loads(line) for line in stdout.splitlines()]
    summary = found[-1]
    assert summary["event"] == "summary"
    assert isinstance(summary.pop("duration"), float)
    return found


def test_run_json_from_the_snapshot_prints_the_events_of_the_full_check(ran: Project):
    record(ran, "run", "--json")

    fast = ran.pivot("-v", "run", "--json")
    full = ran.pivot("-v", "run", "--json", "--no-fast")

    assert FAST in fast.stderr
    assert FAST not in full.stderr
    assert _events(fast.stdout) == _events(full.stdout)
    assert [e["status"] for e in _events(fast.stdout)[:-1]] == ["skipped"] * 4


def test_status_json_from_the_snapshot_prints_what_the_full_check_prints(ran: Project):
    record(ran, "status", "--json")

    fast = ran.pivot("-v", "status", "--json")
    full = ran.pivot("-v", "status", "--json", "--no-fast")

    assert FAST in fast.stderr
    assert FAST not in full.stderr
    assert fast.stdout == full.stdout
    assert [s["state"] for s in json.loads(fast.stdout)["stages"]] == ["up_to_date"] * 4


def test_the_settling_window_decides_which_stamps_a_snapshot_trusts(
    ran: Project, monkeypatch: pytest.MonkeyPatch
):
    settle(ran.root)  # every project file 30 s old
    monkeypatch.setenv("PIVOT_FAST_SETTLE_MS", "60000")
    assert FAST not in ran.pivot("-v", "run").stderr

    assert FAST not in ran.pivot("-v", "run").stderr  # nothing recorded: all too fresh
    monkeypatch.setenv("PIVOT_FAST_SETTLE_MS", "0")  # what the suite's --fast-path=eager sets
    assert FAST not in ran.pivot("-v", "run").stderr
    assert FAST in ran.pivot("-v", "run").stderr
    assert ran.calls() == []


def test_snapshot_is_per_target_set(ran: Project):
    record(ran, "run", "train")

    assert FAST not in ran.pivot("-v", "run").stderr
    assert FAST in ran.pivot("-v", "run", "train").stderr


def test_editing_a_helper_leaves_the_fast_path(ran: Project):
    record(ran, "run")
    ran.edit("stages.py", 'f.write(name + "\\n")', 'f.write(name.strip() + "\\n")')

    full_because(ran, "stages.py", "run")

    assert sorted(ran.calls()) == ["evaluate", "other", "prepare", "train"]


def test_editing_a_params_value_leaves_the_fast_path(ran: Project):
    ran.write("params.yaml", "train:\n  lr: 0.1\n")
    assert ran.pivot("run").returncode == 0
    record(ran, "run")
    ran.write("params.yaml", "train:\n  lr: 0.5\n")

    full_because(ran, "params.yaml", "run")

    assert ran.calls() == ["train", "evaluate"]  # evaluate's input, model.txt, changed too
    assert "lr=0.5" in (ran.root / "models/model.txt").read_text()


def test_creating_a_params_file_leaves_the_fast_path(ran: Project):
    record(ran, "run")
    ran.write("params.yaml", "train:\n  lr: 0.5\n")

    full_because(ran, str(ran.root), "run")

    assert "train" in ran.calls()


def test_editing_a_dep_file_leaves_the_fast_path(ran: Project):
    record(ran, "run")
    ran.write("raw.txt", "changed\n")

    full_because(ran, "raw.txt", "run")

    assert sorted(ran.calls()) == ["evaluate", "other", "prepare", "train"]


def test_editing_a_lock_file_leaves_the_fast_path(ran: Project):
    record(ran, "status")
    ran.edit(".pivot/stages/train.lock", '"lr": 0.1', '"lr": 0.3')

    out = full_because(ran, "train.lock", "status")

    assert "train: stale" in out


def test_editing_the_pipeline_definition_leaves_the_fast_path(ran: Project):
    record(ran, "run")
    ran.edit("pipeline.py", "pipeline.register(stages.other)\n", "")

    out = full_because(ran, "pipeline.py", "run")

    assert "other" not in out
    assert "3 skipped" in out


def test_editing_an_output_leaves_the_fast_path(ran: Project):
    record(ran, "run")
    ran.write("other.txt", "tampered\n")

    full_because(ran, "other.txt", "run")

    assert (ran.root / "other.txt").read_text() == "\nolleh"


GLOB_STAGES = """
from typing import Annotated, TypedDict

from pivot import loaders, outputs


class Counted(TypedDict):
    result: Annotated[str, outputs.Out("counts/a.txt", loaders.Text())]


def count_file(text: Annotated[str, outputs.Dep("inputs/a.txt", loaders.Text())]) -> Counted:
    with open("calls.log", "a") as f:
        f.write("count\\n")
    return Counted(result=str(len(text)))
"""

GLOB_PIPELINE = """
import pathlib

from pivot.pipeline import Pipeline

from counting import count_file

pipeline = Pipeline("globbing")
for path in sorted(pathlib.Path(__file__).parent.joinpath("inputs").glob("*.txt")):
    pipeline.register(
        count_file,
        name=f"count_{path.stem}",
        dep_path_overrides={"text": f"inputs/{path.name}"},
        out_path_overrides={"result": f"counts/{path.name}"},
    )
"""


def ran_project(root: pathlib.Path, files: dict[str, str]) -> Project:
    """A new project of `files`, initialised and run once."""
    proj = Project(root)
    root.mkdir()
    for name, text in files.items():
        proj.write(name, text)
    assert proj.pivot("init").returncode == 0
    first = proj.pivot("run")
    assert first.returncode == 0, first.stderr
    return proj


def test_adding_a_file_to_a_globbed_directory_leaves_the_fast_path(tmp_path: pathlib.Path):
    proj = ran_project(
        tmp_path / "glob",
        {"counting.py": GLOB_STAGES, "pipeline.py": GLOB_PIPELINE, "inputs/a.txt": "aaa\n"},
    )
    record(proj, "run")
    proj.write("inputs/b.txt", "bb\n")

    out = full_because(proj, "inputs", "run")

    assert "count_b" in out
    assert proj.calls() == ["count"]
    assert (proj.root / "counts/b.txt").read_text() == "3"


def test_touching_a_file_without_changing_it_refreshes_the_snapshot(ran: Project):
    record(ran, "run")
    raw = ran.root / "raw.txt"
    earlier = time.time() - 20  # a different mtime, still old enough to be trusted
    os.utime(raw, (earlier, earlier))

    full_because(ran, "raw.txt", "run")
    assert ran.calls() == []
    again = ran.pivot("-v", "run")

    assert FAST in again.stderr
    assert ran.calls() == []


PACKAGE_STAGE = """
from typing import Annotated

import toolpkg

from pivot import loaders, outputs


def use_tool() -> Annotated[str, outputs.Out("tool.txt", loaders.Text())]:
    with open("calls.log", "a") as f:
        f.write("use_tool\\n")
    return toolpkg.greet()
"""


def install(site: pathlib.Path, version: str) -> None:
    """A minimal installed distribution: the package and its `.dist-info` metadata."""
    for old in site.glob("toolpkg-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    (site / "toolpkg").mkdir(parents=True, exist_ok=True)
    (site / "toolpkg" / "__init__.py").write_text("def greet():\n    return 'hi'\n")
    info = site / f"toolpkg-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        textwrap.dedent(f"""\
            Metadata-Version: 2.1
            Name: toolpkg
            Version: {version}
            """)
    )
    (info / "top_level.txt").write_text("toolpkg\n")


def test_upgrading_an_installed_package_a_stage_reaches_leaves_the_fast_path(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
):
    site = tmp_path / "site-packages"
    install(site, "1.0")
    monkeypatch.setenv("PYTHONPATH", str(site))
    pipeline = (
        "import tool_stage\nfrom pivot.pipeline import Pipeline\n\n"
        + "pipeline = Pipeline('pkg')\npipeline.register(tool_stage.use_tool)\n"
    )
    proj = ran_project(tmp_path / "pkg", {"tool_stage.py": PACKAGE_STAGE, "pipeline.py": pipeline})
    settle(site)
    record(proj, "run")
    install(site, "2.0")
    settle(site)  # even with old mtimes the listing of installed distributions differs

    full_because(proj, "site-packages", "run")  # its directory, or toolpkg-1.0.dist-info

    assert proj.calls() == ["use_tool"]


def test_no_fast_flag_config_and_environment_check_in_full(
    ran: Project, monkeypatch: pytest.MonkeyPatch
):
    record(ran, "run")

    assert FAST not in ran.pivot("-v", "run", "--no-fast").stderr
    monkeypatch.setenv("PIVOT_FAST", "0")
    assert FAST not in ran.pivot("-v", "run").stderr
    monkeypatch.delenv("PIVOT_FAST")
    assert FAST in ran.pivot("-v", "run").stderr
    ran.write(".pivot/config.yaml", "run:\n  fast: false\n")
    settle(ran.root)
    assert FAST not in ran.pivot("-v", "run").stderr
    assert FAST not in ran.pivot("-v", "run").stderr  # and none is recorded while it is off


def test_a_run_that_restored_outputs_is_not_replayed(ran: Project, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIVOT_LINK_MODES", "hardlink")  # restored files keep the cache's mtime
    record(ran, "run")
    (ran.root / "other.txt").unlink()

    restoring = ran.pivot("-v", "run")
    after = ran.pivot("-v", "run")

    assert "restored" in restoring.stdout
    assert "restored" not in after.stdout
    assert FAST not in after.stderr
    assert ran.calls() == []
