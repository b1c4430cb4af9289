import csv
import importlib.util
import io
import json
import pathlib
import pickle

import pytest
from ruamel import yaml

from tests.e2e.conftest import Project, statuses

HAVE_PANDAS = importlib.util.find_spec("pandas") is not None

KINDS = """
import pathlib
from typing import Annotated, Any, TypedDict

from pivot import loaders, outputs


class Produced(TypedDict):
    text: Annotated[str, outputs.Out("out/text.txt", loaders.Text())]
    doc: Annotated[dict, outputs.Out("out/doc.json", loaders.JSON())]
    conf: Annotated[dict, outputs.Out("out/conf.yaml", loaders.YAML())]
    rows: Annotated[list, outputs.Plot("out/loss.jsonl", loaders.JSONL(), x="step", y="loss")]
    blob: Annotated[Any, outputs.Out("out/blob.pkl", loaders.Pickle())]
    score: Annotated[dict, outputs.Metric("metrics.json", loaders.JSON())]
    scratch: Annotated[str, outputs.Out("out/scratch.txt", loaders.Text(), cache=False)]


def produce(raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())]) -> Produced:
    return Produced(
        text=raw.upper(),
        doc={"raw": raw.strip(), "n": 1},
        conf={"name": "pivot", "sizes": [1, 2]},
        rows=[{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}],
        blob={"set": {1, 2}, "tuple": (1, "x")},
        score={"acc": 0.75},
        scratch="scratch",
    )


def shards() -> Annotated[dict, outputs.DirectoryOut("shards", loaders.JSON())]:
    return {"a.json": {"n": 1}, "sub/b.json": {"n": 2}}


def consume(
    text: Annotated[str, outputs.Dep("out/text.txt", loaders.Text())],
    doc: Annotated[dict, outputs.Dep("out/doc.json", loaders.JSON())],
    conf: Annotated[dict, outputs.Dep("out/conf.yaml", loaders.YAML())],
    rows: Annotated[list, outputs.Dep("out/loss.jsonl", loaders.JSONL())],
    blob: Annotated[Any, outputs.Dep("out/blob.pkl", loaders.Pickle())],
    shard: Annotated[dict, outputs.Dep("shards/a.json", loaders.JSON())],
    both: Annotated[list, outputs.Dep(["out/text.txt", "out/scratch.txt"], loaders.Text())],
) -> Annotated[dict, outputs.Out("summary.json", loaders.JSON())]:
    return {
        "text": text,
        "doc": doc,
        "conf": conf,
        "losses": [r["loss"] for r in rows],
        "blob": sorted(blob["set"]),
        "shard": shard["n"],
        "both": both,
    }


HISTORY = outputs.IncrementalOut("history.jsonl", loaders.JSONL())


def append(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
    history: Annotated[list, HISTORY],
) -> Annotated[list, HISTORY]:
    return [*history, {"run": len(history) + 1}]


def table() -> Annotated[Any, outputs.Out("table.csv", loaders.CSV())]:
    try:
        import pandas
    except ImportError:  # the loader itself reports what to install
        return {"a": [1, 2], "b": ["x", "y"]}
    return pandas.DataFrame({"a": [1, 2], "b": ["x", "y"]})
"""

KINDS_PIPELINE = """
import kinds
from pivot.pipeline import Pipeline

pipeline = Pipeline("kinds")
for func in (kinds.produce, kinds.shards, kinds.consume, kinds.append):
    pipeline.register(func)
"""


@pytest.fixture
def kinds(project: Project) -> Project:
    project.write("kinds.py", KINDS)
    project.write("pipeline.py", KINDS_PIPELINE)
    return project


def test_every_output_kind_and_loader_round_trips(kinds: Project) -> None:
    code, events = kinds.run_json()

    assert code == 0, events
    assert set(statuses(events).values()) == {"ran"}
    root = kinds.root
    summary = json.loads((root / "summary.json").read_text())
    assert summary == {
        "text": "HELLO\n",
        "doc": {"raw": "hello", "n": 1},
        "conf": {"name": "pivot", "sizes": [1, 2]},
        "losses": [0.5, 0.25],
        "blob": [1, 2],
        "shard": 1,
        "both": ["HELLO\n", "scratch"],
    }
    assert json.loads((root / "out/doc.json").read_text()) == {"raw": "hello", "n": 1}
    conf = yaml.YAML(typ="safe", pure=True).load(io.StringIO((root / "out/conf.yaml").read_text()))
    assert conf == {"name": "pivot", "sizes": [1, 2]}
    rows = [json.loads(line) for line in (root / "out/loss.jsonl").read_text().splitlines()]
    assert rows == [{"loss": 0.5, "step": 1}, {"loss": 0.25, "step": 2}]
    assert pickle.loads((root / "out/blob.pkl").read_bytes()) == {"set": {1, 2}, "tuple": (1, "x")}
    assert json.loads((root / "shards/sub/b.json").read_text()) == {"n": 2}
    lock = json.loads((root / ".pivot/stages/produce.lock").read_text())
    kinds_cached = {k: (v["kind"], v["cached"]) for k, v in lock["outs"].items()}
    assert kinds_cached["produce:rows"] == ("plot", True)
    assert kinds_cached["produce:score"] == ("metric", False)
    assert kinds_cached["produce:scratch"] == ("out", False)

    code, events = kinds.run_json()

    assert code == 0
    assert set(statuses(events).values()) == {"skipped"}


def test_directory_out_consumer_reruns_only_when_its_file_changes(kinds: Project) -> None:
    assert kinds.pivot("run").returncode == 0
    kinds.edit("kinds.py", '"sub/b.json": {"n": 2}', '"sub/b.json": {"n": 3}')

    code, events = kinds.run_json()

    assert code == 0
    assert statuses(events)["shards"] == "ran"
    assert statuses(events)["consume"] == "skipped"  # shards/a.json did not change


def test_incremental_out_appends_across_forced_runs(kinds: Project) -> None:
    for _ in range(3):
        assert kinds.pivot("run", "--force", "append").returncode == 0

    lines = (kinds.root / "history.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [{"run": 1}, {"run": 2}, {"run": 3}]


def test_csv_loader(kinds: Project) -> None:
    kinds.write("pipeline.py", KINDS_PIPELINE.replace("kinds.append)", "kinds.table)"))

    done = kinds.pivot("run", "table")

    if HAVE_PANDAS:
        assert done.returncode == 0, done.stderr
        with (kinds.root / "table.csv").open(newline="") as f:
            assert list(csv.reader(f)) == [["a", "b"], ["1", "x"], ["2", "y"]]
    else:
        assert done.returncode == 1
        assert "pip install 'pivot[csv]'" in done.stdout + done.stderr


def test_params_a_b_a_restores_from_the_run_cache(project: Project) -> None:
    outputs = ("data/clean.txt", "models/model.txt", "metrics.json", "eval.txt", "other.txt")
    assert project.pivot("run").returncode == 0
    first = {name: (project.root / name).read_bytes() for name in outputs}
    project.edit(
        "pipeline.py", "register(stages.train)", "register(stages.train, params={'lr': 0.5})"
    )
    assert project.pivot("run").returncode == 0
    assert (project.root / "models/model.txt").read_bytes() != first["models/model.txt"]
    project.edit(
        "pipeline.py", "register(stages.train, params={'lr': 0.5})", "register(stages.train)"
    )
    project.calls()

    code, events = project.run_json()

    assert code == 0
    assert project.calls() == []
    assert statuses(events) == {
        "prepare": "skipped",
        "train": "restored",
        "evaluate": "restored",
        "other": "skipped",
    }
    messages = {e["stage"]: e.get("message") for e in events if e["event"] == "stage_finished"}
    assert messages["train"] == "restored (run cache)"
    assert {name: (project.root / name).read_bytes() for name in outputs} == first
    code, events = project.run_json()
    assert set(statuses(events).values()) == {"skipped"}


def test_no_commit_then_commit(project: Project) -> None:
    done = project.pivot("run", "--no-commit")

    assert done.returncode == 0, done.stderr
    assert (project.root / "eval.txt").exists()
    assert not list((project.root / ".pivot").glob("stages/*.lock"))
    assert not any(p.is_file() for p in (project.root / ".pivot/cache").rglob("*"))

    done = project.pivot("commit")

    assert done.returncode == 0, done.stderr
    assert "train: committed" in done.stdout
    assert len(list((project.root / ".pivot").glob("stages/*.lock"))) == 4
    project.calls()
    code, events = project.run_json()
    assert code == 0
    assert set(statuses(events).values()) == {"skipped"}
    assert project.calls() == []


def test_commit_after_a_behaviour_neutral_edit(project: Project) -> None:
    assert project.pivot("run").returncode == 0
    project.edit(
        "stages.py", "return raw[::-1]", "reversed_text = raw[::-1]\n    return reversed_text"
    )

    assert project.pivot("commit", "other").stdout.strip() == "other: committed"

    project.calls()
    code, events = project.run_json()
    assert code == 0
    assert set(statuses(events).values()) == {"skipped"}


def _snapshot(root: pathlib.Path) -> dict[str, bytes]:
    """Workspace and recorded state; a failed stage's log is the one thing a failure may add."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and "state.lmdb" not in p.parts
        and "logs" not in p.parts
        and p.relative_to(root).as_posix() != ".pivot/lock"  # the project lock's file
    }


BAD = """
from typing import Annotated

from pivot import loaders, outputs


def up() -> Annotated[str, outputs.Out("../x.txt", loaders.Text())]:
    return ""


def absolute() -> Annotated[str, outputs.Out("/tmp/pivot-absolute.txt", loaders.Text())]:
    return ""


def bad_key() -> Annotated[dict, outputs.DirectoryOut("shards", loaders.Text())]:
    return {"ok.txt": "fine", "../escape.txt": "no"}


def placeholder(
    data: Annotated[str, outputs.PlaceholderDep(loaders.Text())],
) -> Annotated[str, outputs.Out("p.txt", loaders.Text())]:
    return data
"""


@pytest.mark.parametrize(
    ("func", "words"),
    [
        ("up", ["'../x.txt'", "outside the project"]),
        ("absolute", ["'/tmp/pivot-absolute.txt'", "absolute path"]),
        ("bad_key", ["stage 'bad_key'", "'../escape.txt'", "'..'"]),
        ("placeholder", ["PlaceholderDep", "'data'", "dep_path_overrides"]),
    ],
)
def test_bad_input_is_one_clear_message_and_changes_nothing(
    project: Project, func: str, words: list[str]
) -> None:
    project.write("bad.py", BAD)
    project.write(
        "pipeline.py",
        "import bad\nfrom pivot.pipeline import Pipeline\npipeline = Pipeline('bad')\n"
        + f"pipeline.register(bad.{func})\n",
    )
    before = _snapshot(project.root)

    done = project.pivot("run")

    assert done.returncode == 1
    output = done.stdout + done.stderr
    for word in words:
        assert word in output
    assert "Traceback" not in output
    assert _snapshot(project.root) == before
    assert not (project.root.parent / "x.txt").exists()
    assert not (project.root.parent / "escape.txt").exists()
