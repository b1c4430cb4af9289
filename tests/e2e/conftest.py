import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from pivot.cli import fast


def pivot_env(**extra: str) -> dict[str, str]:
    """Environment of a `pivot` subprocess: no bytecode written for the test's project.

    Not PYTHONPYCACHEPREFIX: a `.pyc` records its source's mtime in whole seconds, so a test that
    edits a stage module within a second of running it, without changing its size, would load
    the old code from the cached bytecode.
    """
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **extra}


STAGES = '''
import json
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


def _log(name):
    with open("calls.log", "a") as f:
        f.write(name + "\\n")


class TrainParams(StageParams):
    lr: float = 0.1


class TrainOutputs(TypedDict):
    model: Annotated[str, outputs.Out("models/model.txt", loaders.Text())]
    score: Annotated[dict, outputs.Metric("metrics.json", loaders.JSON())]


def prepare(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("data/clean.txt", loaders.Text())]:
    _log("prepare")
    return raw.upper()


def train(
    params: TrainParams,
    clean: Annotated[str, outputs.Dep("data/clean.txt", loaders.Text())],
) -> TrainOutputs:
    # training comment
    _log("train")
    return TrainOutputs(model=f"model({clean.strip()}, lr={params.lr})", score={"acc": 0.9})


def evaluate(
    model: Annotated[str, outputs.Dep("models/model.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("eval.txt", loaders.Text())]:
    """Evaluate the model."""
    _log("evaluate")
    return "evaluated " + model


def other(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("other.txt", loaders.Text())]:
    _log("other")
    return raw[::-1]
'''

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("demo")
pipeline.register(stages.prepare)
pipeline.register(stages.train)
pipeline.register(stages.evaluate)
pipeline.register(stages.other)
"""


class Project:
    """A throwaway Pivot project driven through the `pivot` command."""

    created: ClassVar[list["Project"]] = []
    """Projects made by the running test (checked for status/run agreement after it)."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        Project.created.append(self)

    def write(self, name: str, text: str) -> pathlib.Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.root / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))

    def pivot(
        self, *args: str, cwd: pathlib.Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = self._pivot(args, cwd)
        if repeat_noops() and done.returncode == 0 and fast.eligible(args) is not None:
            assert_repeat_agrees(args, done, self._pivot(args, cwd))
        return done

    def _pivot(
        self, args: tuple[str, ...], cwd: pathlib.Path | None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pivot", *args],
            cwd=cwd or self.root,
            capture_output=True,
            text=True,
            env=pivot_env(),
            timeout=240,
            check=False,
        )

    def pivot_without_reader(self, *args: str) -> tuple[int, str]:
        """Run `pivot` whose stdout reader leaves before it writes (`pivot … | head -0`)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "pivot", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=pivot_env(),
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        return proc.wait(timeout=240), err

    def run_json(self, *args: str) -> tuple[int, list[dict[str, Any]]]:
        done = self.pivot("run", "--json", *args)
        events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return done.returncode, events

    def calls(self) -> list[str]:
        log = self.root / "calls.log"
        calls = log.read_text().split() if log.exists() else []
        log.unlink(missing_ok=True)
        return calls


def repeat_noops() -> bool:
    """`--fast-path=eager`: every successful `pivot run`/`status` a snapshot may answer is run
    twice (tests about the snapshot itself turn this off)."""
    return os.environ.get("E2E_REPEAT_NOOPS") == "1"


_DURATION = re.compile(r"\b\d+\.\d+s\b")
_UP_TO_DATE = re.compile(r"^· .+: skipped \(up to date\)$")
_NOOP_SUMMARY = re.compile(r"^(\d+ skipped|nothing to do) in \d+\.\d+s$")


def assert_repeat_agrees(
    args: tuple[str, ...],
    first: subprocess.CompletedProcess[str],
    again: subprocess.CompletedProcess[str],
) -> None:
    """The same command run again at once, nothing changed in between: a no-op (from the
    snapshot when the first recorded one) whose answer is the first's, or — after a run that
    ran or restored something — a no-op full check that records the snapshot the test's next
    step meets."""
    context = f"pivot {' '.join(args)} repeated:\n{first.stdout}{first.stderr}---\n"
    context += again.stdout + again.stderr
    assert again.returncode == 0, context
    if fast.eligible(args) == "status":
        assert again.stdout == first.stdout, context
        return
    if "--json" in args:
        answers = [_noop_events(done.stdout) for done in (first, again)]
        assert answers[1] is not None, context
        assert answers[0] is None or answers[0] == answers[1], context
        return
    if not again.stdout:  # --quiet
        return
    lines = [_DURATION.sub("…", done.stdout).splitlines() for done in (first, again)]
    assert _is_noop(again.stdout), context
    if _is_noop(first.stdout):
        assert lines[0] == lines[1], context


def _is_noop(stdout: str) -> bool:
    """A run's console output says every stage was up to date (nothing ran or restored)."""
    lines = stdout.splitlines()
    marked = [line for line in lines if line.startswith("·")]  # skipped stages
    return bool(_NOOP_SUMMARY.match(lines[-1])) and all(_UP_TO_DATE.match(x) for x in marked)


def _noop_events(stdout: str) -> list[dict[str, Any]] | None:
    """The events of a run that did nothing, durations dropped; None if it ran or restored."""
    found = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    for event in found:
        event.pop("duration", None)
    finished = [e for e in found if e["event"] == "stage_finished"]
    if any(e["status"] != "skipped" or "message" in e for e in finished):
        return None
    return found


def statuses(events: list[dict[str, Any]]) -> dict[str, str]:
    return {e["stage"]: e["status"] for e in events if e["event"] == "stage_finished"}


def _decisions_of_status(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    return {
        s["name"]: ("would_run" if s["stale"] else "skipped", _reasons(s["reasons"]))
        for s in json.loads(done.stdout)["stages"]
    }


def _decisions_of_dry_run(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {
        e["stage"]: (e["status"], _reasons(e["reasons"]) if e["status"] == "would_run" else [])
        for e in events
        if e["event"] == "stage_finished"
    }


def _reasons(reasons: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["kind"], r.get("subject", "")) for r in reasons]


def assert_status_agrees_with_dry_run(proj: Project, cwd: pathlib.Path | None = None) -> None:
    """`pivot status` and `pivot run --dry-run` take the same decision, for the same reasons.

    Both start together (they never take the project lock). Skipped when the project has no
    pipeline to decide about (both must then fail alike).
    """
    env = pivot_env()
    argv = [sys.executable, "-m", "pivot"]
    started = [
        subprocess.Popen(
            [*argv, *args],
            cwd=cwd or proj.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for args in (("status", "--json"), ("run", "--dry-run", "--json"))
    ]
    outputs = [p.communicate(timeout=240) for p in started]
    status, dry = (
        subprocess.CompletedProcess(p.args, p.returncode, out, err)
        for p, (out, err) in zip(started, outputs, strict=True)
    )
    if status.returncode != 0:
        assert dry.returncode != 0, f"status failed, run --dry-run did not: {status.stderr}"
        return
    assert dry.returncode in (0, 1), dry.stderr
    assert _decisions_of_status(status) == _decisions_of_dry_run(dry), (
        "pivot status and pivot run --dry-run disagree"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.stash[_PASSED] = report.passed
    return report


_PASSED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _status_agrees_with_run(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every passing e2e test, status and run agree on what is stale in its projects."""
    Project.created.clear()
    yield
    if request.node.stash.get(_PASSED, False):
        for proj in Project.created:
            if (proj.root / ".pivot").is_dir():
                assert_status_agrees_with_dry_run(proj)


@pytest.fixture
def counted_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that count the runs `pivot history` lists: `--fast-path=eager` repeats none of
    their commands (a repeated no-op checked in full is one more run in the history)."""
    monkeypatch.delenv("E2E_REPEAT_NOOPS", raising=False)


@pytest.fixture
def project(tmp_path: pathlib.Path) -> Project:
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", STAGES)
    proj.write("pipeline.py", PIPELINE)
    proj.write("raw.txt", "hello\n")
    assert proj.pivot("init").returncode == 0
    return proj
