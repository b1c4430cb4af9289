import pathlib
import signal
import subprocess
import sys
import time

from tests.e2e.conftest import Project, statuses

PARALLEL_STAGES = """
import pathlib
import time
from typing import Annotated

from pivot import loaders, outputs


def _span(name):
    start = time.time()
    time.sleep(1.0)
    return f"{start} {time.time()}"


def left() -> Annotated[str, outputs.Out("left.txt", loaders.Text())]:
    return _span("left")


def right() -> Annotated[str, outputs.Out("right.txt", loaders.Text())]:
    return _span("right")
"""

PARALLEL_PIPELINE = """
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("par")
pipeline.register(stages.left)
pipeline.register(stages.right)
"""


def _spans(project: Project) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    for name in ("left.txt", "right.txt"):
        start, end = (float(x) for x in (project.root / name).read_text().split())
        spans.append((start, end))
    return spans


def _overlap(spans: list[tuple[float, float]]) -> bool:
    (a0, a1), (b0, b1) = spans
    return a0 < b1 and b0 < a1


def test_independent_stages_run_in_parallel_with_jobs_2(project: Project) -> None:
    project.write("stages.py", PARALLEL_STAGES)
    project.write("pipeline.py", PARALLEL_PIPELINE)

    assert project.pivot("run", "-j", "2").returncode == 0
    assert _overlap(_spans(project))

    assert project.pivot("run", "-j", "1", "--force").returncode == 0
    assert not _overlap(_spans(project))


FAILING = """
import sys
from typing import Annotated

from pivot import loaders, outputs


def boom() -> Annotated[str, outputs.Out("boom.txt", loaders.Text())]:
    raise ValueError("bad input row 7")


def after(x: Annotated[str, outputs.Dep("boom.txt", loaders.Text())]) -> Annotated[
    str, outputs.Out("after.txt", loaders.Text())
]:
    return x


def exits() -> Annotated[str, outputs.Out("exits.txt", loaders.Text())]:
    sys.exit(3)


def independent() -> Annotated[str, outputs.Out("independent.txt", loaders.Text())]:
    return "fine"
"""

FAILING_PIPELINE = """
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("fail")
pipeline.register(stages.boom)
pipeline.register(stages.after)
pipeline.register(stages.independent)
"""


def test_failing_stage_shows_traceback_and_blocks_dependents(project: Project) -> None:
    project.write("stages.py", FAILING)
    project.write("pipeline.py", FAILING_PIPELINE)

    done = project.pivot("run", "-j", "1", "boom", "after")

    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "ValueError: bad input row 7" in done.stderr
    assert "Traceback" not in done.stdout
    assert "after: blocked" in done.stdout
    assert done.stderr.splitlines()[-1] == (
        "failed: boom (ValueError: bad input row 7) — log: .pivot/logs/boom.log"
    )
    assert not (project.root / ".pivot/stages/boom.lock").exists()


def test_keep_going_runs_independent_branch(project: Project) -> None:
    project.write("stages.py", FAILING)
    project.write("pipeline.py", FAILING_PIPELINE)

    code, events = project.run_json("--keep-going", "-j", "1")

    assert code == 1
    assert statuses(events) == {"boom": "failed", "after": "blocked", "independent": "ran"}
    assert (project.root / "independent.txt").read_text() == "fine"


def test_stage_calling_sys_exit_is_a_stage_failure(project: Project) -> None:
    project.write("stages.py", FAILING)
    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n"
        "pipeline = Pipeline('x')\npipeline.register(stages.exits)\n"
        "pipeline.register(stages.independent)\n",
    )

    code, events = project.run_json("--keep-going")

    assert code == 1
    assert statuses(events) == {"exits": "failed", "independent": "ran"}
    failed = next(e for e in events if e.get("status") == "failed")
    assert "sys.exit(3)" in failed["message"]


def test_outside_any_project_suggests_init(tmp_path: pathlib.Path) -> None:
    done = Project(tmp_path).pivot("status")

    assert done.returncode == 1
    assert "pivot init" in done.stderr
    assert "Traceback" not in done.stderr


SLOW = """
import pathlib
import time
from typing import Annotated

from pivot import loaders, outputs


def slow() -> Annotated[str, outputs.Out("slow.txt", loaders.Text())]:
    pathlib.Path("started").write_text("yes")
    time.sleep(30)
    return "never"
"""


def test_ctrl_c_stops_the_run_with_one_message_and_records_nothing(project: Project) -> None:
    project.write("stages.py", SLOW)
    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n"
        "pipeline = Pipeline('s')\npipeline.register(stages.slow)\n",
    )
    running = subprocess.Popen(
        [sys.executable, "-m", "pivot", "run"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (project.root / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=60)

    assert running.returncode == 130
    assert stderr.strip() == "pivot: interrupted; stages that had not finished were not recorded"
    assert not (project.root / ".pivot/stages/slow.lock").exists()


COUNTING_STAGES = """
import os
import pathlib
from typing import Annotated

from pivot import loaders, outputs


def _workers() -> str:
    # The pool's worker processes: children of the `pivot` process that runs this one.
    found = 0
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        found += ppid == os.getppid() and b"popen_loky_posix" in command
    return str(found)


def left() -> Annotated[str, outputs.Out("left.txt", loaders.Text())]:
    return _workers()


def right() -> Annotated[str, outputs.Out("right.txt", loaders.Text())]:
    return _workers()
"""


def test_a_run_starts_no_more_workers_than_it_has_stages(project: Project) -> None:
    project.write("stages.py", COUNTING_STAGES)
    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n\n"
        + "pipeline = Pipeline('count')\npipeline.register(stages.left)\n",
    )

    assert project.pivot("run", "-j", "4").returncode == 0
    assert (project.root / "left.txt").read_text() == "1"

    project.write(
        "pipeline.py",
        "import stages\nfrom pivot.pipeline import Pipeline\n\n"
        + "pipeline = Pipeline('count')\npipeline.register(stages.left)\n"
        + "pipeline.register(stages.right)\n",
    )
    assert project.pivot("run", "-j", "4", "--force").returncode == 0
    assert (project.root / "left.txt").read_text() == "2"
    assert (project.root / "right.txt").read_text() == "2"
