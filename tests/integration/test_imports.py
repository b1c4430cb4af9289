import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("networkx", "loky", "lmdb", "ruamel", "dependency_injector", "pydantic", "rich.progress")


def _modules_after(code: str, cwd: pathlib.Path | None = None) -> set[str]:
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=cwd
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules or any(m.startswith(h + ".") for m in modules))


def test_import_pivot_is_light() -> None:
    assert _heavy(_modules_after("import pivot")) == []


def test_authoring_api_without_params_is_light() -> None:
    modules = _modules_after(
        "from pivot import loaders, outputs\nfrom pivot.pipeline import Pipeline"
    )

    assert _heavy(modules) == []


def test_top_level_help_loads_no_cli_framework() -> None:
    code = """
    import sys
    from pivot.cli import entry
    sys.argv = ["pivot", "--help"]
    try:
        entry.main()
    except SystemExit:
        pass
    """
    modules = _modules_after(code)

    assert _heavy(modules) == []
    assert "cyclopts" not in modules
    assert "rich" not in modules


@pytest.mark.parametrize("command", ["run", "ui"])
def test_command_help_imports_no_adapter_or_container(command: str) -> None:
    code = f"""
    from pivot.cli import main
    try:
        main.app.meta(["{command}", "--help"], result_action="return_value")
    except SystemExit:
        pass
    """
    modules = _modules_after(code)
    assert _heavy(modules) == []
    assert "watchfiles" not in modules
    assert "http.server" not in modules


PIPELINE = """
import pathlib
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


def make() -> Annotated[str, outputs.Out("a.txt", loaders.Text())]:
    return "a"


pipeline = Pipeline("light")
pipeline.register(make)
"""


@pytest.mark.parametrize("command", ["run", "status"])
def test_no_op_run_imports_neither_loky_nor_ruamel_nor_checkout(
    tmp_path: pathlib.Path, command: str
) -> None:
    (tmp_path / ".pivot").mkdir()
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    subprocess.run([sys.executable, "-m", "pivot", "run"], cwd=tmp_path, check=True)
    code = f"""
    from pivot.cli import main
    main.app.meta(["{command}"], result_action="return_value")
    """

    modules = _modules_after(code, cwd=tmp_path)

    assert "loky" not in modules
    assert "networkx" not in modules
    assert not any(m.startswith("ruamel") for m in modules)
    assert "pivot.app.checkout" not in modules
    assert "pivot.adapters.discovery.yaml_source" not in modules
    assert "importlib.metadata" not in modules
    # The live loop (run --watch, pivot ui) loads only when asked for.
    assert "watchfiles" not in modules
    assert "pivot.api" not in modules
    assert "pivot.ui.server" not in modules
    # Start-up cost: no config file, no params, no .pivotignore, output to a pipe.
    for unused in ("pydantic", "rich", "pathspec", "multiprocessing", "cloudpickle"):
        assert unused not in modules, unused
    # Optional dependency_injector integrations (installed in the dev environment via moto).
    assert "werkzeug" not in modules
    assert "yaml" not in modules


@pytest.mark.parametrize("command", ["run", "status"])
def test_a_no_op_answered_from_the_snapshot_imports_only_the_state_store(
    tmp_path: pathlib.Path, command: str
) -> None:
    (tmp_path / ".pivot").mkdir()
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    subprocess.run([sys.executable, "-m", "pivot", "run"], cwd=tmp_path, check=True)
    code = f"""
    import sys
    from pivot.cli import entry
    sys.argv = ["pivot", "-v", "{command}"]
    try:
        entry.main()
    except SystemExit:
        pass
    """
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    # Stamps however fresh are trusted, so the second check is answered from the snapshot.
    env = {**os.environ, "PIVOT_FAST_SETTLE_MS": "0"}
    env.pop("PIVOT_FAST", None)  # whatever --fast-path the suite runs with
    done = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env=env,
        )
        for _ in range(2)
    ]
    assert "nothing changed (" in done[1].stderr, done[1].stderr
    modules = set(json.loads(done[1].stdout.splitlines()[-1]))

    assert "pivot.adapters.state.lmdb_state_store" in modules
    for unused in ("pathlib", "hashlib", "dataclasses", "inspect", "cyclopts", "pivot.container"):
        assert unused not in modules, unused
    assert _heavy(modules) == ["lmdb"]


def test_dag_imports_networkx_only_when_drawing(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".pivot").mkdir()
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    code = """
    from pivot.cli import main
    main.app.meta(["dag", "--json"], result_action="return_value")
    """

    assert "networkx" in _modules_after(code, cwd=tmp_path)


def test_a_push_to_a_directory_remote_validates_the_config_once(tmp_path: pathlib.Path) -> None:
    project = tmp_path / "proj"  # the remote goes beside it: a remote inside is refused
    project.mkdir()
    (project / "data.csv").write_text("a,b\n1,2\n")
    for args in (["init"], ["track", "data.csv"], ["remote", "add", "team", str(tmp_path / "r")]):
        subprocess.run([sys.executable, "-m", "pivot", *args], cwd=project, check=True)
    subprocess.run([sys.executable, "-m", "pivot", "push"], cwd=project, check=True)
    code = """
    from pivot.cli import main
    assert main.app.meta(["push"], result_action="return_value") == 0
    """

    modules = _modules_after(code, cwd=project)

    # Settings validated by the first push are read back; a directory needs no object store.
    for unused in ("pydantic", "ruamel", "obstore"):
        assert not any(m == unused or m.startswith(unused + ".") for m in modules), unused
    assert (tmp_path / "r").is_dir()


WORKER_PIPELINE = """
import json
import sys
from typing import Annotated

from pivot import loaders, outputs
from pivot.pipeline import Pipeline


def modules() -> Annotated[str, outputs.Out("modules.json", loaders.Text())]:
    return json.dumps(sorted(sys.modules))


pipeline = Pipeline("worker")
pipeline.register(modules)
"""


def test_a_worker_imports_only_what_running_a_stage_job_needs(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".pivot").mkdir()
    (tmp_path / "pipeline.py").write_text(WORKER_PIPELINE)
    subprocess.run([sys.executable, "-m", "pivot", "run"], cwd=tmp_path, check=True)

    modules = set(json.loads((tmp_path / "modules.json").read_text()))

    assert "pivot.app.stage_job" in modules  # it did run the job in a worker
    assert _heavy(modules) == ["loky"]
    for unused in (
        "cyclopts",
        "rich",
        "pivot.container",
        "pivot.cli.main",
        "pivot.app.run_cache",
        "pivot.domain.change",
        "pivot.domain.manifest",
    ):
        assert unused not in modules, unused
