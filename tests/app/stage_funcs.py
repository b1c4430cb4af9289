import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs

LOG = "calls.log"


def _log(name: str) -> None:
    with pathlib.Path(LOG).open("a") as f:
        f.write(name + "\n")


def make() -> Annotated[str, outputs.Out("a.txt", loaders.Text())]:
    _log("make")
    return pathlib.Path("input.txt").read_text().upper()


def use(
    a: Annotated[str, outputs.Dep("a.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("b.txt", loaders.Text())]:
    _log("use")
    return a + "!"


def fails(
    a: Annotated[str, outputs.Dep("a.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("c.txt", loaders.Text())]:
    _log("fails")
    raise RuntimeError("no good")


def needs_missing(
    x: Annotated[str, outputs.Dep("missing.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("d.txt", loaders.Text())]:
    return x


def forgets_output() -> Annotated[pathlib.Path, outputs.Out("never.txt", loaders.PathOnly())]:
    return pathlib.Path("never.txt")


class TwoOutputs(TypedDict):
    left: Annotated[str, outputs.Out("left.txt", loaders.Text())]
    right: Annotated[str, outputs.Out("right.txt", loaders.Text())]


def two_outputs() -> TwoOutputs:
    return TwoOutputs(left="l", right="r")
