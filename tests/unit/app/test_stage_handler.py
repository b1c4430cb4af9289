import json
import pathlib

import pytest

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, lock_store, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import digests, observe, run_cache, stage_handler, stage_job
from pivot.domain import change, events, stage
from pivot.pipeline import Pipeline
from tests.fakes import code_fingerprinter as fake_fingerprinter
from tests.unit.app import artifact_funcs, stage_funcs

Status = events.StageStatus


class Handlers:
    """StageHandlers on in-memory locks, cache and state, over a tmp workspace; jobs run here."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.locks = lock_store.MemoryLockStore()
        self.cache = content_cache.MemoryContentCache()
        self.workspace = file_workspace_store.FileWorkspaceStore(self.cache)
        self.runs = run_cache.RunCache(state_store.MemoryStateStore())
        self.fingerprinter = fake_fingerprinter.FakeFingerprinter()
        self.hasher = xxh3_hasher.Xxh3Hasher()
        self.observer = observe.Observer(
            locks=self.locks,
            digest_service=digests.DigestService(
                state_store.MemoryStateStore(), self.hasher, self.workspace
            ),
            cache=self.cache,
            fingerprinter=self.fingerprinter,
        )

    def handler(self, **policy: bool) -> stage_handler.StageHandler:
        return stage_handler.StageHandler(
            project_root=self.root,
            observer=self.observer,
            locks=self.locks,
            cache=self.cache,
            hasher_=self.hasher,
            workspace=self.workspace,
            runs=self.runs,
            policy=stage_handler.Policy(**policy),
        )

    def stages(self, *funcs: object, **params: object) -> dict[str, stage.Stage]:
        pipe = Pipeline("t", root=self.root)
        for func in funcs:
            pipe.register(func, params=params or None)  # pyright: ignore[reportArgumentType]
        return dict(pipe.stages)

    def run(self, handler: stage_handler.StageHandler, st: stage.Stage) -> stage_handler.Finished:
        """Start `st`; if it must run, run its job in this process and complete it."""
        step = handler.start(st)
        if isinstance(step, stage_handler.Finished):
            return step
        return handler.complete(step, stage_job.run(step.job))


@pytest.fixture
def h(tmp_path: pathlib.Path) -> Handlers:
    (tmp_path / "input.txt").write_text("hi")
    return Handlers(tmp_path)


def test_a_stage_never_run_is_launched_with_its_reason_and_nothing_is_recorded_yet(
    h: Handlers,
) -> None:
    make = h.stages(stage_funcs.make)["make"]

    step = h.handler().start(make)

    assert isinstance(step, stage_handler.Launch)
    assert step.job.stage == "make"
    assert [r.kind for r in step.reasons] == [change.ReasonKind.NEVER_RUN]
    assert h.locks.read(make) is None
    assert not (h.root / "a.txt").exists()


def test_completing_a_job_records_the_lock_and_the_stage_is_then_skipped(h: Handlers) -> None:
    make = h.stages(stage_funcs.make)["make"]
    handler = h.handler()
    launch = handler.start(make)
    assert isinstance(launch, stage_handler.Launch)

    done = handler.complete(launch, stage_job.run(launch.job), log=".pivot/logs/make.log")

    assert (done.name, done.status, done.log) == ("make", Status.RAN, ".pivot/logs/make.log")
    assert [r.kind for r in done.reasons] == [change.ReasonKind.NEVER_RUN]
    record = h.locks.read(make)
    assert record is not None
    assert record["outs"]["make"]["hash"] == h.hasher.file_digest(h.root / "a.txt")
    assert h.cache.has(record["outs"]["make"]["hash"])
    assert h.handler().start(make) == stage_handler.Finished("make", Status.SKIPPED)


def test_a_failed_job_is_failed_and_records_nothing(h: Handlers) -> None:
    explodes = h.stages(stage_funcs.explodes)["explodes"]
    handler = h.handler()
    launch = handler.start(explodes)
    assert isinstance(launch, stage_handler.Launch)

    done = handler.complete(launch, stage_job.run(launch.job))

    assert done.status is Status.FAILED
    assert "KeyError: 'b'" in done.message
    assert h.locks.read(explodes) is None


def test_params_and_metrics_of_a_run_are_kept_for_the_history(h: Handlers) -> None:
    scale = h.stages(artifact_funcs.scale, factor=3)["scale"]

    done = h.run(h.handler(), scale)

    assert done.status is Status.RAN
    assert done.params == {"factor": 3}
    assert done.metrics == {"score.json": {"factor": 3}}


def test_a_missing_dependency_fails_without_a_job(h: Handlers) -> None:
    st = h.stages(stage_funcs.needs_missing)["needs_missing"]

    done = h.handler().start(st)

    assert isinstance(done, stage_handler.Finished)
    assert done.status is Status.FAILED
    assert done.message.startswith("missing dependencies: missing.txt")


def test_a_dry_run_reports_would_run_and_writes_nothing(h: Handlers) -> None:
    make = h.stages(stage_funcs.make)["make"]

    done = h.handler(dry_run=True).start(make)

    assert isinstance(done, stage_handler.Finished)
    assert done.status is Status.WOULD_RUN
    assert h.locks.read(make) is None
    assert not (h.root / "a.txt").exists()


def test_an_upstream_that_would_run_makes_an_up_to_date_stage_would_run(h: Handlers) -> None:
    stages = h.stages(stage_funcs.make, stage_funcs.use)
    for name in ("make", "use"):
        h.run(h.handler(), stages[name])

    done = h.handler(dry_run=True).start(stages["use"], upstream_would_run=["make"])

    assert isinstance(done, stage_handler.Finished)
    assert done.status is Status.WOULD_RUN
    assert [r.kind for r in done.reasons] == [change.ReasonKind.UPSTREAM_STALE]


def test_a_deleted_output_is_restored_from_the_cache_without_running(h: Handlers) -> None:
    make = h.stages(stage_funcs.make)["make"]
    h.run(h.handler(), make)
    (h.root / "a.txt").unlink()
    (h.root / stage_funcs.LOG).unlink()

    done = h.handler().start(make)

    assert isinstance(done, stage_handler.Finished)
    assert done.status is Status.SKIPPED
    assert done.message == "restored from cache: make → a.txt"
    assert (h.root / "a.txt").read_text() == "HI"
    assert not (h.root / stage_funcs.LOG).exists()


def test_an_earlier_run_with_the_same_inputs_is_restored_from_the_run_cache(h: Handlers) -> None:
    h.run(h.handler(), h.stages(artifact_funcs.scale, factor=2)["scale"])
    h.run(h.handler(), h.stages(artifact_funcs.scale, factor=3)["scale"])
    (h.root / artifact_funcs.LOG).unlink()
    back = h.stages(artifact_funcs.scale, factor=2)["scale"]

    done = h.handler().start(back)

    assert isinstance(done, stage_handler.Finished)
    assert (done.status, done.message) == (Status.RESTORED, "restored (run cache)")
    assert json.loads((h.root / "scaled.json").read_text()) == {"value": 4}
    assert not (h.root / artifact_funcs.LOG).exists()
    record = h.locks.read(back)
    assert record is not None
    assert record["params"] == {"factor": 2}
    assert h.handler().start(back) == stage_handler.Finished(
        "scale", Status.SKIPPED, params={"factor": 2}
    )


def test_no_commit_runs_but_records_nothing(h: Handlers) -> None:
    make = h.stages(stage_funcs.make)["make"]

    done = h.run(h.handler(no_commit=True), make)

    assert done.status is Status.RAN
    assert (h.root / "a.txt").read_text() == "HI"
    assert h.locks.read(make) is None
    assert not h.cache.has(h.hasher.file_digest(h.root / "a.txt"))


def test_a_stage_not_started_is_skipped_if_up_to_date_else_blocked(h: Handlers) -> None:
    stages = h.stages(stage_funcs.make, stage_funcs.use)
    h.run(h.handler(), stages["make"])
    handler = h.handler()

    assert handler.not_started(stages["make"], upstream_clean=True).status is Status.SKIPPED
    assert handler.not_started(stages["make"], upstream_clean=False).status is Status.BLOCKED
    blocked = handler.not_started(stages["use"], upstream_clean=True)
    assert blocked.status is Status.BLOCKED
    assert blocked.message.startswith("not started: an earlier stage failed")
