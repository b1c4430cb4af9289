import contextlib
import pathlib
import textwrap
from collections.abc import Callable
from typing import Any

STAGES_PY = """\
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01
    epochs: int = 10


class TrainOutputs(TypedDict):
    model: Annotated[pathlib.Path, outputs.Out("models/model.pkl", loaders.PathOnly())]
    scores: Annotated[dict, outputs.Metric("metrics.json", loaders.JSON())]


def train(
    params: TrainParams,
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> TrainOutputs:
    pathlib.Path("models").mkdir(exist_ok=True)
    pathlib.Path("models/model.pkl").write_text(f"lr={params.lr}")
    return TrainOutputs(model=pathlib.Path("models/model.pkl"), scores={"lr": params.lr})


def prepare(
    raw: Annotated[pathlib.Path, outputs.Dep("data/raw.csv", loaders.PathOnly())],
    extra: Annotated[pathlib.Path, outputs.Dep("data/extra.csv", loaders.PathOnly())],
) -> Annotated[pathlib.Path, outputs.Out("data/train.csv", loaders.PathOnly())]:
    return pathlib.Path("data/train.csv")


def plain():
    pathlib.Path("report.txt").write_text(pathlib.Path("notes.txt").read_text().upper())


def plot(
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> Annotated[pathlib.Path, outputs.Plot("plots/loss.csv", loaders.PathOnly())]:
    return pathlib.Path("plots/loss.csv")


VALUE = 3
"""


def write(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    """Write dedented `files` (relative path → text) under `root`; return `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def run_in(root: pathlib.Path, func: Callable[..., Any], **kwargs: Any) -> Any:
    """Call `func` with `root` as working directory, as a worker would run a stage."""
    with contextlib.chdir(root):
        return func(**kwargs)
