import pathlib

import pytest

from pivot.app import commit, run_cache
from pivot.domain import errors, events
from tests.unit.app import artifact_funcs
from tests.unit.app.test_run_service import World


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    (tmp_path / "input.txt").write_text("hi")
    return World(tmp_path)


def _snapshot(root: pathlib.Path) -> dict[str, bytes]:
    return {n: (root / n).read_bytes() for n in ("scaled.json", "score.json", "report.txt")}


def _committer(world: World) -> commit.CommitService:
    return commit.CommitService(
        project_root=world.root,
        observer=world.observer,
        locks=world.locks,
        cache=world.cache,
        state=world.state,
        workspace=world.workspace,
    )


def test_params_a_b_a_restores_the_first_run(world: World) -> None:
    world.run(world.scaled(1))
    first = _snapshot(world.root)
    world.run(world.scaled(2))
    assert _snapshot(world.root) != first
    world.calls()

    sink = world.run(world.scaled(1))

    assert world.calls() == []
    assert sink.statuses() == {"scale": "restored", "report": "restored"}
    messages = {e.message for e in sink.events if isinstance(e, events.StageFinished)}
    assert messages == {"restored (run cache)"}
    assert _snapshot(world.root) == first
    # The lock now describes the restored run: the next run has nothing to do.
    assert world.run(world.scaled(1)).statuses() == {"scale": "skipped", "report": "skipped"}


def test_force_bypasses_the_run_cache(world: World) -> None:
    world.run(world.scaled(1))
    world.run(world.scaled(2))
    world.calls()

    world.run(world.scaled(1), force=True)

    assert world.calls() == ["scale", "report"]


def test_missing_cache_object_means_a_real_run(world: World) -> None:
    world.run(world.scaled(1))
    record = world.locks.read(world.scaled(1).get("scale"))
    assert record is not None
    world.run(world.scaled(2))
    world.cache.remove(record["outs"]["scale:table"]["hash"])
    world.calls()

    world.run(world.scaled(1))

    assert "scale" in world.calls()


def test_incremental_stages_never_use_the_run_cache(world: World) -> None:
    pipe = world.pipeline(artifact_funcs.append)
    world.run(pipe)
    (world.root / "input.txt").write_text("changed")
    world.run(pipe)
    (world.root / "input.txt").write_text("hi")
    world.calls()

    world.run(pipe)

    assert world.calls() == ["append"]
    assert world.state.keys(run_cache.NAMESPACE) == []


def test_no_commit_writes_no_lock_and_no_cache_then_commit_records(world: World) -> None:
    pipe = world.scaled(1)

    world.run(pipe, no_commit=True)

    assert world.locks.read(pipe.get("scale")) is None
    assert list(world.cache.iter_digests()) == []
    assert (world.root / "report.txt").read_text() == "value=2\n"

    reports = _committer(world).commit(pipe)

    assert [(r.name, r.committed) for r in reports] == [("scale", True), ("report", True)]
    record = world.locks.read(pipe.get("scale"))
    assert record is not None
    assert world.cache.has(record["outs"]["scale:table"]["hash"])
    world.calls()
    assert world.run(pipe).statuses() == {"scale": "skipped", "report": "skipped"}
    assert world.calls() == []


def test_commit_after_a_neutral_code_edit_avoids_a_rerun(world: World) -> None:
    pipe = world.scaled(1)
    world.run(pipe)
    world.fingerprinter.versions["scale"] = "v2"

    reports = _committer(world).commit(pipe, ["scale"])

    assert [(r.name, r.committed) for r in reports] == [("scale", True)]
    world.calls()
    assert world.run(pipe).statuses() == {"scale": "skipped", "report": "skipped"}
    assert _committer(world).commit(pipe)[0].committed is False


def test_commit_with_a_missing_output_changes_nothing(world: World) -> None:
    pipe = world.scaled(1)
    world.run(pipe, no_commit=True)
    (world.root / "report.txt").unlink()

    with pytest.raises(errors.OutputError, match="'report'.*report.txt.*does not exist"):
        _committer(world).commit(pipe)

    assert world.locks.read(pipe.get("scale")) is None
    assert list(world.cache.iter_digests()) == []
