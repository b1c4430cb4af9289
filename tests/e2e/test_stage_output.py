import pytest

from tests.e2e.conftest import Project

pytestmark = pytest.mark.e2e

CHATTY = """
import subprocess
import sys
from typing import Annotated

from pivot import loaders, outputs


def left() -> Annotated[str, outputs.Out("left.txt", loaders.Text())]:
    for i in range(3):
        print(f"epoch {i}")
    return "L"


def right() -> Annotated[str, outputs.Out("right.txt", loaders.Text())]:
    print("warming up", file=sys.stderr)
    subprocess.run(["echo", "shell says hi"], check=True)
    return "R"


def last(
    l: Annotated[str, outputs.Dep("left.txt", loaders.Text())],
    r: Annotated[str, outputs.Dep("right.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("last.txt", loaders.Text())]:
    print("x" * 1000)
    return l + r
"""

PIPELINE = """
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("chat")
pipeline.register(stages.left)
pipeline.register(stages.right)
pipeline.register(stages.last)
"""


@pytest.fixture
def chatty(project: Project) -> Project:
    project.write("stages.py", CHATTY)
    project.write("pipeline.py", PIPELINE)
    return project


def test_parallel_stage_output_is_prefixed_and_logged(chatty: Project) -> None:
    done = chatty.pivot("run", "-j", "2")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("left │")] == [
        "left │ epoch 0",
        "left │ epoch 1",
        "left │ epoch 2",
    ]
    assert "right │ warming up" in lines
    assert "right │ shell says hi" in lines
    assert (chatty.root / ".pivot/logs/right.log").read_text() == "warming up\nshell says hi\n"
    assert (chatty.root / ".pivot/logs/.gitignore").read_text() == "*\n"


def test_one_stage_at_a_time_prints_plain_lines(chatty: Project) -> None:
    done = chatty.pivot("run", "-j", "1")

    assert done.returncode == 0, done.stderr
    assert "epoch 0" in done.stdout.splitlines()
    assert "│" not in done.stdout


def test_json_keeps_stage_output_off_stdout(chatty: Project) -> None:
    code, events = chatty.run_json("-j", "2")

    assert code == 0
    assert {e["event"] for e in events} == {"stage_started", "stage_finished", "summary"}
    logs = {e["stage"]: e.get("log") for e in events if e["event"] == "stage_finished"}
    assert logs == {name: f".pivot/logs/{name}.log" for name in ("left", "right", "last")}


def test_a_reader_that_leaves_does_not_stop_the_run(chatty: Project) -> None:
    code, err = chatty.pivot_without_reader("run", "-j", "2")

    assert "Traceback" not in err
    assert code == 0
    assert (chatty.root / "last.txt").read_text() == "LR"


def test_a_loader_failure_is_one_line_naming_stage_argument_file_and_loader(
    project: Project,
) -> None:
    project.write(
        "stages.py",
        """
        from typing import Annotated

        from pivot import loaders, outputs


        def train(
            cfg: Annotated[dict, outputs.Dep("in.json", loaders.JSON())],
        ) -> Annotated[str, outputs.Out("model.txt", loaders.Text())]:
            return str(cfg)
        """,
    )
    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n"
        + "pipeline = Pipeline('p')\npipeline.register(stages.train)\n",
    )
    project.write("in.json", "{bad")

    done = project.pivot("run")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "failed: train (train: cannot load dep 'cfg' from in.json with JSON(): JSONDecodeError: "
        + "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)) "
        + "— log: .pivot/logs/train.log"
    )


def test_quiet_run_prints_nothing_but_failures(chatty: Project) -> None:
    done = chatty.pivot("run", "-q", "-j", "2")

    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert (chatty.root / ".pivot/logs/left.log").read_text() == "epoch 0\nepoch 1\nepoch 2\n"
