import pytest

from tests.e2e.conftest import Project

STAGES = """
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class P(StageParams):
    lr: float = 0.1


def train(
    params: P, data: Annotated[str, outputs.Dep("raw.txt", loaders.Text())]
) -> Annotated[str, outputs.Out("model.txt", loaders.Text())]:
    return data
"""

GOOD_STAGE = "  train:\n    python: stages:train\n"

CASES = {
    "malformed": ("stages:\n  train: [unclosed\n", {}, "pivot.yaml:"),
    "unknown_key": (
        f"stages:\n{GOOD_STAGE}    outz: [x]\n",
        {},
        "pivot.yaml:4",
    ),
    "missing_module": ("stages:\n  train:\n    python: nowhere:train\n", {}, "pivot.yaml:3"),
    "missing_function": ("stages:\n  train:\n    python: stages:nope\n", {}, "pivot.yaml:3"),
    "unresolved_var": (
        f"stages:\n{GOOD_STAGE}    deps: ['${{nothing}}']\n",
        {},
        "nothing",
    ),
    "empty_matrix": (
        f"stages:\n{GOOD_STAGE}    matrix:\n      lr: []\n",
        {},
        "pivot.yaml:5",
    ),
    "wrong_param_type": (
        f"stages:\n{GOOD_STAGE}    params: {{lr: fast}}\n",
        {},
        "lr",
    ),
    "vars_outside": (
        f"vars: [../outside.yaml]\nstages:\n{GOOD_STAGE}",
        {},
        "pivot.yaml:1",
    ),
    "both_files": (f"stages:\n{GOOD_STAGE}", {"pipeline.py": "x = 1\n"}, "pipeline.py"),
    "unknown_override": (
        f"stages:\n{GOOD_STAGE}    deps: {{nosuch: raw.txt}}\n",
        {},
        "nosuch",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_pivot_yaml_is_one_clear_error(project: Project, case: str) -> None:
    text, extra, where = CASES[case]
    (project.root / "pipeline.py").unlink()
    project.write("stages.py", STAGES)
    project.write("pivot.yaml", text)
    for name, content in extra.items():
        project.write(name, content)
    before = sorted(p.name for p in project.root.iterdir())

    done = project.pivot("run")

    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("pivot: error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert where in done.stderr, done.stderr
    assert sorted(p.name for p in project.root.iterdir()) == before
    assert not (project.root / ".pivot/stages").exists()
