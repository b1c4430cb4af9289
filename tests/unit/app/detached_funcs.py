import os
import pathlib
from typing import Annotated, TypedDict

from pivot import loaders, outputs


class Summary(TypedDict):
    result: Annotated[str, outputs.Out("out/result.txt", loaders.Text())]
    where: Annotated[str, outputs.Metric("out/cwd.txt", loaders.Text())]
    pieces: Annotated[dict[str, str], outputs.DirectoryOut("out/pieces", loaders.Text())]


def summarize(
    text: Annotated[str, outputs.Dep("data/in.txt", loaders.Text())],
    parts: Annotated[pathlib.Path, outputs.Dep("data/parts", loaders.PathOnly())],
) -> Summary:
    names = sorted(p.name for p in parts.iterdir())
    return Summary(
        result=text.upper() + " " + ",".join(names),
        where=os.getcwd(),
        pieces={f"{n}.copy": (parts / n).read_text() for n in names},
    )
