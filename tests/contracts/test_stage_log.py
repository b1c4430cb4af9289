import pathlib
from collections.abc import Callable

import pytest

from pivot.adapters.logs import file_stage_log
from pivot.ports import stage_log

Make = Callable[[pathlib.Path], stage_log.StageLog]
ADAPTERS: dict[str, Make] = {
    "file": file_stage_log.FileStageLog,
    "none": lambda _root: stage_log.NONE,
}


@pytest.fixture(params=sorted(ADAPTERS))
def logs(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> stage_log.StageLog:
    return ADAPTERS[request.param](tmp_path)


def _job_writes(path: pathlib.Path | None, text: str) -> None:
    """A job's output capture appends to the file `start` named (nothing when it named none)."""
    if path is not None:
        with path.open("a") as f:
            f.write(text)


def test_lines_arrive_once_and_a_partial_line_only_at_the_end(logs: stage_log.StageLog) -> None:
    running = logs.start("train")
    _job_writes(running, "epoch 1\nepoch 2\npart")

    first = logs.read_new("train")
    again = logs.read_new("train")
    _job_writes(running, "ial\n")
    rest = logs.read_new("train", final=True)

    captured = running is not None
    assert first == (["epoch 1", "epoch 2"] if captured else [])
    assert again == []
    assert rest == (["partial"] if captured else [])


def test_publish_keeps_the_output_and_the_trailer_as_the_last_run_log(
    logs: stage_log.StageLog, tmp_path: pathlib.Path
) -> None:
    running = logs.start("train")
    _job_writes(running, "epoch 1\n")
    logs.read_new("train", final=True)

    shown = logs.publish("train", "KeyError: 'b'")

    if running is None:
        assert shown is None
        return
    assert shown is not None
    assert (tmp_path / shown).read_text() == "epoch 1\nKeyError: 'b'\n"
    assert not running.exists()


def test_each_run_starts_empty(logs: stage_log.StageLog, tmp_path: pathlib.Path) -> None:
    _job_writes(logs.start("train"), "first run\n")
    logs.publish("train")

    running = logs.start("train")
    _job_writes(running, "second run\n")

    assert logs.read_new("train", final=True) == (["second run"] if running else [])
    shown = logs.publish("train")
    if shown is not None:
        assert (tmp_path / shown).read_text() == "second run\n"


def test_stages_do_not_mix(logs: stage_log.StageLog) -> None:
    a, b = logs.start("a"), logs.start("b")
    _job_writes(a, "from a\n")
    _job_writes(b, "from b\n")

    assert logs.read_new("a") == (["from a"] if a else [])
    assert logs.read_new("b") == (["from b"] if b else [])
