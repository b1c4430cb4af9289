import pathlib

from pivot.adapters.logs import file_stage_log


def _job_writes(path: pathlib.Path | None, text: str) -> None:
    """What a job's output capture does: append, creating the file."""
    assert path is not None
    with path.open("a") as f:
        f.write(text)


def test_a_log_holds_this_runs_output_not_a_killed_runs_leftover(tmp_path: pathlib.Path) -> None:
    killed = file_stage_log.FileStageLog(tmp_path)
    _job_writes(killed.start("train"), "old line\n")  # the run was killed: never published

    logs = file_stage_log.FileStageLog(tmp_path)
    running = logs.start("train")
    assert running is not None
    _job_writes(running, "epoch 1\npartial")

    assert logs.read_new("train") == ["epoch 1"]
    assert logs.read_new("train", final=True) == ["partial"]
    assert logs.publish("train", "KeyError: 'b'") == ".pivot/logs/train.log"
    log = (tmp_path / ".pivot/logs/train.log").read_text()
    assert log == "epoch 1\npartial\nKeyError: 'b'\n"  # the trailer on a line of its own
    assert "old line" not in log
    assert not running.exists()
    assert (tmp_path / ".pivot/logs/.gitignore").read_text() == "*\n"


def test_a_stage_that_printed_nothing_has_an_empty_log(tmp_path: pathlib.Path) -> None:
    logs = file_stage_log.FileStageLog(tmp_path)
    logs.start("quiet")

    assert logs.read_new("quiet", final=True) == []
    assert logs.publish("quiet") == ".pivot/logs/quiet.log"
    assert (tmp_path / ".pivot/logs/quiet.log").read_text() == ""


def test_a_trailer_after_a_whole_last_line_adds_no_blank_line(tmp_path: pathlib.Path) -> None:
    logs = file_stage_log.FileStageLog(tmp_path)
    _job_writes(logs.start("train"), "epoch 1\n")

    logs.publish("train", "failed\n")

    assert (tmp_path / ".pivot/logs/train.log").read_text() == "epoch 1\nfailed\n"
