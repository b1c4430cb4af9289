import json
import pathlib
import socket

import pytest

from tests.e2e.conftest import Project, statuses

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAN_STAGES = """
import os
from typing import Annotated

from pivot import loaders, outputs
from pivot.stage_def import StageParams


class FanParams(StageParams):
    i: int = 0


def base() -> Annotated[str, outputs.Out("base.txt", loaders.Text())]:
    return "base\\n"


def fan(
    params: FanParams,
    base: Annotated[str, outputs.Dep("base.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("out/x.txt", loaders.Text())]:
    return f"{base.strip()} {params.i} {params.i ** 2}\\n"


def where(
    base: Annotated[str, outputs.Dep("base.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("where.txt", loaders.Text())]:
    return f"{os.getpid()}\\n"
"""

FAN_YAML = """
stages:
  base:
    python: stages.base
  fan:
    python: stages.fan
    matrix:
      i: [{values}]
    params: {{i: "${{i}}"}}
    outs: ["out/${{i}}.txt"]
"""


def _fan_project(root: pathlib.Path) -> Project:
    proj = Project(root)
    root.mkdir()
    proj.write("stages.py", FAN_STAGES)
    proj.write("pivot.yaml", FAN_YAML.format(values=", ".join(str(i) for i in range(20))))
    assert proj.pivot("init").returncode == 0
    return proj


def _outputs(proj: Project) -> dict[str, bytes]:
    skip = {".pivot"}
    return {
        str(p.relative_to(proj.root)): p.read_bytes()
        for p in sorted(proj.root.rglob("*"))
        if p.is_file() and not skip & set(p.relative_to(proj.root).parts)
    }


def _locks(proj: Project) -> dict[str, dict[str, object]]:
    return {
        p.name: json.loads(p.read_text())
        for p in sorted((proj.root / ".pivot" / "stages").glob("*.lock"))
    }


def test_fan_out_under_dask_matches_the_default_executor(tmp_path: pathlib.Path) -> None:
    on_dask = _fan_project(tmp_path / "dask")
    local = _fan_project(tmp_path / "loky")

    code, events = on_dask.run_json("--executor", "dask", "-j", "2")
    assert code == 0, events
    assert set(statuses(events).values()) == {"ran"}
    assert len(statuses(events)) == 21
    assert local.pivot("run").returncode == 0

    assert _outputs(on_dask) == _outputs(local)
    assert _locks(on_dask) == _locks(local)
    code, events = on_dask.run_json("--executor", "dask")
    assert code == 0
    assert set(statuses(events).values()) == {"skipped"}


def test_the_e2e_pipeline_under_dask_matches_and_then_skips(project: Project) -> None:
    code, events = project.run_json("--executor", "dask", "-j", "2")
    assert code == 0, events
    assert statuses(events) == {
        "prepare": "ran",
        "train": "ran",
        "evaluate": "ran",
        "other": "ran",
    }
    assert (project.root / "eval.txt").read_text() == "evaluated model(HELLO, lr=0.1)"
    code, events = project.run_json("--executor", "dask")
    assert set(statuses(events).values()) == {"skipped"}


def test_an_unreachable_scheduler_is_one_line_naming_it(project: Project) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"

    done = project.pivot("run", "--executor", "dask", "--scheduler", address)

    assert done.returncode == 1
    assert address in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project.root / "data" / "clean.txt").exists()


def test_a_resource_no_worker_offers_fails_the_stage_naming_it(tmp_path: pathlib.Path) -> None:
    proj = Project(tmp_path / "gpu")
    proj.root.mkdir()
    proj.write("stages.py", FAN_STAGES)
    proj.write(
        "pivot.yaml",
        """
        stages:
          base:
            python: stages.base
            resources: {GPU: 1}
        """,
    )
    assert proj.pivot("init").returncode == 0

    code, events = proj.run_json("--executor", "dask", "-j", "1")

    assert code == 1
    finished = [e for e in events if e["event"] == "stage_finished"]
    assert finished[0]["status"] == "failed"
    assert "GPU=1" in finished[0]["message"]


def test_scheduler_without_the_dask_executor_is_refused(project: Project) -> None:
    done = project.pivot("run", "--scheduler", "tcp://127.0.0.1:8786")

    assert done.returncode == 1
    assert "--executor dask" in done.stderr
    assert "Traceback" not in done.stderr


DETACHED_STAGES = """
import os
import signal
from typing import Annotated

from pivot import loaders, outputs


def shout(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("loud.txt", loaders.Text())]:
    print("shouting on the worker")
    return raw.upper()


def where(
    loud: Annotated[str, outputs.Dep("loud.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("where.txt", loaders.Text())]:
    return os.getcwd() + "\\n" + loud


def crash(
    raw: Annotated[str, outputs.Dep("raw.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("never.txt", loaders.Text())]:
    if os.environ.get("PIVOT_TEST_CRASH") == "1":
        os.kill(os.getpid(), signal.SIGKILL)
    return raw
"""

DETACHED_PIPELINE = """
import stages
from pivot.pipeline import Pipeline

pipeline = Pipeline("detached")
pipeline.register(stages.shout)
pipeline.register(stages.where)
"""


def _detached_project(root: pathlib.Path, remote: pathlib.Path) -> Project:
    proj = Project(root)
    root.mkdir()
    proj.write("stages.py", DETACHED_STAGES)
    proj.write("pipeline.py", DETACHED_PIPELINE)
    proj.write("raw.txt", "hello\n")
    assert proj.pivot("init").returncode == 0
    added = proj.pivot("remote", "add", "origin", str(remote), "--default")
    assert added.returncode == 0, added.stderr
    return proj


def test_without_a_shared_filesystem_stages_run_in_scratch_and_outputs_come_back(
    tmp_path: pathlib.Path,
) -> None:
    proj = _detached_project(tmp_path / "proj", tmp_path / "remote")

    code, events = proj.run_json("--executor", "dask", "--no-shared-fs", "-j", "2")

    assert code == 0, events
    assert statuses(events) == {"shout": "ran", "where": "ran"}
    ran_in, loud = (proj.root / "where.txt").read_text().split("\n", 1)
    assert loud == "HELLO\n"
    assert str(proj.root) not in ran_in  # the stage ran outside the project directory
    assert (proj.root / "loud.txt").read_text() == "HELLO\n"
    # The outputs crossed through the remote.
    assert any((tmp_path / "remote").rglob("*"))
    # What the stage printed on the worker comes back to the project's stage log.
    assert "shouting on the worker" in (proj.root / ".pivot/logs/shout.log").read_text()
    code, events = proj.run_json("--executor", "dask", "--no-shared-fs")
    assert set(statuses(events).values()) == {"skipped"}


def test_a_worker_killed_without_a_shared_filesystem_fails_only_its_stage(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = _detached_project(tmp_path / "proj", tmp_path / "remote")
    proj.write(
        "pipeline.py",
        DETACHED_PIPELINE + "pipeline.register(stages.crash)\n",
    )
    monkeypatch.setenv("PIVOT_TEST_CRASH", "1")

    code, events = proj.run_json("--executor", "dask", "--no-shared-fs", "-j", "2", "--keep-going")

    assert code == 1
    done = statuses(events)
    assert done["crash"] == "failed"
    assert done["shout"] == "ran"
    assert done["where"] == "ran"
    crash = next(e for e in events if e.get("stage") == "crash" and "message" in e)
    assert "died" in crash["message"]


def test_no_shared_filesystem_without_a_remote_is_one_clear_line(project: Project) -> None:
    done = project.pivot("run", "--executor", "dask", "--no-shared-fs")

    assert done.returncode == 1
    assert "remote" in done.stderr
    assert "pivot remote add" in done.stderr
    assert "Traceback" not in done.stderr
