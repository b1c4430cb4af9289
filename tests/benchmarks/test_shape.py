import pytest

from benchmarks import shape


def _longest_chain(project: shape.ProjectShape) -> int:
    depth: dict[str, int] = {}
    for stage in project.stages:
        depth[stage.out] = 1 + max((depth.get(d, 0) for d in stage.deps), default=0)
    return max(depth.values())


def _consumers(project: shape.ProjectShape, path: str) -> list[str]:
    return [s.name for s in project.stages if path in s.deps]


@pytest.mark.parametrize("n", [10, 176, 1000, 13])
def test_layered_has_n_stages_in_topological_order(n: int) -> None:
    project = shape.layered(n)

    seen = set(project.inputs)
    for stage in project.stages:
        assert set(stage.deps) <= seen, f"{stage.name} reads a file not produced before it"
        seen.add(stage.out)
    assert project.size == n
    assert len({s.out for s in project.stages}) == n


@pytest.mark.parametrize("n", [176, 1000])
def test_layered_chain_is_about_a_quarter_of_n_with_fan_in(n: int) -> None:
    project = shape.layered(n)

    assert _longest_chain(project) == n // shape.WIDTH
    assert any(len([d for d in s.deps if d.startswith("out/")]) == 2 for s in project.stages)


@pytest.mark.parametrize("n", [10, 13, 176, 1000])
def test_leaf_input_and_helper_each_touch_one_sink_stage(n: int) -> None:
    project = shape.layered(n)

    assert _consumers(project, shape.LEAF_INPUT) == [project.leaf_consumer.name]
    assert [s.name for s in project.stages if s.uses_helper] == [project.helper_user.name]
    assert _consumers(project, project.leaf_consumer.out) == []
    assert _consumers(project, project.helper_user.out) == []
    assert project.leaf_consumer != project.helper_user


def test_shared_input_feeds_the_first_layer() -> None:
    project = shape.layered(176)

    assert _consumers(project, shape.SHARED_INPUT) == [s.name for s in project.stages[:4]]


def test_fan_out_stages_are_independent() -> None:
    project = shape.fan_out(8)

    assert project.size == 8
    assert all(s.deps == (shape.SHARED_INPUT,) for s in project.stages)


def test_too_small_project_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 2 stages"):
        shape.layered(1)
