import pathlib
from typing import Annotated, Any, TypedDict

from pivot import loaders, outputs
from pivot.stage_def import StageParams

LOG = "calls.log"


def _log(name: str) -> None:
    with pathlib.Path(LOG).open("a") as f:
        f.write(name + "\n")


class ScaleParams(StageParams):
    factor: int = 1


class ScaleOutputs(TypedDict):
    table: Annotated[dict[str, int], outputs.Out("scaled.json", loaders.JSON())]
    score: Annotated[dict[str, int], outputs.Metric("score.json", loaders.JSON())]


def scale(
    params: ScaleParams,
    raw: Annotated[str, outputs.Dep("input.txt", loaders.Text())],
) -> ScaleOutputs:
    _log("scale")
    return ScaleOutputs(table={"value": len(raw) * params.factor}, score={"factor": params.factor})


def report(
    table: Annotated[dict[str, int], outputs.Dep("scaled.json", loaders.JSON())],
) -> Annotated[str, outputs.Out("report.txt", loaders.Text())]:
    _log("report")
    return f"value={table['value']}\n"


def plot() -> Annotated[
    list[dict[str, Any]], outputs.Plot("plots/loss.jsonl", loaders.JSONL(), x="step", y="loss")
]:
    _log("plot")
    return [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]


def uncached() -> Annotated[str, outputs.Out("scratch.txt", loaders.Text(), cache=False)]:
    _log("uncached")
    return "scratch"


def shards() -> Annotated[dict[str, Any], outputs.DirectoryOut("shards", loaders.JSON())]:
    _log("shards")
    return {"a.json": {"n": 1}, "sub/b.json": {"n": 2}}


def read_shard(
    shard: Annotated[dict[str, int], outputs.Dep("shards/a.json", loaders.JSON())],
) -> Annotated[str, outputs.Out("shard_a.txt", loaders.Text())]:
    _log("read_shard")
    return str(shard["n"])


def escaping_key() -> Annotated[dict[str, Any], outputs.DirectoryOut("bad", loaders.Text())]:
    return {"ok.txt": "fine", "../evil.txt": "no"}


def absolute_key() -> Annotated[dict[str, Any], outputs.DirectoryOut("bad", loaders.Text())]:
    return {"/tmp/evil.txt": "no"}


def duplicate_key() -> Annotated[dict[str, Any], outputs.DirectoryOut("bad", loaders.Text())]:
    return {"a/b.txt": "one", "a//b.txt": "two"}


HISTORY = outputs.IncrementalOut("history.jsonl", loaders.JSONL())


def append(
    raw: Annotated[str, outputs.Dep("input.txt", loaders.Text())],
    history: Annotated[list[dict[str, Any]], HISTORY],
) -> Annotated[list[dict[str, Any]], HISTORY]:
    _log("append")
    return [*history, {"run": len(history) + 1, "raw": raw}]


LEDGER = outputs.IncrementalOut("ledger.txt", loaders.PathOnly())


def append_in_place(
    ledger: Annotated[pathlib.Path, LEDGER],
) -> Annotated[pathlib.Path, LEDGER]:
    _log("append_in_place")
    with ledger.open("a") as f:
        f.write("line\n")
    return ledger


def wrong_incremental(
    history: Annotated[list[Any], outputs.IncrementalOut("other.jsonl", loaders.JSONL())],
) -> Annotated[list[Any], HISTORY]:
    return history


def combine(
    parts: Annotated[list[str], outputs.Dep(["input.txt", "extra.txt"], loaders.Text())],
) -> Annotated[str, outputs.Out("combined.txt", loaders.Text())]:
    _log("combine")
    return "+".join(parts)


def needs_placeholder(
    data: Annotated[str, outputs.PlaceholderDep(loaders.Text())],
    more: Annotated[str, outputs.PlaceholderDep(loaders.Text())],
) -> Annotated[str, outputs.Out("placeholder.txt", loaders.Text())]:
    return data + more
