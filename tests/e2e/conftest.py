import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import pytest

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

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root

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
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            [sys.executable, "-m", "pivot", *args],
            cwd=cwd or self.root,
            capture_output=True,
            text=True,
            env=env,
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
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
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


def statuses(events: list[dict[str, Any]]) -> dict[str, str]:
    return {e["stage"]: e["status"] for e in events if e["event"] == "stage_finished"}


@pytest.fixture
def project(tmp_path: pathlib.Path) -> Project:
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", STAGES)
    proj.write("pipeline.py", PIPELINE)
    proj.write("raw.txt", "hello\n")
    assert proj.pivot("init").returncode == 0
    return proj
