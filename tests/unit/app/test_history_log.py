import pathlib

import pytest

from pivot.app import history_log
from pivot.domain import history
from tests.unit.app.test_run_service import World


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    (tmp_path / "input.txt").write_text("hi")
    return World(tmp_path)


def test_each_run_is_recorded_once_with_stage_status_reasons_params_and_metrics(
    world: World,
) -> None:
    world.run(world.scaled(1))
    world.run(world.scaled(2), stages=("scale",))
    world.run(world.scaled(2), dry_run=True)

    log = history_log.HistoryLog(world.state)
    first, second = log.recent()
    assert len(log.ids()) == 2
    assert first["pipeline"] == "t"
    assert first["started"] <= first["ended"] <= second["started"]
    assert [(s["name"], s["status"]) for s in first["stages"]] == [
        ("scale", "ran"),
        ("report", "ran"),
    ]
    scale = second["stages"][0]
    assert second["targets"] == ["scale"]
    assert scale["reasons"] == ["param factor changed: 1 → 2"]
    assert scale["params"] == {"factor": 2}
    assert scale["metrics"] == {"score.json": {"factor": 2}}
    assert scale["duration"] > 0
    assert log.get("latest") == second


def test_three_runs_compare_with_their_params_and_metrics(world: World) -> None:
    for factor in (1, 3, 2):
        world.run(world.scaled(factor))

    table = history.compare(history_log.HistoryLog(world.state).recent(), "scale", "factor")

    assert table.params == ("factor",)
    assert [(r.params["factor"], r.metrics["factor"]) for r in table.rows] == [
        (3, 3),
        (2, 2),
        (1, 1),
    ]


def test_recent_returns_the_last_n_oldest_first(world: World) -> None:
    for factor in (1, 2, 3):
        world.run(world.scaled(factor))
    log = history_log.HistoryLog(world.state)

    assert [r["id"] for r in log.recent(2)] == log.ids()[-2:]
    assert log.recent(0) == []


def test_a_run_with_nothing_to_do_is_not_recorded(world: World) -> None:
    world.run(world.scaled(1))
    log = history_log.HistoryLog(world.state)
    before = log.ids()

    world.run(world.scaled(1))

    # the snapshot answers such a run without the state store; the full check agrees with it
    assert log.ids() == before
