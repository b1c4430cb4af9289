import pathlib

import pytest

from pivot.domain import dag, errors, graph_view
from pivot.pipeline import Pipeline
from tests.unit.domain import stage_funcs


def _dag(tmp_path: pathlib.Path) -> dag.Dag:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.prepare)
    pipe.register(stage_funcs.train)
    return dag.build(pipe.stages, tmp_path)


def test_stage_graph_has_one_node_per_stage_and_marks_stale(tmp_path: pathlib.Path) -> None:
    view = graph_view.stages(_dag(tmp_path), stale={"train"})

    assert [n.id for n in view.nodes] == ["prepare", "train"]
    assert [(n.id, n.stale) for n in view.nodes] == [("prepare", False), ("train", True)]
    assert view.edges == (graph_view.Edge("prepare", "train"),)
    assert view.layers == (("prepare",), ("train",))


def test_artifact_graph_links_files_through_the_stage_that_reads_and_writes(
    tmp_path: pathlib.Path,
) -> None:
    view = graph_view.artifacts(_dag(tmp_path), tmp_path, stale={"train"})

    by_id = {n.id: n for n in view.nodes}
    assert set(by_id) == {"raw.txt", "data/train.csv", "models/model.pkl", "metrics.json"}
    assert by_id["raw.txt"].kind == "input"
    assert by_id["models/model.pkl"].label == "train:model → models/model.pkl"
    assert by_id["models/model.pkl"].stale
    assert not by_id["data/train.csv"].stale
    assert set(view.edges) == {
        graph_view.Edge("raw.txt", "data/train.csv", "prepare"),
        graph_view.Edge("data/train.csv", "models/model.pkl", "train"),
        graph_view.Edge("data/train.csv", "metrics.json", "train"),
    }
    assert view.layers == (
        ("raw.txt",),
        ("data/train.csv",),
        ("metrics.json", "models/model.pkl"),
    )


def test_focus_keeps_what_a_target_needs_or_what_depends_on_it(tmp_path: pathlib.Path) -> None:
    graph = _dag(tmp_path)
    view = graph_view.artifacts(graph, tmp_path)

    upstream = graph_view.focus(view, ["data/train.csv"])
    downstream = graph_view.focus(view, ["data/train.csv"], downstream=True)

    assert {n.id for n in upstream.nodes} == {"raw.txt", "data/train.csv"}
    assert {n.id for n in downstream.nodes} == {
        "data/train.csv",
        "models/model.pkl",
        "metrics.json",
    }
    assert downstream.layers == (("data/train.csv",), ("metrics.json", "models/model.pkl"))


def test_targets_resolve_by_stage_identity_or_path(tmp_path: pathlib.Path) -> None:
    graph = _dag(tmp_path)
    view = graph_view.artifacts(graph, tmp_path)

    assert graph_view.resolve(view, ["train"]) == ["models/model.pkl", "metrics.json"]
    assert graph_view.resolve(view, ["train:score"]) == ["metrics.json"]
    assert graph_view.resolve(view, ["raw.txt"]) == ["raw.txt"]
    assert graph_view.resolve(graph_view.stages(graph), ["train:model"]) == ["train"]


def test_unknown_target_is_one_clear_error(tmp_path: pathlib.Path) -> None:
    view = graph_view.stages(_dag(tmp_path))

    with pytest.raises(errors.StageNotFoundError, match="'trian'.*did you mean 'train'"):
        graph_view.resolve(view, ["trian"])
