import pathlib

import pytest

from pivot.app import artifacts
from pivot.domain import errors
from tests.unit.app import artifact_world


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    return artifact_world.World(tmp_path)


def _resolve(world: artifact_world.World, *targets: str) -> artifacts.Selection:
    return artifacts.resolve(
        world.pipe,
        targets,
        cwd=world.root,
        project_root=world.root,
        tracked=artifacts.find_tracked(world.root, world.workspace),
    )


def test_no_targets_selects_every_output(world: artifact_world.World) -> None:
    selection = _resolve(world)

    assert [o.identity for o in selection.outputs] == [
        "prepare",
        "train:model",
        "train:score",
        "placed",
    ]


def test_stage_name_selects_all_its_outputs_and_key_selects_one(
    world: artifact_world.World,
) -> None:
    assert [o.identity for o in _resolve(world, "train").outputs] == [
        "train:model",
        "train:score",
    ]
    assert [o.identity for o in _resolve(world, "train:model").outputs] == ["train:model"]


def test_display_shows_identity_and_path(world: artifact_world.World) -> None:
    (model,) = _resolve(world, "train:model").outputs
    (placed,) = _resolve(world, "placed").outputs

    assert model.display(world.root) == "train:model → models/model.txt"
    assert placed.display(world.root) == "placed → data/t/placed.txt"


def test_output_path_is_refused_with_its_identity(world: artifact_world.World) -> None:
    with pytest.raises(errors.TargetError) as info:
        _resolve(world, "models/model.txt")

    assert str(info.value) == "'models/model.txt' is an output of stage 'train'; use 'train:model'"


def test_unknown_key_and_unknown_target_suggest_names(world: artifact_world.World) -> None:
    with pytest.raises(errors.TargetError, match="did you mean 'train:model'"):
        _resolve(world, "train:modle")
    with pytest.raises(errors.TargetError, match="unknown target 'trian'.*did you mean 'train'"):
        _resolve(world, "trian")


def test_tracked_path_resolves_with_or_without_pvt_suffix(world: artifact_world.World) -> None:
    world.write("raw/data.txt", "hello")
    world.track("raw/data.txt")

    for target in ("raw/data.txt", "raw/data.txt.pvt"):
        selection = _resolve(world, target)
        assert selection.outputs == ()
        assert [t.path for t in selection.tracked] == [world.root / "raw/data.txt"]


def test_find_tracked_reads_manifests_and_rejects_broken_ones(
    world: artifact_world.World,
) -> None:
    world.write("a/b.txt", "x")
    world.track("a/b.txt")
    world.write(".hidden/c.txt.pvt", "not json")

    assert [t.display(world.root) for t in artifacts.find_tracked(world.root, world.workspace)] == [
        "a/b.txt"
    ]

    world.write("a/b.txt.pvt", "{}")
    with pytest.raises(errors.TargetError, match="a/b.txt.pvt cannot be read"):
        artifacts.find_tracked(world.root, world.workspace)
