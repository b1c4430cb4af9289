import json
import pathlib

import pytest

from tests.e2e.conftest import Project

PIVOT_YAML = """
stages:
  featurize:
    cmd: python src/featurize.py data.txt features.txt
    deps: [src/featurize.py, data.txt]
    outs: [features.txt]
"""

SCRIPT = '''
"""Turn data into features."""
import sys

import helpers


def main(source, target):
    # one feature per line
    with open(source) as f, open(target, "w") as out:
        out.write(helpers.feature(f.read()))
    with open("calls.log", "a") as log:
        log.write("featurize\\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
'''

HELPERS = """
def feature(text):
    return text.upper()
"""


@pytest.fixture
def scripted(tmp_path: pathlib.Path) -> Project:
    project = Project(tmp_path / "proj")
    project.root.mkdir()
    project.write("pivot.yaml", PIVOT_YAML)
    project.write("src/featurize.py", SCRIPT)
    project.write("src/helpers.py", HELPERS)
    project.write("data.txt", "abc\n")
    assert project.pivot("init").returncode == 0
    done = project.pivot("run")
    assert done.returncode == 0, done.stderr
    assert project.calls() == ["featurize"]
    return project


def test_comment_edit_in_a_cmd_script_does_not_rerun_it(scripted: Project) -> None:
    scripted.edit("src/featurize.py", "# one feature per line", "# one feature per line, upper")
    scripted.edit("src/featurize.py", "Turn data into features.", "Features from data.")

    status = json.loads(scripted.pivot("status", "--json").stdout)
    done = scripted.pivot("run")

    assert [s["state"] for s in status["stages"]] == ["up_to_date"], status
    assert done.returncode == 0, done.stderr
    assert scripted.calls() == []


def test_helper_imported_by_a_cmd_script_reruns_it_and_is_explained(scripted: Project) -> None:
    scripted.edit("src/helpers.py", "text.upper()", "text.upper() * 2")

    explain = scripted.pivot("status", "--explain").stdout
    done = scripted.pivot("run")

    assert (
        "featurize: stale — code changed: func:helpers.feature "
        + "(featurize → src/featurize.py → feature: src/helpers.py:1)"
    ) in explain, explain
    assert done.returncode == 0, done.stderr
    assert scripted.calls() == ["featurize"]
    assert (scripted.root / "features.txt").read_text() == "ABC\nABC\n"


def test_real_edit_in_a_cmd_script_is_reported_once_as_code(scripted: Project) -> None:
    scripted.edit("src/featurize.py", 'open(target, "w")', 'open(target, "w", newline="")')

    status = json.loads(scripted.pivot("status", "--json").stdout)

    reasons = status["stages"][0]["reasons"]
    assert len(reasons) == 1, reasons
    assert "script:src/featurize.py" in json.dumps(reasons[0]), reasons
