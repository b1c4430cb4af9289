import pathlib

import pytest

from pivot.domain import dag, errors
from pivot.pipeline import Pipeline
from tests.unit.domain import stage_funcs


def test_stages_are_linked_through_paths(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.train)
    pipe.register(stage_funcs.prepare)

    graph = dag.build(pipe.stages, tmp_path)

    assert graph.order == ("prepare", "train")
    assert graph.upstream["train"] == {"prepare"}
    assert graph.ancestors(["train"]) == {"prepare", "train"}


def test_cycle_is_reported_by_name(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.cycle_a)
    pipe.register(stage_funcs.cycle_b)

    with pytest.raises(errors.CycleError, match="cycle_[ab] → cycle_[ab] → cycle_[ab]"):
        dag.build(pipe.stages, tmp_path)


def test_two_stages_writing_one_path(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.prepare)
    pipe.register(stage_funcs.prepare, name="again")

    with pytest.raises(errors.OverlapError, match="both write 'data/train.csv'"):
        dag.build(pipe.stages, tmp_path)


@pytest.mark.parametrize("first_dir", [True, False])
def test_output_inside_another_output_directory(tmp_path: pathlib.Path, first_dir: bool) -> None:
    pipe = Pipeline("p", root=tmp_path)
    funcs = [stage_funcs.writes_dir, stage_funcs.prepare]
    for func in funcs if first_dir else reversed(funcs):
        pipe.register(func)

    with pytest.raises(errors.OverlapError, match="overlaps"):
        dag.build(pipe.stages, tmp_path)


def test_dependency_inside_directory_output_links_to_its_producer(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.writes_dir)
    pipe.register(stage_funcs.train)

    graph = dag.build(pipe.stages, tmp_path)

    assert graph.upstream["train"] == {"writes_dir"}
    producer = graph.producer_of(tmp_path / "data/train.csv")
    assert producer is not None
    assert producer.stage == "writes_dir"


def test_ordered_sorts_any_subset_topologically_and_drops_unknown_names(
    tmp_path: pathlib.Path,
) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.train)
    pipe.register(stage_funcs.prepare)

    graph = dag.build(pipe.stages, tmp_path)

    assert graph.ordered(["train", "prepare", "train"]) == ["prepare", "train"]
    assert graph.ordered(["train", "no-such-stage"]) == ["train"]
    assert graph.ordered([]) == []
