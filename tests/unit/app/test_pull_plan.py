import pathlib

import pytest

from pivot.adapters.memory import remote
from pivot.adapters.workspace import file_workspace_store
from pivot.app import pull_plan, run, transfer
from pivot.pipeline import Pipeline
from tests.unit.app import stage_funcs
from tests.unit.app.test_run_service import World

Verdict = pull_plan.Verdict


def _transfer(world: World, shared: remote.MemoryRemote) -> transfer.TransferService:
    return transfer.TransferService(
        project_root=world.root,
        locks=world.locks,
        cache=world.cache,
        hasher=world.hasher,
        state=world.state,
        remote_=shared,
        remote_name="origin",
        workspace=world.workspace,
    )


def _planner(world: World, shared: remote.MemoryRemote, pipe: Pipeline) -> pull_plan.PullPlanner:
    return pull_plan.PullPlanner(
        project_root=world.root,
        observer=world.observer,
        locks=world.locks,
        cache=world.cache,
        state=world.state,
        workspace=file_workspace_store.FileWorkspaceStore(world.cache),
        transfer_service=_transfer(world, shared),
    )


@pytest.fixture
def shared() -> remote.MemoryRemote:
    return remote.MemoryRemote()


@pytest.fixture
def pushed(tmp_path: pathlib.Path, shared: remote.MemoryRemote) -> tuple[World, Pipeline]:
    """A teammate's clone after machine A ran make → use and pushed: lock records, no data."""
    (tmp_path / "input.txt").write_text("hi")
    a = World(tmp_path)
    pipe = a.pipeline(stage_funcs.make, stage_funcs.use)
    a.run(pipe)
    a.calls()
    _transfer(a, shared).push(pipe, transfer.TransferOptions(), cwd=a.root)
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).unlink()
    return World(tmp_path, locks=a.locks), pipe


def _digest(world: World, pipe: Pipeline, stage: str) -> str:
    record = world.locks.read(pipe.get(stage))
    assert record is not None
    return record["outs"][stage]["hash"]


def test_an_up_to_date_target_fetches_its_outputs_and_nothing_upstream(
    pushed: tuple[World, Pipeline], shared: remote.MemoryRemote
) -> None:
    b, pipe = pushed
    planner = _planner(b, shared, pipe)

    plan = planner.plan(pipe, run.RunOptions(stages=("use",)))
    report = planner.apply(plan, jobs=2)
    sink = b.run(pipe, scope=plan.scope, stages=("use",))

    assert plan.verdicts == {"use": Verdict.RECORDED}
    assert set(plan.fetch) == {_digest(b, pipe, "use")}
    assert plan.scope.assumed == {b.root / "a.txt": _digest(b, pipe, "make")}
    assert report.failures == ()
    assert sink.statuses() == {"use": "skipped"}
    assert b.calls() == []
    assert (b.root / "b.txt").read_text() == "HI!"
    assert not (b.root / "a.txt").exists()
    assert not b.cache.has(_digest(b, pipe, "make"))


def test_a_stage_that_must_run_gets_its_inputs_and_runs_alone(
    pushed: tuple[World, Pipeline], shared: remote.MemoryRemote
) -> None:
    b, pipe = pushed
    b.fingerprinter.versions["use"] = "v2"
    planner = _planner(b, shared, pipe)

    plan = planner.plan(pipe, run.RunOptions(stages=("use",)))
    planner.apply(plan, jobs=2)
    sink = b.run(pipe, scope=plan.scope, stages=("use",))

    assert plan.verdicts == {"make": Verdict.RECORDED, "use": Verdict.RUN}
    assert set(plan.fetch) == {_digest(b, pipe, "make")}
    assert sink.statuses() == {"make": "skipped", "use": "ran"}
    assert b.calls() == ["use"]
    assert (b.root / "a.txt").read_text() == "HI"


def test_outputs_missing_from_the_remote_mean_the_stage_runs(
    pushed: tuple[World, Pipeline], shared: remote.MemoryRemote
) -> None:
    b, pipe = pushed
    digest = _digest(b, pipe, "use")
    del shared.objects[transfer.object_key(digest)]

    plan = _planner(b, shared, pipe).plan(pipe, run.RunOptions(stages=("use",)))

    assert plan.verdicts == {"make": Verdict.RECORDED, "use": Verdict.RUN}
    assert set(plan.fetch) == {_digest(b, pipe, "make")}


def test_a_run_cache_entry_on_the_remote_is_reused(
    tmp_path: pathlib.Path, shared: remote.MemoryRemote
) -> None:
    (tmp_path / "input.txt").write_text("hi")
    a = World(tmp_path)
    a.run(a.scaled(2))
    _transfer(a, shared).push(a.scaled(2), transfer.TransferOptions(), cwd=a.root)
    a.run(a.scaled(1))
    a.calls()
    b = World(tmp_path, locks=a.locks)
    planner = _planner(b, shared, b.scaled(2))

    plan = planner.plan(b.scaled(2), run.RunOptions())
    planner.apply(plan, jobs=2)
    sink = b.run(b.scaled(2), scope=plan.scope)

    assert set(plan.verdicts.values()) == {Verdict.RUN_CACHE}
    assert len(plan.entries) == 2
    assert b.calls() == []
    assert set(sink.statuses().values()) == {"restored"}
    assert (tmp_path / "report.txt").read_text() == "value=4\n"
    assert set(b.state.keys("runcache")) == set(plan.entries)


def test_an_edited_upstream_output_is_put_right_before_the_target_is_judged(
    pushed: tuple[World, Pipeline], shared: remote.MemoryRemote
) -> None:
    b, pipe = pushed
    (b.root / "a.txt").write_text("edited by hand")
    planner = _planner(b, shared, pipe)

    plan = planner.plan(pipe, run.RunOptions(stages=("use",)))
    planner.apply(plan, jobs=2)
    b.run(pipe, scope=plan.scope, stages=("use",))

    assert plan.verdicts == {"make": Verdict.RECORDED, "use": Verdict.RECORDED}
    assert b.calls() == []
    assert (b.root / "a.txt").read_text() == "HI"
    assert (b.root / "b.txt").read_text() == "HI!"
