import os
import pathlib
import sys
import time
from collections.abc import Iterator

import pytest

from pivot.adapters.discovery import python_source
from pivot.adapters.fingerprint import ast_fingerprinter, sources
from pivot.adapters.memory import state_store
from pivot.domain import change, manifest, pipeline
from tests.integration.fingerprint import harness, test_constants_classes, test_wrappers_loaders


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Forget the test project's modules afterwards: every project names its module `stages`."""
    modules, path = set(sys.modules), list(sys.path)
    yield
    for name in set(sys.modules) - modules:
        del sys.modules[name]
    sys.path[:] = path


def _settle(root: pathlib.Path) -> None:
    # Files written a moment ago are not cached (their stamp may not yet identify their
    # content); age them as if they were written a minute ago.
    past = time.time() - 60
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))


def _load(root: pathlib.Path) -> pipeline.Pipeline:
    return python_source.PythonPipelineSource().load(root)


KITCHEN_SINK = """
import functools
import pathlib
from typing import Annotated

import pygtrie
from pivot import loaders, outputs

import config
import ops
from decorators import logged
from models import Config, Model
from my_loaders import Upper


@logged
def helper(x):
    return ops.DISPATCH["add"](x) + config.RATE


def train(
    raw: Annotated[str, outputs.Dep("raw.txt", Upper())],
) -> Annotated[dict, outputs.Out("out.json", loaders.JSON())]:
    scale = functools.partial(helper)
    model = Model(Config().depth)
    print(getattr(ops, raw), pygtrie.CharTrie())
    return {"n": model.fit() + scale(1)}
"""


def test_two_processes_give_identical_manifests(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    for files in (
        test_constants_classes.CONSTANTS,
        test_constants_classes.CLASSES,
        test_wrappers_loaders.WRAPPERS,
        test_wrappers_loaders.LOADERS,
    ):
        project.write(files)
    project.write({"pipeline.py": harness.pipeline_py("train"), "stages.py": KITCHEN_SINK})

    first = project.manifests(env={"PYTHONHASHSEED": "1"})
    second = project.manifests(env={"PYTHONHASHSEED": "2"})

    assert first == second
    assert len(first["train"]["entries"]) >= 12
    assert "pkg:pygtrie" in first["train"]["entries"]
    assert first["train"]["warnings"]


def _many_stages(count: int) -> dict[str, str]:
    files = {
        "lib/__init__.py": "",
        "lib/core.py": "def core(x):\n    return x * 2\n",
        "lib/mid.py": "from lib.core import core\n\n\ndef mid(x):\n    return core(x) + 1\n",
        "lib/top.py": "from lib import mid\n\nLIMIT = 3\n\n\ndef top(x):\n"
        + "    return mid.mid(x) + LIMIT\n",
    }
    stages = ["from lib import mid, top\n"]
    for index in range(count):
        helper = "top.top" if index % 2 else "mid.mid"
        stages.append(f"\ndef stage_{index:03d}() -> None:\n    print({helper}({index}))\n")
    files["stages.py"] = "".join(stages)
    files["pipeline.py"] = harness.pipeline_py(*(f"stage_{i:03d}" for i in range(count)))
    return files


@pytest.mark.usefixtures("isolated_imports")
def test_second_fingerprint_of_200_stages_walks_nothing(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(_many_stages(200))
    _settle(project.root)
    stages = _load(project.root).stages
    store = state_store.MemoryStateStore()

    first = ast_fingerprinter.AstFingerprinter(store, project.root)
    before = {name: first.fingerprint(st) for name, st in stages.items()}
    second = ast_fingerprinter.AstFingerprinter(store, project.root)
    after = {name: second.fingerprint(st) for name, st in stages.items()}

    source_files = len(list(project.root.rglob("*.py")))
    assert 0 < first.stats.ast_parses <= source_files
    assert first.stats.walked > 0
    assert second.stats.manifest_hits == 200
    assert second.stats.walked == 0
    assert second.stats.ast_parses == 0
    assert second.stats.cache_misses == 0
    assert after == before
    assert set(after["stage_001"].entries) == {
        "stage:stages.stage_001",
        "func:lib.top.top",
        "const:lib.top.LIMIT",
        "func:lib.mid.mid",
        "func:lib.core.core",
    }


@pytest.mark.usefixtures("isolated_imports")
def test_cached_entries_of_an_edited_file_are_not_reused(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(_many_stages(2))
    _settle(project.root)
    stages = _load(project.root).stages
    store = state_store.MemoryStateStore()
    before = ast_fingerprinter.AstFingerprinter(store, project.root).fingerprint(
        stages["stage_000"]
    )

    project.edit("lib/core.py", "x * 2", "x * 3")
    fresh = ast_fingerprinter.AstFingerprinter(store, project.root)
    after = fresh.fingerprint(stages["stage_000"])

    assert fresh.stats.ast_parses == 1
    reasons = change.code_reasons(before.entries, after)
    assert [r.describe() for r in reasons] == [
        "code changed: func:lib.core.core (stage_000 → mid → core: lib/core.py:1)"
    ]


@pytest.mark.usefixtures("isolated_imports")
def test_one_instance_notices_an_edit_between_calls(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(_many_stages(2))
    stages = _load(project.root).stages
    fingerprinter = ast_fingerprinter.AstFingerprinter(state_store.MemoryStateStore(), project.root)
    before = fingerprinter.fingerprint(stages["stage_000"])

    project.edit("lib/core.py", "return x * 2", "return x * 2 + 10")
    after = fingerprinter.fingerprint(stages["stage_000"])

    assert {r.subject for r in change.code_reasons(before.entries, after)} == {"func:lib.core.core"}


def test_each_source_file_is_parsed_once_per_process(tmp_path: pathlib.Path):
    settled, fresh = tmp_path / "settled.py", tmp_path / "fresh.py"
    settled.write_text("X = 1\n")
    fresh.write_text("Y = 2\n")
    _settle(tmp_path)
    fresh.write_text("Y = 3\n")
    files = sources.ParsedFiles()

    def parse(path: pathlib.Path) -> object:
        stamp = sources.stamp_of(str(path))
        assert stamp is not None
        return files.parse(str(path), stamp)

    assert parse(settled) is parse(settled)
    # Just written: its stamp may not yet tell versions apart, so its tree is not kept.
    assert parse(fresh) is not parse(fresh)


RELOCATABLE = """
import dataclasses
import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


@dataclasses.dataclass(frozen=True)
class Lines(loaders.Loader[list]):
    separator: str = "\\n"

    def load(self, path: pathlib.Path) -> list:
        return path.read_text().split(self.separator)

    def save(self, value: list, path: pathlib.Path) -> None:
        path.write_text(self.separator.join(value))


def train(rows: Annotated[list, outputs.Dep("rows.txt", Lines())]) -> None:
    print(len(rows))


pipeline = Pipeline("fp")
pipeline.register(train)
"""


def test_manifests_do_not_depend_on_where_the_project_lives(tmp_path: pathlib.Path):
    here, there = harness.Project(tmp_path / "here"), harness.Project(tmp_path / "there")
    for project in (here, there):
        project.write({"pipeline.py": RELOCATABLE})

    entries = here.manifests()["train"]["entries"]

    assert set(entries) == {"stage:pipeline.train", "loader:pipeline.Lines"}
    assert there.manifests()["train"]["entries"] == entries


DEPTH_THREE = {
    "lib/__init__.py": "",
    "lib/bottom.py": "def bottom(x):\n    return x - 1\n",
    "lib/middle.py": "from lib.bottom import bottom\n\n\ndef middle(x):\n    return bottom(x)\n"
    + "\n\ndef middle_only(x):\n    return x\n",
    "lib/top.py": "from lib import middle\n\n\ndef top(x):\n    return middle.middle(x)\n",
    "lib/other.py": "def other(x):\n    return x\n",
    "stages.py": """
from lib import middle, other, top


def uses_deep() -> None:
    print(top.top(1))


def also_deep() -> None:
    print(top.top(2))


def uses_middle() -> None:
    print(middle.middle_only(1))


def uses_other() -> None:
    print(other.other(1))
""",
    "pipeline.py": harness.pipeline_py("uses_deep", "also_deep", "uses_middle", "uses_other"),
}


@pytest.mark.usefixtures("isolated_imports")
def test_a_depth_three_edit_rewalks_exactly_the_stages_that_reach_it(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(DEPTH_THREE)
    _settle(project.root)
    stages = _load(project.root).stages
    store = state_store.MemoryStateStore()
    before = {
        n: ast_fingerprinter.AstFingerprinter(store, project.root).fingerprint(st)
        for n, st in stages.items()
    }

    project.edit("lib/bottom.py", "x - 1", "x - 2")
    walked: dict[str, int] = {}
    after: dict[str, object] = {}
    for name, st in stages.items():
        fresh = ast_fingerprinter.AstFingerprinter(store, project.root)
        after[name] = fresh.fingerprint(st)
        walked[name] = fresh.stats.walked

    assert {n for n, count in walked.items() if count} == {"uses_deep", "also_deep"}
    assert after["uses_middle"] == before["uses_middle"]
    assert after["uses_other"] == before["uses_other"]
    deep = after["uses_deep"]
    assert isinstance(deep, manifest.CodeManifest)
    assert {r.subject for r in change.code_reasons(before["uses_deep"].entries, deep)} == {
        "func:lib.bottom.bottom"
    }


def test_cached_manifests_are_byte_identical_in_a_fresh_process(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(DEPTH_THREE)
    harness.settle(project.root)
    state = f"--state={tmp_path / 'state'}"

    project.manifests(state)
    walked, first = project.last_stats, project.last_output
    project.manifests(state)

    assert walked["manifest_hits"] == 0
    assert walked["walked"] > 0
    assert project.last_stats["manifest_hits"] == 4
    assert project.last_stats["walked"] == 0
    assert project.last_output == first
