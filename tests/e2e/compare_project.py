import pathlib
import subprocess

from tests.e2e import conftest

STAGES = """
import json
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.1
    epochs: int = 3


class TrainOutputs(TypedDict):
    score: Annotated[dict, outputs.Metric("metrics.json", loaders.JSON())]
    summary: Annotated[str, outputs.Metric("summary.csv", loaders.Text())]
    curve: Annotated[str, outputs.Plot("plots/loss.csv", loaders.Text(), x="epoch", y="loss")]
    points: Annotated[
        list, outputs.Plot("plots/points.jsonl", loaders.JSONL(), x="p", y="r", template="scatter")
    ]
    model: Annotated[str, outputs.Out("model.txt", loaders.Text())]


def train(params: TrainParams) -> TrainOutputs:
    losses = [round(1.0 / (1 + params.lr * 10 * e), 4) for e in range(1, params.epochs + 1)]
    curve = "epoch,loss\\n" + "".join(f"{e},{l}\\n" for e, l in enumerate(losses, 1))
    acc = round(1 - losses[-1] / 2, 4)
    return TrainOutputs(
        score={"acc": acc, "eval": {"loss": losses[-1]}, "name": "net"},
        summary=f"precision,{acc}\\nrecall,0.5\\n",
        curve=curve,
        points=[{"p": i / 4, "r": 1 - i / 4 * acc} for i in range(5)],
        model=f"model lr={params.lr}",
    )


def confusion() -> Annotated[
    str, outputs.Plot("plots/confusion.csv", loaders.Text(), x="actual", y="predicted",
                      template="confusion")
]:
    return "actual,predicted\\ncat,cat\\ncat,dog\\ndog,dog\\ndog,dog\\n"


def picture() -> Annotated[str, outputs.Out("plots/logo.svg", loaders.Text())]:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        '<circle cx="20" cy="20" r="15" fill="teal"/></svg>'
    )
"""

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("cmp")
pipeline.register(stages.train)
pipeline.register(stages.confusion)
pipeline.register(stages.picture)
"""


def git(root: pathlib.Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "HOME": str(root),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)
    return done.stdout.decode().strip()


def make(tmp_path: pathlib.Path) -> conftest.Project:
    """A git project with one committed run (lr=0.1); the workspace re-ran with lr=0.5."""
    proj = conftest.Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", STAGES)
    proj.write("pipeline.py", PIPELINE)
    git(proj.root, "init", "-q", "-b", "main")
    assert proj.pivot("init").returncode == 0
    done = proj.pivot("run")
    assert done.returncode == 0, done.stderr
    git(proj.root, "add", "-A")
    git(proj.root, "commit", "-q", "-m", "lr 0.1")
    return proj


def change_lr(proj: conftest.Project, lr: str) -> None:
    proj.edit("stages.py", "lr: float = 0.1", f"lr: float = {lr}")
    done = proj.pivot("run")
    assert done.returncode == 0, done.stderr
