import pathlib

import pytest

from tests.e2e import live_project

pytestmark = pytest.mark.slow


def _ran(lines: list[str]) -> set[str]:
    found = live_project.events(lines)
    return {e["stage"] for e in found if e["event"] == "stage_finished" and e["status"] == "ran"}


def _next_cycle(watcher: live_project.Background) -> list[str]:
    """Lines of one change → run → watching again."""
    return watcher.until(live_project.is_event("watching"), timeout=90)


def test_watch_reruns_exactly_what_each_edit_affects(tmp_path: pathlib.Path) -> None:
    proj = live_project.make(tmp_path / "proj")
    watcher = live_project.Background(proj, "run", "--watch", "--json", "--debounce", "200")
    try:
        first = _next_cycle(watcher)
        assert _ran(first) == set(live_project.STAGE_NAMES)

        # The run wrote five outputs and lock records: none of that starts another run.
        assert watcher.line(timeout=3) is None

        proj.edit("helpers.py", "# tidy one line", "# tidy a single line")
        comment = _next_cycle(watcher)
        assert live_project.events(comment)[0] == {"event": "changed", "paths": ["helpers.py"]}
        assert _ran(comment) == set()

        proj.edit("helpers.py", "text.strip().lower()", "text.strip().lower() + '!'")
        helper = _next_cycle(watcher)
        assert _ran(helper) == {"clean", "tag", "count", "summary"}
        assert (proj.root / "tags.txt").read_text() == "a b!"

        proj.write("side.txt", "other notes\n")
        dep = _next_cycle(watcher)
        assert live_project.events(dep)[0] == {"event": "changed", "paths": ["side.txt"]}
        assert _ran(dep) == {"side"}

        assert watcher.line(timeout=3) is None
    finally:
        code = watcher.stop()
    assert code == 130
    assert "Traceback" not in watcher.stderr()


def test_watch_keeps_watching_a_pipeline_that_fails_to_load(tmp_path: pathlib.Path) -> None:
    proj = live_project.make(tmp_path / "proj")
    watcher = live_project.Background(proj, "run", "--watch", "--json", "--debounce", "200")
    try:
        _next_cycle(watcher)
        proj.edit("stages.py", "def tag(", "def tag(:")
        broken = _next_cycle(watcher)
        errors = [e for e in live_project.events(broken) if e["event"] == "watch_error"]
        assert len(errors) == 1
        assert errors[0]["message"].startswith("stages.py:")
        assert "SyntaxError" in errors[0]["message"]
        assert _ran(broken) == set()

        proj.edit("stages.py", "def tag(:", "def tag(")
        proj.edit("helpers.py", "lower()", "upper()")
        fixed = _next_cycle(watcher)
        # Same length in upper case: count.txt is unchanged, so summary stays up to date.
        assert _ran(fixed) == {"clean", "tag", "count"}
    finally:
        code = watcher.stop()
    assert code == 130
    err = watcher.stderr()
    assert "stages.py:" in err
    assert "still watching" in err
    assert "Traceback" not in err


def test_ctrl_c_during_a_run_stops_it_and_records_nothing_half_done(
    tmp_path: pathlib.Path,
) -> None:
    proj = live_project.make(tmp_path / "proj")
    watcher = live_project.Background(proj, "run", "--watch", "--json", env={"LIVE_PAUSE": "30"})
    try:
        started = watcher.until(
            lambda line: line.startswith("{") and '"stage": "count"' in line, timeout=90
        )
        assert live_project.events(started)[-1]["event"] == "stage_started"
    finally:
        code = watcher.stop()
    assert code == 130
    err = watcher.stderr()
    assert "interrupted" in err
    assert "Traceback" not in err
    assert not (proj.root / ".pivot" / "stages" / "count.lock").exists()
    assert (proj.root / ".pivot" / "stages" / "clean.lock").exists()


def test_a_save_during_a_run_starts_the_next_run_when_it_ends(tmp_path: pathlib.Path) -> None:
    proj = live_project.make(tmp_path / "proj")
    watcher = live_project.Background(
        proj, "run", "--watch", "--json", "--debounce", "200", env={"LIVE_PAUSE": "3"}
    )
    try:
        first = watcher.until(
            lambda line: line.startswith("{") and '"stage": "count"' in line, timeout=90
        )
        # `clean` finished before `count` started: this save is too late for this run.
        proj.write("raw.txt", "Saved while count runs\n")
        first += _next_cycle(watcher)
        assert _ran(first) == set(live_project.STAGE_NAMES)
        queued = _next_cycle(watcher)
        assert live_project.events(queued)[0] == {"event": "changed", "paths": ["raw.txt"]}
        assert _ran(queued) == {"clean", "count", "summary"}
        assert (proj.root / "clean.txt").read_text() == "saved while count runs"
    finally:
        watcher.stop()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dry-run",), "pivot: error: --watch runs stages; drop --dry-run (or --watch)"),
        (("--debounce", "-5"), "pivot: error: --debounce is milliseconds, at least 0; got -5"),
    ],
)
def test_watch_refuses_options_it_cannot_honour(
    tmp_path: pathlib.Path, args: tuple[str, ...], message: str
) -> None:
    proj = live_project.make(tmp_path / "proj")
    done = proj.pivot("run", "--watch", *args)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [message]
    assert not (proj.root / "clean.txt").exists()
