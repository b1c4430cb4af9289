import os
import pathlib

import pytest

from pivot.adapters.executor import inline_executor
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.logs import file_stage_log
from pivot.adapters.memory import content_cache, lock_store, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import digests, observe, run, status
from pivot.domain import errors, events
from pivot.pipeline import Pipeline
from pivot.ports import content_cache as content_cache_port
from pivot.ports import stage_log
from tests.fakes import code_fingerprinter as fake_fingerprinter
from tests.fakes import event_sink as fake_sink
from tests.unit.app import artifact_funcs, stage_funcs


class World:
    """A RunService on in-memory stores and the inline executor, over a tmp workspace."""

    def __init__(
        self,
        root: pathlib.Path,
        cache: content_cache_port.ContentCache | None = None,
        locks: lock_store.MemoryLockStore | None = None,
    ) -> None:
        self.root = root
        self.locks = locks or lock_store.MemoryLockStore()
        self.cache = cache or content_cache.MemoryContentCache()
        self.state = state_store.MemoryStateStore()
        """The run cache's store."""
        self.fingerprinter = fake_fingerprinter.FakeFingerprinter()
        self.workspace = file_workspace_store.FileWorkspaceStore(self.cache)
        hasher = xxh3_hasher.Xxh3Hasher()
        self.observer = observe.Observer(
            locks=self.locks,
            digest_service=digests.DigestService(
                state_store.MemoryStateStore(), hasher, self.workspace
            ),
            cache=self.cache,
            fingerprinter=self.fingerprinter,
        )
        self.hasher = hasher

    def pipeline(self, *funcs: object) -> Pipeline:
        pipe = Pipeline("t", root=self.root)
        for func in funcs:
            pipe.register(func)  # pyright: ignore[reportArgumentType]
        return pipe

    def scaled(self, factor: int) -> Pipeline:
        """`scale` (params, a metric) feeding `report`: the run cache's and history's example."""
        pipe = Pipeline("t", root=self.root)
        pipe.register(artifact_funcs.scale, params={"factor": factor})
        pipe.register(artifact_funcs.report)
        return pipe

    def run(
        self,
        pipe: Pipeline,
        logs: stage_log.StageLog = stage_log.NONE,
        scope: run.Scope | None = None,
        **options: object,
    ) -> fake_sink.RecordingSink:
        sink = fake_sink.RecordingSink()
        service = run.RunService(
            project_root=self.root,
            observer=self.observer,
            locks=self.locks,
            cache=self.cache,
            hasher_=self.hasher,
            workspace=self.workspace,
            executor_=inline_executor.InlineExecutor(),
            sink=sink,
            state=self.state,
            logs=logs,
        )
        service.run(pipe, run.RunOptions(**options), scope)  # pyright: ignore[reportArgumentType]
        return sink

    def calls(self) -> list[str]:
        log = self.root / stage_funcs.LOG
        found = log.read_text().split() if log.exists() else []
        log.unlink(missing_ok=True)
        return found


@pytest.fixture
def world(tmp_path: pathlib.Path) -> World:
    (tmp_path / "input.txt").write_text("hi")
    return World(tmp_path)


def test_runs_then_skips(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)

    assert world.run(pipe).statuses() == {"make": "ran", "use": "ran"}
    assert (world.root / "b.txt").read_text() == "HI!"
    assert world.calls() == ["make", "use"]

    assert world.run(pipe).statuses() == {"make": "skipped", "use": "skipped"}
    assert world.calls() == []


def test_code_change_reruns_stage_and_downstream(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)
    world.run(pipe)
    world.calls()
    world.fingerprinter.versions["make"] = "v2"

    world.run(pipe)

    # make re-ran; its output did not change, so use stays skipped (early cut-off)
    assert world.calls() == ["make"]


def test_missing_output_restored_from_cache(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)
    world.run(pipe)
    world.calls()
    (world.root / "a.txt").unlink()

    sink = world.run(pipe)

    assert world.calls() == []
    assert (world.root / "a.txt").read_text() == "HI"
    assert sink.statuses()["make"] == "skipped"


def test_failure_blocks_dependents_and_writes_no_lock(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.fails)

    sink = world.run(pipe)

    assert sink.statuses() == {"make": "ran", "fails": "failed"}
    assert world.locks.read(pipe.get("fails")) is None
    assert world.locks.read(pipe.get("make")) is not None


def test_missing_dependency_fails_with_message(world: World) -> None:
    pipe = world.pipeline(stage_funcs.needs_missing)

    sink = world.run(pipe)

    finished = [e for e in sink.events if getattr(e, "status", None) == "failed"]
    assert "missing dependencies: missing.txt" in finished[0].message  # pyright: ignore[reportAttributeAccessIssue]


def test_output_not_created_is_a_failure(world: World) -> None:
    sink = world.run(world.pipeline(stage_funcs.forgets_output))

    assert sink.statuses() == {"forgets_output": "failed"}


def test_dry_run_writes_nothing(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)

    sink = world.run(pipe, dry_run=True)

    assert sink.statuses() == {"make": "would_run", "use": "would_run"}
    assert not (world.root / "a.txt").exists()
    assert world.locks.read(pipe.get("make")) is None


def test_status_marks_downstream_of_stale_stage(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)
    world.run(pipe)
    world.fingerprinter.versions["make"] = "v2"

    reports = status.StatusService(project_root=world.root, observer=world.observer).status(pipe)

    by_name = {r.name: r for r in reports}
    assert by_name["make"].decision.stale
    assert [r.describe() for r in by_name["use"].decision.reasons] == [
        "upstream stage make is stale"
    ]


def test_unknown_target_is_rejected(world: World) -> None:
    with pytest.raises(errors.StageNotFoundError, match="did you mean 'make'"):
        world.run(world.pipeline(stage_funcs.make), stages=("mak",))


def test_cwd_is_restored_after_inline_run(world: World) -> None:
    before = os.getcwd()

    world.run(world.pipeline(stage_funcs.make))

    assert os.getcwd() == before


def test_renamed_stage_reuses_its_home_lock_record(world: World) -> None:
    home = world.pipeline(stage_funcs.make)
    world.run(home)
    world.calls()
    merged = Pipeline("all", root=world.root)
    merged.register(stage_funcs.use, name="make")
    merged.include(home)

    sink = world.run(merged, stages=("t/make",))

    assert sink.statuses() == {"t/make": "skipped"}
    assert world.calls() == []


def _memory_cache(world: World) -> content_cache.MemoryContentCache:
    assert isinstance(world.cache, content_cache.MemoryContentCache)
    return world.cache


def test_corrupt_cache_object_is_never_restored_the_stage_runs_instead(world: World) -> None:
    cache = _memory_cache(world)
    pipe = world.pipeline(stage_funcs.make)
    world.run(pipe)
    world.calls()
    record = world.locks.read(pipe.get("make"))
    assert record is not None
    digest = record["outs"]["make"]["hash"]
    (world.root / "a.txt").unlink()
    cache.corrupt(digest)

    sink = world.run(pipe)

    assert sink.statuses() == {"make": "ran"}
    assert world.calls() == ["make"]
    assert (world.root / "a.txt").read_text() == "HI"
    assert digest in cache.quarantined
    finished = [e for e in sink.events if getattr(e, "stage", None) == "make"]
    assert any("corrupt" in r.describe() for e in finished for r in getattr(e, "reasons", ()))


def test_dry_run_reports_a_corrupt_object_without_quarantining_it(world: World) -> None:
    cache = _memory_cache(world)
    pipe = world.pipeline(stage_funcs.make)
    world.run(pipe)
    record = world.locks.read(pipe.get("make"))
    assert record is not None
    digest = record["outs"]["make"]["hash"]
    (world.root / "a.txt").unlink()
    cache.corrupt(digest)

    sink = world.run(pipe, dry_run=True)

    assert sink.statuses() == {"make": "would_run"}
    assert digest not in cache.quarantined
    assert not (world.root / "a.txt").exists()


def test_output_identity_targets_its_producer(world: World) -> None:
    pipe = Pipeline("t", root=world.root)
    pipe.register(stage_funcs.make)
    pipe.register(stage_funcs.two_outputs)

    sink = world.run(pipe, stages=("two_outputs:left",))

    assert sink.statuses() == {"two_outputs": "ran"}
    with pytest.raises(errors.StageNotFoundError, match="has no output 'middle'"):
        world.run(pipe, stages=("two_outputs:middle",))


def test_stage_output_is_passed_on_in_order_and_kept_in_its_log(world: World) -> None:
    sink = world.run(world.pipeline(stage_funcs.chatty), file_stage_log.FileStageLog(world.root))

    lines = [e.line for e in sink.events if isinstance(e, events.StageOutput)]
    assert lines == ["epoch 1", "warning: slow", "from the shell"]
    finished = next(e for e in sink.events if isinstance(e, events.StageFinished))
    assert finished.log == ".pivot/logs/chatty.log"
    assert (world.root / finished.log).read_text().splitlines() == lines
    assert [p.name for p in (world.root / ".pivot/logs").iterdir()] == [".gitignore", "chatty.log"]


def test_a_failed_stage_log_ends_with_its_error(world: World) -> None:
    sink = world.run(world.pipeline(stage_funcs.explodes), file_stage_log.FileStageLog(world.root))

    assert sink.statuses() == {"explodes": "failed"}
    log = (world.root / ".pivot/logs/explodes.log").read_text()
    assert log.startswith("about to fail\nTraceback")
    assert log.endswith("KeyError: 'b'\n")


def test_up_to_date_stages_are_skipped_not_blocked_after_an_unrelated_failure(
    world: World,
) -> None:
    pipe = world.pipeline(stage_funcs.explodes, stage_funcs.make, stage_funcs.use)
    world.run(pipe, stages=("use",))

    sink = world.run(pipe, jobs=1)

    assert sink.statuses() == {"explodes": "failed", "make": "skipped", "use": "skipped"}


def test_stale_stages_are_still_blocked_after_a_failure(world: World) -> None:
    pipe = world.pipeline(stage_funcs.explodes, stage_funcs.make, stage_funcs.use)

    sink = world.run(pipe, jobs=1)

    assert sink.statuses() == {"explodes": "failed", "make": "blocked", "use": "blocked"}


def test_run_announces_its_size_and_whether_stages_overlap(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)

    started = world.run(pipe, jobs=2).events[0]

    assert started == events.RunStarted(stages=2, parallel=True)
    assert world.run(pipe, jobs=1).events[0] == events.RunStarted(stages=2, parallel=False)


def _failure(sink: fake_sink.RecordingSink) -> str:
    (failed,) = [
        e for e in sink.events if isinstance(e, events.StageFinished) and e.status == "failed"
    ]
    return failed.message


def test_a_dep_the_loader_cannot_read_names_stage_argument_file_and_loader(world: World) -> None:
    (world.root / "in.json").write_text("{bad json")

    message = _failure(world.run(world.pipeline(stage_funcs.reads_config)))

    assert message == (
        "reads_config: cannot load dep 'cfg' from in.json with JSON(): JSONDecodeError: "
        + "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    )


def test_an_output_the_loader_cannot_write_names_stage_output_file_and_loader(
    world: World,
) -> None:
    message = _failure(world.run(world.pipeline(stage_funcs.returns_a_set)))

    assert message == (
        "returns_a_set: cannot save output 'returns_a_set' to out.json with JSON(): "
        + "TypeError: Object of type set is not JSON serializable"
    )


def test_deleted_restorable_output_status_and_dry_run_agree_and_nothing_is_written(
    world: World,
) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)
    world.run(pipe)
    world.calls()
    (world.root / "a.txt").unlink()

    reports = status.StatusService(project_root=world.root, observer=world.observer).status(pipe)
    sink = world.run(pipe, dry_run=True)

    assert {r.name: r.state for r in reports} == {"make": "outputs_missing", "use": "up_to_date"}
    assert sink.statuses() == {"make": "skipped", "use": "skipped"}
    assert not (world.root / "a.txt").exists()  # a dry run restores nothing

    assert world.run(pipe).statuses() == {"make": "skipped", "use": "skipped"}
    assert world.calls() == []
    assert (world.root / "a.txt").exists()


def test_status_and_dry_run_name_the_same_stale_upstream(world: World) -> None:
    pipe = world.pipeline(stage_funcs.make, stage_funcs.use)
    world.run(pipe)
    world.fingerprinter.versions["make"] = "v2"

    reports = status.StatusService(project_root=world.root, observer=world.observer).status(pipe)
    sink = world.run(pipe, dry_run=True)

    finished = {e.stage: e for e in sink.events if isinstance(e, events.StageFinished)}
    by_name = {r.name: r for r in reports}
    assert finished["use"].status == "would_run"
    assert finished["use"].reasons == by_name["use"].decision.reasons
