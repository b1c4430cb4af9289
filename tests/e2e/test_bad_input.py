import pytest

from tests.e2e.conftest import Project

BAD_STAGES = """
from typing import Annotated

from pivot import loaders, outputs


def a(x: Annotated[str, outputs.Dep("b.txt", loaders.Text())]) -> Annotated[
    str, outputs.Out("a.txt", loaders.Text())
]:
    return x


def b(x: Annotated[str, outputs.Dep("a.txt", loaders.Text())]) -> Annotated[
    str, outputs.Out("b.txt", loaders.Text())
]:
    return x


def same() -> Annotated[str, outputs.Out("a.txt", loaders.Text())]:
    return ""


def folder() -> Annotated[str, outputs.Out("data", loaders.Text())]:
    return ""


def inside() -> Annotated[str, outputs.Out("data/x.txt", loaders.Text())]:
    return ""


def escape() -> Annotated[str, outputs.Out("../x", loaders.Text())]:
    return ""


def make():
    def closure() -> None:
        pass

    return closure
"""


def _pipeline(*lines: str) -> str:
    body = "\n".join(lines)
    return (
        f"import stages\nfrom pivot.pipeline import Pipeline\npipeline = Pipeline('bad')\n{body}\n"
    )


CASES = {
    "cycle": (
        _pipeline("pipeline.register(stages.a)", "pipeline.register(stages.b)"),
        "dependency cycle between stages: ",
    ),
    "same_path": (
        _pipeline("pipeline.register(stages.a)", "pipeline.register(stages.same)"),
        "both write 'a.txt'",
    ),
    "overlap": (
        _pipeline("pipeline.register(stages.folder)", "pipeline.register(stages.inside)"),
        "overlaps 'data'",
    ),
    "outside": (_pipeline("pipeline.register(stages.escape)"), "outside the project"),
    "lambda": (
        _pipeline("pipeline.register(lambda: None, name='l')"),
        "a lambda cannot be a stage",
    ),
    "closure": (_pipeline("pipeline.register(stages.make())"), "inside another function"),
    "raises": (
        "import stages\nraise RuntimeError('broken config')\n",
        "RuntimeError: broken config",
    ),
    "no_pipeline": ("import stages\nx = 1\n", "must define `pipeline = Pipeline(...)`"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_pipeline_gets_one_clear_message_and_writes_nothing(
    project: Project, case: str
) -> None:
    text, message = CASES[case]
    project.write("stages.py", BAD_STAGES)
    project.write("pipeline.py", text)

    done = project.pivot("run")

    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert not (project.root / ".pivot/stages").exists()
    assert sorted(p.name for p in project.root.iterdir()) == [
        ".pivot",
        "pipeline.py",
        "raw.txt",
        "stages.py",
    ]


def test_unknown_stage_suggests_a_name(project: Project) -> None:
    done = project.pivot("run", "trian")

    assert done.returncode == 1
    assert "unknown stage 'trian'; did you mean 'train'?" in done.stderr


def test_usage_error_exits_2(project: Project) -> None:
    assert project.pivot("run", "--jobs", "many").returncode == 2
