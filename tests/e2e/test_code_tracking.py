import pathlib

import pytest

from tests.e2e.conftest import Project

STAGES = """
from typing import Annotated

from pivot import loaders, outputs

import config
from features import *


def _log(name):
    with open("calls.log", "a") as f:
        f.write(name + "\\n")


def star() -> Annotated[str, outputs.Out("star.txt", loaders.Text())]:
    _log("star")
    return lowercase("A")


def guarded() -> Annotated[str, outputs.Out("guarded.txt", loaders.Text())]:
    _log("guarded")
    return str(config.SIZE)


def levelled() -> Annotated[str, outputs.Out("levelled.txt", loaders.Text())]:
    _log("levelled")
    return str(config.LEVEL)
"""

CONFIG = """
USE_BIG = True

if USE_BIG:
    SIZE = 100
else:
    SIZE = 10

LEVEL = 1


def configure():
    global LEVEL
    LEVEL = 3


configure()
"""

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("tracking")
for stage in (stages.star, stages.guarded, stages.levelled):
    pipeline.register(stage)
"""


@pytest.fixture
def tracking(tmp_path: pathlib.Path) -> Project:
    project = Project(tmp_path / "proj")
    project.root.mkdir()
    project.write("stages.py", STAGES)
    project.write("config.py", CONFIG)
    project.write("features/__init__.py", "from .text import *\n")
    project.write("features/text.py", "def lowercase(s):\n    return s.lower()\n")
    project.write("pipeline.py", PIPELINE)
    assert project.pivot("init").returncode == 0
    done = project.pivot("run")
    assert done.returncode == 0, done.stderr
    assert sorted(project.calls()) == ["guarded", "levelled", "star"]
    return project


@pytest.mark.parametrize(
    ("edit", "stage", "key"),
    [
        pytest.param(
            ("features/text.py", "s.lower()", "s.casefold()"),
            "star",
            "func:features.text.lowercase",
            id="star-reexport",
        ),
        pytest.param(
            ("config.py", "USE_BIG = True", "USE_BIG = False"),
            "guarded",
            "const:config.USE_BIG",
            id="if-guard",
        ),
        pytest.param(
            ("config.py", "LEVEL = 3", "LEVEL = 4"),
            "levelled",
            "const:config.LEVEL",
            id="global-set-at-import",
        ),
    ],
)
def test_edit_pivot_used_to_miss_reruns_exactly_its_stage(
    tracking: Project, edit: tuple[str, str, str], stage: str, key: str
) -> None:
    tracking.edit(*edit)

    explain = tracking.pivot("status", "--explain").stdout
    done = tracking.pivot("run")

    assert f"{stage}: stale — code changed: {key}" in explain, explain
    assert done.returncode == 0, done.stderr
    assert tracking.calls() == [stage]


def test_status_explain_warns_where_pivot_cannot_follow(tracking: Project) -> None:
    tracking.write("plugins.py", "import config\n\nconfig.SIZE = 7\n")
    tracking.edit("stages.py", "import config\n", "import config\nimport plugins\n")
    tracking.edit(
        "stages.py",
        "return str(config.LEVEL)",
        'return str(globals()["config"].LEVEL) + getattr(config, "LEV" + "EL")',
    )

    out = tracking.pivot("status", "--explain").stdout

    assert "    ! stages.py:6: module 'plugins' is imported only for its side effects" in out, out
    assert "    ! stages.py:27: globals() lookup; code reached through it is not tracked" in out
    assert "    ! stages.py:27: getattr() with a computed name on 'config'" in out
