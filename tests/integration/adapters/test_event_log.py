import json
import os
import pathlib
import subprocess
import sys

from pivot.adapters.events import event_log
from pivot.domain import events


def test_a_run_writes_one_file_from_start_to_end(tmp_path: pathlib.Path) -> None:
    path = tmp_path / ".pivot" / "events.jsonl"
    path.parent.mkdir()
    path.write_text('{"event": "run_started", "pid": 1}\n')  # the previous run: replaced
    sink = event_log.EventLogSink(path)
    sink.emit(events.RunStarted(2, parallel=False))
    sink.emit(events.StageStarted("a", ()))
    sink.emit(events.StageOutput("a", "printed"))
    running = event_log.read(path)
    sink.emit(events.StageFinished("a", events.StageStatus.RAN, duration=0.5))
    sink.close()

    assert [e["event"] for e in running] == ["run_started", "stage_started"]
    assert running[0]["pid"] == os.getpid()
    done = event_log.read(path)
    assert [e["event"] for e in done] == [
        "run_started",
        "stage_started",
        "stage_finished",
        "run_ended",
    ]
    assert done[2]["status"] == "ran"


def test_reading_skips_a_half_written_line_and_a_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "events.jsonl"
    assert event_log.read(path) == []
    path.write_text(json.dumps({"event": "run_started", "pid": 1}) + '\n{"event": "sta')
    assert event_log.read(path) == [{"event": "run_started", "pid": 1}]


def test_alive_tells_a_finished_process_from_a_running_one() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert event_log.alive(os.getpid())
    assert not event_log.alive(int(done.stdout))


def test_a_new_log_directory_is_kept_out_of_git(tmp_path: pathlib.Path) -> None:
    path = tmp_path / ".pivot" / "logs" / "events.jsonl"
    sink = event_log.EventLogSink(path)
    sink.emit(events.RunStarted(1, parallel=False))
    sink.close()
    assert (path.parent / ".gitignore").read_text() == "*\n"
    assert [e["event"] for e in event_log.read(path)] == ["run_started", "run_ended"]
