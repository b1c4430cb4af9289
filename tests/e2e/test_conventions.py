import json
from typing import Any

import pytest

from tests.e2e.conftest import Project

pytestmark = pytest.mark.e2e


def _json(project: Project, *args: str) -> Any:
    done = project.pivot(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_reporting_commands_print_one_json_document(project: Project) -> None:
    project.write("inputs/a.txt", "aaaa")

    assert _json(project, "init") == {
        "created": False,
        "state_dir": str(project.root / ".pivot"),
    }
    tracked = _json(project, "track", "inputs")
    assert tracked == {
        "tracked": [
            {
                "path": "inputs",
                "action": "tracked",
                "hash": tracked["tracked"][0]["hash"],
                "size": 4,
                "nfiles": 1,
                "pvt": "inputs.pvt",
            }
        ]
    }
    assert project.pivot("run").returncode == 0
    assert _json(project, "commit", "other") == {"stages": [{"name": "other", "committed": False}]}
    (project.root / "inputs/a.txt").unlink()
    checkout = _json(project, "checkout", "inputs")
    assert [r["target"] for r in checkout["restored"]] == ["inputs"]
    assert (project.root / "inputs/a.txt").read_text() == "aaaa"
    verify = _json(project, "cache", "verify")
    assert (verify["ok"], verify["corrupt"]) == (True, [])
    gc = _json(project, "gc", "--dry-run")
    assert (gc["dry_run"], gc["removed"]) == (True, [])


def test_quiet_prints_nothing_on_success(project: Project) -> None:
    project.write("inputs/a.txt", "aaaa")

    done = project.pivot("track", "-q", "inputs")

    assert done.returncode == 0
    assert (done.stdout, done.stderr) == ("", "")
    assert (project.root / "inputs.pvt").is_file()


def test_no_progress_bar_in_a_pipe(project: Project) -> None:
    project.write("inputs/a.txt", "a" * 100_000)

    done = project.pivot("track", "inputs")

    assert done.returncode == 0
    assert done.stderr == ""
    assert "\x1b" not in done.stdout
    assert "tracked: inputs (97.7 KiB, 1 files) → inputs.pvt" in done.stdout


def test_a_closed_pipe_ends_quietly(project: Project) -> None:
    code, err = project.pivot_without_reader("list")

    assert err == ""
    assert code == 141
