import pytest

from pivot.domain import errors, history


def _stage(
    name: str, status: str, params: dict[str, object], metrics: dict[str, dict[str, object]]
) -> history.StageRun:
    return history.StageRun(
        name=name,
        status=status,
        duration=0.1,
        reasons=[],
        params=params,
        metrics=metrics,  # pyright: ignore[reportArgumentType]
    )


def _run(run_id: str, *stages: history.StageRun) -> history.RunRecord:
    return history.RunRecord(
        schema_version=history.SCHEMA_VERSION,
        id=run_id,
        pipeline="p",
        targets=[],
        started=float(run_id[-1]),
        ended=float(run_id[-1]) + 1,
        stages=list(stages),
    )


RUNS = [
    _run(
        "r1",
        _stage("prep", "ran", {"rows": 10}, {}),
        _stage("train", "ran", {"lr": 0.1, "opt": {"m": 0.9}}, {"m.json": {"eval.f1": 0.5}}),
    ),
    _run("r2", _stage("prep", "skipped", {"rows": 10}, {})),
    _run(
        "r3",
        _stage("prep", "skipped", {"rows": 10}, {}),
        _stage("train", "ran", {"lr": 0.2, "opt": {"m": 0.9}}, {"m.json": {"eval.f1": 0.7}}),
    ),
    _run(
        "r4",
        _stage("prep", "ran", {"rows": 20}, {}),
        _stage("train", "restored", {"lr": 0.1, "opt": {"m": 0.9}}, {}),
    ),
]


def test_compare_one_stage_lists_runs_that_ran_it_with_differing_params_and_metrics() -> None:
    table = history.compare(RUNS, "train")

    assert table.params == ("lr",)
    assert table.metrics == ("eval.f1",)
    assert [(r.run, r.params["lr"], r.metrics["eval.f1"]) for r in table.rows] == [
        ("r1", 0.1, 0.5),
        ("r3", 0.2, 0.7),
        ("r4", 0.1, 0.5),  # restored from the run cache: the metrics of the run with these params
    ]


def test_compare_whole_pipeline_carries_metrics_of_skipped_stages_and_sorts() -> None:
    table = history.compare(RUNS, sort_by="eval.f1")

    assert table.params == ("prep.rows", "train.lr")
    assert [(r.run, r.metrics["eval.f1"]) for r in table.rows] == [
        ("r3", 0.7),
        ("r1", 0.5),
        ("r4", 0.5),
    ]
    ascending = history.compare(RUNS, sort_by="eval.f1", ascending=True)
    assert [r.run for r in ascending.rows] == ["r1", "r4", "r3"]


def test_compare_rejects_unknown_sort_column_and_stage() -> None:
    with pytest.raises(errors.PivotError, match="cannot sort by 'eval.f2'.*eval.f1"):
        history.compare(RUNS, sort_by="eval.f2")
    with pytest.raises(errors.StageNotFoundError, match="no recorded run includes stage 'tran'"):
        history.compare(RUNS, "tran")


def test_same_metric_key_in_two_files_is_prefixed_by_path() -> None:
    run = _run(
        "r1",
        _stage("a", "ran", {}, {"a.json": {"acc": 1}}),
        _stage("b", "ran", {}, {"b.json": {"acc": 2, "loss": 3}}),
    )

    assert history.compare([run]).metrics == ("a.json:acc", "b.json:acc", "loss")


def test_find_by_prefix_or_latest() -> None:
    ids = ["20261202-1400-aa", "20261202-1500-bb"]

    assert history.find(ids, "latest") == "20261202-1500-bb"
    assert history.find(ids, "20261202-14") == "20261202-1400-aa"
    with pytest.raises(errors.PivotError, match="ambiguous"):
        history.find(ids, "2026")
    with pytest.raises(errors.PivotError, match="no run 'x'"):
        history.find(ids, "x")
