import json
import pathlib

import pytest

from tests.e2e.conftest import Project

A_STAGES = """
import pathlib
from typing import Annotated

from pivot import loaders, outputs


def _log(name):
    with open(pathlib.Path(__file__).parent.parent / "calls.log", "a") as f:
        f.write(name + "\\n")


def produce(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("shared/data.txt", loaders.Text())]:
    _log("produce")
    return raw.upper()


def unrelated() -> Annotated[str, outputs.Out("other.txt", loaders.Text())]:
    _log("unrelated")
    return "other"
"""

A_PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("A")
pipeline.register(stages.produce)
pipeline.register(stages.unrelated)
"""

B_STAGES = """
import pathlib
from typing import Annotated

from pivot import loaders, outputs


def _log(name):
    with open(pathlib.Path(__file__).parent.parent / "calls.log", "a") as f:
        f.write(name + "\\n")


def consume(
    data: Annotated[str, outputs.Dep("../A/shared/data.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("result.txt", loaders.Text())]:
    _log("consume")
    return "consumed " + data
"""

B_PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("B")
pipeline.register(stages.consume)
"""


@pytest.fixture
def two(tmp_path: pathlib.Path) -> Project:
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("A/stages.py", A_STAGES)
    proj.write("A/pipeline.py", A_PIPELINE)
    proj.write("A/raw.txt", "hello\n")
    proj.write("B/stages.py", B_STAGES)
    proj.write("B/pipeline.py", B_PIPELINE)
    assert proj.pivot("init").returncode == 0
    return proj


def _cache_objects(root: pathlib.Path) -> set[str]:
    files = root / ".pivot" / "cache" / "files"
    return {p.name for p in files.rglob("*") if p.is_file()} if files.exists() else set()


def test_run_in_b_runs_a_producer_first_with_own_locks_and_shared_cache(two: Project) -> None:
    done = two.pivot("run", cwd=two.root / "B")

    assert done.returncode == 0, done.stdout + done.stderr
    assert two.calls() == ["produce", "consume"]
    assert (two.root / "B" / "result.txt").read_text() == "consumed HELLO\n"
    assert (two.root / "A" / ".pivot" / "stages" / "produce.lock").is_file()
    assert (two.root / "B" / ".pivot" / "stages" / "consume.lock").is_file()
    assert not (two.root / "B" / ".pivot" / "stages" / "produce.lock").exists()
    assert not (two.root / "A" / ".pivot" / "cache").exists()
    assert not (two.root / "B" / ".pivot" / "cache").exists()
    assert len(_cache_objects(two.root)) == 2

    again = two.pivot("run", cwd=two.root / "B")
    assert again.returncode == 0, again.stdout + again.stderr
    assert two.calls() == []


def test_list_says_where_included_stages_come_from(two: Project) -> None:
    text = two.pivot("list", cwd=two.root / "B")
    listed = two.pivot("list", "--json", cwd=two.root / "B")

    assert text.returncode == 0, text.stderr
    assert "produce  (from pipeline 'A' (../A))" in text.stdout
    assert "unrelated" not in text.stdout
    stages = {s["name"]: s["pipeline"] for s in json.loads(listed.stdout)["stages"]}
    assert stages == {"produce": "A", "consume": "B"}


def test_status_all_lists_every_stage_of_both(two: Project) -> None:
    done = two.pivot("status", "--all", "--json", cwd=two.root / "B")

    assert done.returncode == 0, done.stderr
    names = {s["name"] for s in json.loads(done.stdout)["stages"]}
    assert names == {"produce", "unrelated", "consume"}


def test_run_all_from_project_root_runs_every_stage(two: Project) -> None:
    done = two.pivot("run", "--all")

    assert done.returncode == 0, done.stdout + done.stderr
    calls = two.calls()
    assert sorted(calls) == ["consume", "produce", "unrelated"]
    assert calls.index("produce") < calls.index("consume")
    assert (two.root / "A" / ".pivot" / "stages" / "unrelated.lock").is_file()
    status = two.pivot("status", "--all", "--json")
    assert [s["stale"] for s in json.loads(status.stdout)["stages"]] == [False] * 3


def test_all_prefixes_colliding_names_and_places_outputs_under_all(two: Project) -> None:
    two.write(
        "C/pipeline.py",
        """
        from typing import Annotated

        from pivot import loaders, outputs
        from pivot.pipeline import Pipeline


        def unrelated() -> Annotated[str, outputs.Out(loader=loaders.Text())]:
            return "c"


        pipeline = Pipeline("C")
        pipeline.register(unrelated)
        """,
    )

    listed = two.pivot("list", "--all", "--json")

    assert listed.returncode == 0, listed.stderr
    payload = json.loads(listed.stdout)
    assert payload["pipeline"] == "all"
    outs = {s["name"]: [o["path"] for o in s["outs"]] for s in payload["stages"]}
    assert outs["C/unrelated"] == ["data/all/C/unrelated.txt"]
    assert outs["unrelated"] == ["A/other.txt"]
