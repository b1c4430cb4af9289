import json
import os
import pathlib
import stat

import pytest

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.domain import errors, events
from pivot.pipeline import Pipeline
from tests.unit.app import artifact_funcs
from tests.unit.app.test_run_service import World


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    (tmp_path / "input.txt").write_text("hi")
    return World(tmp_path)


def _failure(sink: object, stage: str) -> str:
    finished = [
        e
        for e in sink.events  # pyright: ignore[reportAttributeAccessIssue, reportUnknownVariableType, reportUnknownMemberType]
        if isinstance(e, events.StageFinished) and e.stage == stage
    ]
    assert finished[0].status is events.StageStatus.FAILED  # pyright: ignore[reportUnknownMemberType]
    return finished[0].message  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def test_plot_is_cached_and_keeps_its_options(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.plot)

    world.run(pipe)

    record = world.locks.read(pipe.get("plot"))
    assert record is not None
    out = record["outs"]["plot"]
    assert (out["kind"], out["cached"]) == ("plot", True)
    assert world.cache.has(out["hash"])
    assert pipe.get("plot").outs[0].spec == artifact_funcs.outputs.Plot(
        "plots/loss.jsonl", artifact_funcs.loaders.JSONL(), x="step", y="loss"
    )
    lines = (world.root / "plots/loss.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"loss": 0.5, "step": 1},
        {"loss": 0.25, "step": 2},
    ]


def test_uncached_out_is_hashed_but_recorded_as_not_cached(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.uncached)
    world.run(pipe)
    world.calls()

    record = world.locks.read(pipe.get("uncached"))
    assert record is not None
    assert record["outs"]["uncached"]["cached"] is False
    (world.root / "scratch.txt").write_text("edited")

    sink = world.run(pipe, no_commit=True)

    # A hand-edited uncached output cannot come back from the cache: the stage re-runs.
    assert sink.statuses() == {"uncached": "ran"}
    assert (world.root / "scratch.txt").read_text() == "scratch"


def test_directory_out_and_a_consumer_of_one_file_inside(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.shards, artifact_funcs.read_shard)

    assert world.run(pipe).statuses() == {"shards": "ran", "read_shard": "ran"}

    assert json.loads((world.root / "shards/a.json").read_text()) == {"n": 1}
    assert json.loads((world.root / "shards/sub/b.json").read_text()) == {"n": 2}
    assert (world.root / "shard_a.txt").read_text() == "1"
    record = world.locks.read(pipe.get("shards"))
    assert record is not None
    assert record["outs"]["shards"]["kind"] == "directory"
    assert world.cache.read_tree(record["outs"]["shards"]["hash"]).keys() == {
        "a.json",
        "sub/b.json",
    }


def test_directory_out_restored_from_cache_when_deleted(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.shards, artifact_funcs.read_shard)
    world.run(pipe)
    world.calls()
    for path in sorted((world.root / "shards").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (world.root / "shards").rmdir()

    world.run(pipe)

    assert world.calls() == []
    assert json.loads((world.root / "shards/sub/b.json").read_text()) == {"n": 2}


@pytest.mark.parametrize(
    ("func", "words"),
    [
        (artifact_funcs.escaping_key, ["'../evil.txt'", "'..'"]),
        (artifact_funcs.absolute_key, ["'/tmp/evil.txt'", "absolute"]),
        (artifact_funcs.duplicate_key, ["'a/b.txt'", "'a//b.txt'", "same file"]),
    ],
)
def test_bad_directory_keys_fail_and_write_nothing(
    world: World, func: object, words: list[str]
) -> None:
    pipe = world.pipeline(func)
    name = pipe.list_stages()[0]

    message = _failure(world.run(pipe), name)

    assert f"stage '{name}'" in message
    for word in words:
        assert word in message
    assert not (world.root / "bad").exists()
    assert not (world.root.parent / "evil.txt").exists()
    assert world.locks.read(pipe.get(name)) is None


def test_incremental_out_starts_empty_and_appends_on_forced_runs(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.append)

    world.run(pipe)
    world.run(pipe, force=True)
    world.run(pipe, force=True)

    lines = (world.root / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == [1, 2, 3]


def test_incremental_out_is_a_writable_copy_never_the_cache_object(tmp_path: pathlib.Path) -> None:
    cache = local_content_cache.LocalContentCache(tmp_path / "cache", xxh3_hasher.Xxh3Hasher())
    world = World(tmp_path, cache)
    pipe = world.pipeline(artifact_funcs.append_in_place)
    world.run(pipe)
    first = world.locks.read(pipe.get("append_in_place"))
    assert first is not None
    ledger = tmp_path / "ledger.txt"
    ledger.unlink()
    world.run(pipe)  # restores the output from the cache
    assert ledger.read_text() == "line\n"

    world.run(pipe, force=True)

    assert ledger.read_text() == "line\nline\n"
    assert os.stat(ledger).st_nlink == 1
    assert os.stat(ledger).st_mode & stat.S_IWUSR
    cached = cache.object_path(first["outs"]["append_in_place"]["hash"])
    assert cached.read_text() == "line\n"


def test_incremental_out_argument_must_match_a_returned_one(world: World) -> None:
    with pytest.raises(errors.StageDefinitionError, match="'history'.*other.jsonl"):
        world.pipeline(artifact_funcs.wrong_incremental)


def test_multi_file_dependency_is_a_list_of_values(world: World) -> None:
    (world.root / "extra.txt").write_text("there")
    pipe = world.pipeline(artifact_funcs.combine)

    world.run(pipe)

    assert (world.root / "combined.txt").read_text() == "hi+there"
    record = world.locks.read(pipe.get("combine"))
    assert record is not None
    assert record["deps"].keys() == {"input.txt", "extra.txt"}


def test_placeholder_dep_error_names_every_missing_one(world: World) -> None:
    pipe = Pipeline("t", root=world.root)

    with pytest.raises(errors.StageDefinitionError) as caught:
        pipe.register(artifact_funcs.needs_placeholder, dep_path_overrides={"more": "input.txt"})

    assert "'data'" in str(caught.value)
    assert "'more'" not in str(caught.value)
    assert "dep_path_overrides" in str(caught.value)


@pytest.mark.parametrize("raw", ["/abs/x.txt", ".", ".."])
def test_absolute_output_paths_and_the_root_itself_are_rejected(world: World, raw: str) -> None:
    pipe = Pipeline("t", root=world.root)

    with pytest.raises(errors.StageDefinitionError, match="pipeline directory|absolute"):
        pipe.register(artifact_funcs.uncached, out_path_overrides={"uncached": raw})
