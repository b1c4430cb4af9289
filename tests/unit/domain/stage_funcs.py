import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class TrainParams(StageParams):
    lr: float = 0.01
    epochs: int = 10


class TrainOutputs(TypedDict):
    model: Annotated[pathlib.Path, outputs.Out("models/model.pkl", loaders.PathOnly())]
    score: Annotated[dict[str, float], outputs.Metric("metrics.json", loaders.JSON())]


def train(
    params: TrainParams,
    data: Annotated[pathlib.Path, outputs.Dep("data/train.csv", loaders.PathOnly())],
) -> TrainOutputs:
    return TrainOutputs(model=pathlib.Path("models/model.pkl"), score={"acc": 1.0})


def prepare(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[pathlib.Path, outputs.Out("data/train.csv", loaders.PathOnly())]:
    return pathlib.Path("data/train.csv")


def placed() -> Annotated[str, outputs.Out(loader=loaders.Text())]:
    return "x"


def placeholder(
    data: Annotated[pathlib.Path, outputs.PlaceholderDep(loaders.PathOnly())],
) -> None:
    pass


def writes_dir() -> Annotated[pathlib.Path, outputs.Out("data", loaders.PathOnly())]:
    return pathlib.Path("data")


def escapes() -> Annotated[str, outputs.Out("..", loaders.Text())]:
    return ""


def absolute() -> Annotated[str, outputs.Out("/tmp/x.txt", loaders.Text())]:
    return ""


def untyped(data) -> None:
    pass


def cycle_a(
    b: Annotated[str, outputs.Dep("b.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("a.txt", loaders.Text())]:
    return b


def cycle_b(
    a: Annotated[str, outputs.Dep("a.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("b.txt", loaders.Text())]:
    return a


def unresolvable(x: "NoSuchType") -> None:  # noqa: F821 # pyright: ignore[reportUndefinedVariable]
    pass


def make_closure() -> object:
    def inner() -> None:
        pass

    return inner


def placed_directory() -> Annotated[dict[str, str], outputs.DirectoryOut(loader=loaders.Text())]:
    return {"a.txt": "a"}
