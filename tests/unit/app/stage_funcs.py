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


def chatty() -> Annotated[str, outputs.Out("chat.txt", loaders.Text())]:
    import subprocess
    import sys

    print("epoch 1")
    print("warning: slow", file=sys.stderr)
    subprocess.run(["echo", "from the shell"], check=True)
    return "done"


def explodes() -> Annotated[str, outputs.Out("never2.txt", loaders.Text())]:
    print("about to fail")
    return {"a": "1"}["b"]


def reads_config(
    cfg: Annotated[dict[str, int], outputs.Dep("in.json", loaders.JSON())],
) -> Annotated[str, outputs.Out("cfg.txt", loaders.Text())]:
    return str(cfg)


def returns_a_set() -> Annotated[object, outputs.Out("out.json", loaders.JSON())]:
    return {1, 2}


def first() -> Annotated[str, outputs.Out("first.txt", loaders.Text())]:
    return "1"


def second() -> Annotated[str, outputs.Out("second.txt", loaders.Text())]:
    return "2"


def third() -> Annotated[str, outputs.Out("third.txt", loaders.Text())]:
    return "3"
