import gc
import pathlib
import subprocess
import sys

import pytest

from pivot.cli import main


@pytest.mark.parametrize("enabled", [True, False])
def test_track_push_and_pull_leave_the_garbage_collector_as_they_found_it(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    # Track and transfers pause the cyclic collector; a process embedding the CLI gets it back.
    project = tmp_path / "proj"  # the remote goes beside it: a remote inside is refused
    (project / "data").mkdir(parents=True)
    for i in range(3):
        (project / "data" / f"{i}.txt").write_text(str(i))
    for args in (["init"], ["track", "data"], ["remote", "add", "team", str(tmp_path / "r")]):
        subprocess.run([sys.executable, "-m", "pivot", *args], cwd=project, check=True)
    monkeypatch.chdir(project)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        tracked = main.app.meta(["track", "data"], result_action="return_value")
        after_track = gc.isenabled()
        pushed = main.app.meta(["push"], result_action="return_value")
        after_push = gc.isenabled()
        pulled = main.app.meta(["pull"], result_action="return_value")
        after_pull = gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()

    assert (tracked, pushed, pulled) == (0, 0, 0)
    assert (after_track, after_push, after_pull) == (enabled, enabled, enabled)
    assert sorted(p.name for p in (project / "data").iterdir()) == ["0.txt", "1.txt", "2.txt"]
