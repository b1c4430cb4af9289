import io
import pathlib
import sys
from collections.abc import Callable

import pytest
from tests.fakes import event_sink as fake_event_sink

from pivot.adapters.events import console_sink, event_log, jsonl_sink, tee_sink
from pivot.domain import events
from pivot.ports import event_sink

Status = events.StageStatus
Made = tuple[event_sink.EventSink, Callable[[], str]]
"""A sink, and everything it has reported so far (wherever it reports)."""


def _console(_tmp: pathlib.Path, std: tuple[io.StringIO, io.StringIO]) -> Made:
    return console_sink.ConsoleSink(), lambda: std[0].getvalue() + std[1].getvalue()


def _jsonl(_tmp: pathlib.Path, std: tuple[io.StringIO, io.StringIO]) -> Made:
    stream = io.StringIO()
    return jsonl_sink.JsonlSink(stream), lambda: stream.getvalue() + std[1].getvalue()


def _event_log(tmp: pathlib.Path, _std: tuple[io.StringIO, io.StringIO]) -> Made:
    path = tmp / ".pivot" / "logs" / "events.jsonl"
    return event_log.EventLogSink(path), lambda: path.read_text() if path.exists() else ""


def _tee(tmp: pathlib.Path, std: tuple[io.StringIO, io.StringIO]) -> Made:
    logged, read_log = _event_log(tmp, std)
    stream = io.StringIO()
    return tee_sink.TeeSink(
        [jsonl_sink.JsonlSink(stream), logged]
    ), lambda: stream.getvalue() + read_log()


def _recording(_tmp: pathlib.Path, _std: tuple[io.StringIO, io.StringIO]) -> Made:
    sink = fake_event_sink.RecordingSink()
    return sink, lambda: "\n".join(map(repr, sink.events))


ADAPTERS = {
    "console": _console,
    "jsonl": _jsonl,
    "event-log": _event_log,
    "tee": _tee,
    "recording": _recording,
}


@pytest.fixture(params=sorted(ADAPTERS))
def made(
    request: pytest.FixtureRequest, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Made:
    std = (io.StringIO(), io.StringIO())
    monkeypatch.setattr(sys, "stdout", std[0])
    monkeypatch.setattr(sys, "stderr", std[1])
    return ADAPTERS[request.param](tmp_path, std)


def _run(sink: event_sink.EventSink) -> None:
    sink.emit(events.RunStarted(stages=3, parallel=True))
    sink.emit(events.StageStarted("prepare", ()))
    sink.emit(events.StageOutput("prepare", "epoch 1"))
    sink.emit(events.StageFinished("prepare", Status.RAN, duration=0.1))
    sink.emit(events.StageStarted("train", ()))
    sink.emit(events.StageFinished("train", Status.FAILED, message="KeyError: 'b'"))
    sink.emit(events.StageFinished("report", Status.BLOCKED, message="train failed"))
    sink.emit(events.RunSummary({Status.RAN: 1, Status.FAILED: 1, Status.BLOCKED: 1}, 0.2))


def test_a_run_is_reported_stage_by_stage_with_its_failure(made: Made) -> None:
    sink, shown = made
    _run(sink)
    sink.close()

    text = shown()
    for name in ("prepare", "train", "report"):
        assert name in text
    assert "KeyError" in text


def test_a_run_of_skipped_stages_reports_no_failure(made: Made) -> None:
    sink, shown = made
    sink.emit(events.RunStarted(stages=1, parallel=False))
    sink.emit(events.StageFinished("again", Status.SKIPPED))
    sink.emit(events.RunSummary({Status.SKIPPED: 1}, 0.0))
    sink.close()

    text = shown()
    assert "again" in text
    assert "failed" not in text.replace('"failed": 0', "")
