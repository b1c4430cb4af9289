import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class Optimizer(StageParams):
    lr: float = 0.01
    momentum: float = 0.9


class FitParams(StageParams):
    epochs: int = 10
    optimizer: Optimizer = Optimizer()


def fit(params: FitParams) -> Annotated[pathlib.Path, outputs.Out("fit.txt", loaders.PathOnly())]:
    return pathlib.Path("fit.txt")


def noparams() -> Annotated[pathlib.Path, outputs.Out("n.txt", loaders.PathOnly())]:
    return pathlib.Path("n.txt")
