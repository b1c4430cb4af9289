"""A five-stage project for the live loop: `pivot run --watch` and `pivot ui`.

`helpers.normalize` is reached by two stages (`clean`, `tag`); `count` and `summary` sit
downstream of `clean`; `side` reads its own file and no helper, and writes a metric;
`summary` writes a plot.
"""

import json
import os
import pathlib
import queue
import subprocess
import sys
import threading
import time
from typing import Any

from tests.e2e import conftest

HELPERS = """
def normalize(text):
    # tidy one line
    return text.strip().lower()
"""

STAGES = """
import os
import time
from typing import Annotated, TypedDict

import helpers
from pivot import loaders, outputs


def _pause():
    # The browser test slows `count` down to watch it run.
    time.sleep(float(os.environ.get("LIVE_PAUSE", "0")))


def clean(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("clean.txt", loaders.Text())]:
    return helpers.normalize(raw)


def count(
    text: Annotated[str, outputs.Dep("clean.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("count.txt", loaders.Text())]:
    _pause()
    return str(len(text))


def summary(
    n: Annotated[str, outputs.Dep("count.txt", loaders.Text())],
) -> Annotated[str, outputs.Plot("summary.csv", loaders.Text(), x="step", y="value")]:
    return "step,value\\n" + "".join(f"{i},{int(n) * i}\\n" for i in range(1, 6))


def tag(
    labels: Annotated[str, outputs.Dep("labels.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("tags.txt", loaders.Text())]:
    return helpers.normalize(labels)


class SideOutputs(TypedDict):
    text: Annotated[str, outputs.Out("side_out.txt", loaders.Text())]
    size: Annotated[dict, outputs.Metric("side_metrics.json", loaders.JSON())]


def side(notes: Annotated[str, outputs.Dep("side.txt", loaders.Text())]) -> SideOutputs:
    return SideOutputs(text=notes[::-1], size={"chars": len(notes)})
"""

PIPELINE = """
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("live")
for func in (stages.clean, stages.count, stages.summary, stages.tag, stages.side):
    pipeline.register(func)
"""

STAGE_NAMES = ("clean", "count", "summary", "tag", "side")


def make(root: pathlib.Path) -> conftest.Project:
    proj = conftest.Project(root)
    root.mkdir(parents=True)
    proj.write("helpers.py", HELPERS)
    proj.write("stages.py", STAGES)
    proj.write("pipeline.py", PIPELINE)
    proj.write("raw.txt", "Hello World\n")
    proj.write("labels.txt", "A B\n")
    proj.write("side.txt", "notes\n")
    assert proj.pivot("init").returncode == 0
    return proj


class Background:
    """A long-running `pivot` process whose stdout lines are read as they come."""

    def __init__(
        self, proj: conftest.Project, *args: str, env: dict[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pivot", *args],
            cwd=proj.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.errors: list[str] = []
        threading.Thread(
            target=self._pump, args=(self.proc.stdout, self.lines), daemon=True
        ).start()
        errs: queue.Queue[str] = queue.Queue()
        self._errs = errs
        threading.Thread(target=self._pump, args=(self.proc.stderr, errs), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, into: "queue.Queue[str]") -> None:
        for line in stream:
            into.put(line.rstrip("\n"))

    def line(self, timeout: float) -> str | None:
        try:
            found = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        self.seen.append(found)
        return found

    def until(self, predicate: Any, timeout: float = 60) -> list[str]:
        """Lines read until one satisfies `predicate` (that one included)."""
        deadline = time.monotonic() + timeout
        got: list[str] = []
        while time.monotonic() < deadline:
            found = self.line(0.2)
            if found is None:
                continue
            got.append(found)
            if predicate(found):
                return got
        raise AssertionError(f"timed out; got {got!r}; stderr {self.stderr()!r}")

    def stderr(self) -> str:
        while not self._errs.empty():
            self.errors.append(self._errs.get())
        return "\n".join(self.errors)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                return self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def events(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def is_event(name: str) -> Any:
    return lambda line: line.startswith("{") and json.loads(line).get("event") == name
