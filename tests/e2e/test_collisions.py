"""Two pivot commands at once on one project (issue 10, collisions): real processes."""

import json
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import Project, pivot_env

pytestmark = pytest.mark.slow

STAGES = """
import os
import pathlib
import time
from typing import Annotated

from pivot import loaders, outputs


def _gate(name):
    # Tell the test this stage started, then hold until the test opens the gate.
    gate = pathlib.Path(os.environ["GATE_DIR"])
    with open(gate / "started", "a") as f:
        f.write(name + "\\n")
    deadline = time.monotonic() + 60
    while not (gate / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    with open(gate / "calls", "a") as f:
        f.write(name + "\\n")


def slow(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("slow.txt", loaders.Text())]:
    _gate("slow")
    return raw.upper()


def after(
    up: Annotated[str, outputs.Dep("slow.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("after.txt", loaders.Text())]:
    return up + "!"
"""

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("collide")
pipeline.register(stages.slow)
pipeline.register(stages.after)
"""


class Scene:
    """A project whose `slow` stage holds at a gate the test opens, and its running commands."""

    def __init__(self, tmp_path: pathlib.Path) -> None:
        self.project = Project(tmp_path / "proj")
        self.project.root.mkdir()
        self.project.write("stages.py", STAGES)
        self.project.write("pipeline.py", PIPELINE)
        self.project.write("raw.txt", "hello\n")
        self.gate = tmp_path / "gate"
        self.gate.mkdir()
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.env = pivot_env(GATE_DIR=str(self.gate), PIVOT_EXECUTOR="inline")
        assert self.pivot("init").returncode == 0
        self._started: list[tuple[subprocess.Popen[bytes], pathlib.Path, pathlib.Path]] = []

    def pivot(self, *args: str, stdin: int | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pivot", *args],
            cwd=self.project.root,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
            stdin=stdin,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        n = len(self._started)
        out, err = self.logs / f"{n}.out", self.logs / f"{n}.err"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pivot", *args],
                cwd=self.project.root,
                stdout=o,
                stderr=e,
                stdin=subprocess.DEVNULL,
                env={**self.env, **(env or {})},
            )
        self._started.append((proc, out, err))
        return proc

    def finish(self, proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
        """Wait for a started command: (exit status, stdout, stderr)."""
        code = proc.wait(timeout=120)
        for p, out, err in self._started:
            if p is proc:
                return code, out.read_text(), err.read_text()
        raise AssertionError("not started here")

    def stderr(self, proc: subprocess.Popen[bytes]) -> str:
        return next(err.read_text() for p, _, err in self._started if p is proc)

    def open_gate(self) -> None:
        (self.gate / "go").touch()

    def started(self) -> list[str]:
        path = self.gate / "started"
        return path.read_text().split() if path.exists() else []

    def calls(self) -> list[str]:
        path = self.gate / "calls"
        return path.read_text().split() if path.exists() else []

    def kill_all(self) -> None:
        for proc, _, _ in self._started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def scene(tmp_path: pathlib.Path):
    s = Scene(tmp_path)
    yield s
    s.open_gate()
    s.kill_all()


def _assert_consistent(scene: Scene) -> None:
    """Outputs, lock records and cache agree: verify passes, status is clean, nothing is stale."""
    root = scene.project.root
    assert (root / "slow.txt").read_text() == "HELLO\n"
    assert (root / "after.txt").read_text() == "HELLO\n!"
    verify = scene.pivot("verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    status = scene.pivot("status", "--json")
    assert status.returncode == 0, status.stderr
    assert all(not s["stale"] for s in json.loads(status.stdout)["stages"])
    assert not layout_holder(root).exists()
    leftovers = [p for p in root.rglob("*") if "pivot-tmp" in p.name or "pivot-new" in p.name]
    assert leftovers == []


def layout_holder(root: pathlib.Path) -> pathlib.Path:
    return root / ".pivot" / "lock.holder"


def test_two_runs_started_together_both_finish_and_the_second_waited(scene: Scene) -> None:
    # Real worker processes here (loky), as a user's run would have.
    loky = {"PIVOT_EXECUTOR": "loky"}
    first, second = scene.start("run", env=loky), scene.start("run", env=loky)
    _until(lambda: scene.started() != [], "a stage to start")
    _until(
        lambda: "waiting for" in scene.stderr(first) + scene.stderr(second),
        "one run to say it waits",
    )
    scene.open_gate()

    a, b = scene.finish(first), scene.finish(second)

    assert (a[0], b[0]) == (0, 0), (a, b)
    waited = [(proc, res) for proc, res in ((first, a), (second, b)) if "waiting for" in res[2]]
    assert len(waited) == 1, (a, b)
    (waiter, res), holder = waited[0], (second if waited[0][0] is first else first)
    assert f"waiting for pivot run (pid {holder.pid})" in res[2]
    assert waiter is not holder
    assert scene.calls() == ["slow"]  # the second run found everything up to date
    assert "Traceback" not in a[2] + b[2]
    _assert_consistent(scene)


def test_run_no_wait_fails_at_once_naming_the_holder(scene: Scene) -> None:
    running = scene.start("run")
    _until(lambda: scene.started() == ["slow"], "the run's stage to start")

    refused = scene.pivot("run", "--no-wait")

    assert refused.returncode == 1
    assert f"pivot run (pid {running.pid})" in refused.stderr
    assert "Traceback" not in refused.stderr
    scene.open_gate()
    assert scene.finish(running)[0] == 0
    _assert_consistent(scene)


def test_gc_during_a_run_refuses_with_no_wait_and_otherwise_waits(scene: Scene) -> None:
    running = scene.start("run")
    _until(lambda: scene.started() == ["slow"], "the run's stage to start")

    refused = scene.pivot("gc", "--force", "--no-wait")
    assert refused.returncode == 1
    assert f"pivot run (pid {running.pid})" in refused.stderr

    gc = scene.start("gc", "--force")
    _until(lambda: "waiting for pivot run" in scene.stderr(gc), "gc to say it waits")
    assert gc.poll() is None  # still waiting while the run holds the lock
    scene.open_gate()

    assert scene.finish(running)[0] == 0
    code, out, _ = scene.finish(gc)
    assert code == 0
    assert "Removed 0 object(s)" in out  # everything the run just cached is referenced
    _assert_consistent(scene)


def test_checkout_force_during_a_run_waits_and_restores_the_new_outputs(scene: Scene) -> None:
    scene.open_gate()
    assert scene.pivot("run").returncode == 0
    (scene.gate / "go").unlink()
    scene.project.write("raw.txt", "changed\n")
    running = scene.start("run")
    _until(lambda: scene.started() == ["slow", "slow"], "the second run's stage to start")

    checkout = scene.start("checkout", "--force")
    _until(lambda: "waiting for pivot run" in scene.stderr(checkout), "checkout to wait")
    scene.open_gate()

    assert scene.finish(running)[0] == 0
    assert scene.finish(checkout)[0] == 0
    root = scene.project.root
    assert (root / "slow.txt").read_text() == "CHANGED\n"
    assert (root / "after.txt").read_text() == "CHANGED\n!"
    assert scene.pivot("verify").returncode == 0


def test_track_during_a_run_waits_and_both_are_recorded(scene: Scene) -> None:
    scene.project.write("data/extra.csv", "a,b\n1,2\n")
    running = scene.start("run")
    _until(lambda: scene.started() == ["slow"], "the run's stage to start")

    track = scene.start("track", "data/extra.csv")
    _until(lambda: "waiting for pivot run" in scene.stderr(track), "track to wait")
    scene.open_gate()

    assert scene.finish(running)[0] == 0
    assert scene.finish(track)[0] == 0
    assert (scene.project.root / "data/extra.csv.pvt").is_file()
    assert (scene.project.root / "data/extra.csv").read_text() == "a,b\n1,2\n"
    _assert_consistent(scene)


def test_readers_never_block_and_never_crash_during_a_run(scene: Scene) -> None:
    running = scene.start("run")
    _until(lambda: scene.started() == ["slow"], "the run's stage to start")

    readers = [
        scene.pivot(*args)
        for args in (("status",), ("status", "--json"), ("list",), ("run", "--dry-run"))
    ]

    assert running.poll() is None  # every reader answered while the run held the lock
    assert layout_holder(scene.project.root).exists()
    for done in readers:
        assert done.returncode in (0, 1), done.stderr
        assert "Traceback" not in done.stderr
        assert "waiting for" not in done.stderr
    assert "slow" in readers[0].stdout  # not yet recorded: stale
    scene.open_gate()
    assert scene.finish(running)[0] == 0
    _assert_consistent(scene)
