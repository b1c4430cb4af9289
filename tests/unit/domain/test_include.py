import pathlib

import pytest

from pivot.domain import errors, identity
from pivot.pipeline import Pipeline
from tests.unit.domain import stage_funcs


def test_included_stages_keep_their_root_and_state_dir(tmp_path: pathlib.Path) -> None:
    upstream = Pipeline("up", root=tmp_path / "up")
    upstream.register(stage_funcs.prepare)
    downstream = Pipeline("down", root=tmp_path / "down")
    downstream.register(stage_funcs.train)

    added = downstream.include(upstream)

    assert [st.name for st in added] == ["prepare"]
    assert downstream.list_stages() == ["train", "prepare"]
    included = downstream.get("prepare")
    assert included.root == tmp_path / "up"
    assert included.state_dir == tmp_path / "up" / ".pivot"
    assert included.pipeline == "up"
    assert included.outs[0].path == tmp_path / "up" / "data/train.csv"


def test_colliding_stage_is_prefixed_with_the_incoming_pipeline_name(
    tmp_path: pathlib.Path,
) -> None:
    first = Pipeline("first", root=tmp_path / "a")
    first.register(stage_funcs.train)
    second = Pipeline("second", root=tmp_path / "b")
    second.register(stage_funcs.train)
    second.register(stage_funcs.prepare)

    first.include(second)

    assert first.list_stages() == ["train", "second/train", "prepare"]
    prefixed = first.get("second/train")
    assert prefixed.root == tmp_path / "b"
    assert prefixed.state_dir == tmp_path / "b" / ".pivot"
    assert {prefixed.out_identity(o) for o in prefixed.outs} == {
        identity.ArtifactIdentity("second/train", "model"),
        identity.ArtifactIdentity("second/train", "score"),
    }
    assert first.get("train").root == tmp_path / "a"


def test_including_the_same_pipeline_twice_adds_nothing(tmp_path: pathlib.Path) -> None:
    host = Pipeline("host", root=tmp_path / "a")
    host.register(stage_funcs.train)
    other = Pipeline("other", root=tmp_path / "b")
    other.register(stage_funcs.train)
    other.register(stage_funcs.prepare)

    host.include(other)
    again = host.include(other)

    assert again == []
    assert host.list_stages() == ["train", "other/train", "prepare"]


def test_collision_with_taken_prefixed_name_is_an_error(tmp_path: pathlib.Path) -> None:
    host = Pipeline("host", root=tmp_path / "a")
    host.register(stage_funcs.train)
    host.register(stage_funcs.train, name="other/train")
    other = Pipeline("other", root=tmp_path / "b")
    other.register(stage_funcs.train)

    with pytest.raises(errors.StageDefinitionError, match="'other/train' are taken"):
        host.include(other)


def test_prefixed_stage_keeps_its_home_name_for_lock_records(tmp_path: pathlib.Path) -> None:
    home = Pipeline("home", root=tmp_path / "home")
    home.register(stage_funcs.train)
    merged = Pipeline("all", root=tmp_path)
    merged.register(stage_funcs.train, out_path_overrides={"model": "m.pkl", "score": "s.json"})

    (added,) = merged.include(home)

    assert added.name == "home/train"
    assert added.lock_name == "train"
    assert added.record_key(added.outs[0]) == "train:model"
    assert str(added.out_identity(added.outs[0])) == "home/train:model"
