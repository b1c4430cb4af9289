import pathlib
import sys

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, lock_store, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import digests, observe, run_cache, scheduler, stage_handler
from pivot.domain import dag, events
from pivot.pipeline import Pipeline
from tests.fakes import code_fingerprinter as fake_fingerprinter
from tests.fakes import event_sink as fake_sink
from tests.fakes import executor as fake_executor
from tests.unit.app import stage_funcs


def _run(
    root: pathlib.Path, executor: fake_executor.GatedExecutor, *funcs: object, jobs: int
) -> fake_sink.RecordingSink:
    pipe = Pipeline("t", root=root)
    for func in funcs:
        pipe.register(func)  # pyright: ignore[reportArgumentType]
    return _run_pipeline(root, executor, pipe, jobs=jobs)


def _run_pipeline(
    root: pathlib.Path,
    executor: fake_executor.GatedExecutor | fake_executor.SteppedExecutor,
    pipe: Pipeline,
    *,
    jobs: int,
) -> fake_sink.RecordingSink:
    graph = dag.build(pipe.stages, root)
    locks = lock_store.MemoryLockStore()
    cache = content_cache.MemoryContentCache()
    workspace = file_workspace_store.FileWorkspaceStore(cache)
    hasher = xxh3_hasher.Xxh3Hasher()
    handler = stage_handler.StageHandler(
        project_root=root,
        observer=observe.Observer(
            locks=locks,
            digest_service=digests.DigestService(state_store.MemoryStateStore(), hasher, workspace),
            cache=cache,
            fingerprinter=fake_fingerprinter.FakeFingerprinter(),
        ),
        locks=locks,
        cache=cache,
        hasher_=hasher,
        workspace=workspace,
        runs=run_cache.RunCache(state_store.MemoryStateStore()),
    )
    sink = fake_sink.RecordingSink()
    loop = scheduler.Scheduler(
        graph,
        graph.order,
        handler=handler,
        executor_=executor,
        sink=sink,
        locks=locks,
        jobs=jobs,
    )
    done = loop.run()
    assert [d.name for d in done] == [
        e.stage for e in sink.events if isinstance(e, events.StageFinished)
    ]
    return sink


def _most_started_at_once(sink: fake_sink.RecordingSink) -> int:
    running: set[str] = set()
    most = 0
    for event in sink.events:
        if isinstance(event, events.StageStarted):
            running.add(event.stage)
            most = max(most, len(running))
        elif isinstance(event, events.StageFinished):
            running.discard(event.stage)
    return most


def _fan_out(
    tmp_path: pathlib.Path, *, max_workers: int, gate: int
) -> tuple[fake_sink.RecordingSink, fake_executor.GatedExecutor]:
    """`make` then three stages after it, `-j 2`, on a gated executor of `max_workers`."""
    (tmp_path / "input.txt").write_text("hi")
    executor = fake_executor.GatedExecutor(max_workers=max_workers, gate=gate)
    try:
        sink = _run(
            tmp_path,
            executor,
            stage_funcs.make,
            stage_funcs.first,
            stage_funcs.second,
            stage_funcs.third,
            jobs=2,
        )
    finally:
        executor.shutdown()
    assert sink.statuses() == dict.fromkeys(("make", "first", "second", "third"), "ran")
    return sink, executor


def test_a_job_per_worker_waits_queued_but_only_jobs_stages_are_announced_running(
    tmp_path: pathlib.Path,
) -> None:
    sink, executor = _fan_out(tmp_path, max_workers=2, gate=4)

    assert executor.most_waiting == 4
    assert _most_started_at_once(sink) == 2


def test_without_a_worker_per_job_nothing_is_submitted_ahead(tmp_path: pathlib.Path) -> None:
    _, executor = _fan_out(tmp_path, max_workers=4, gate=2)

    assert executor.most_waiting == 2


def test_the_executor_is_told_at_most_jobs_stages_run_at_once(tmp_path: pathlib.Path) -> None:
    _, executor = _fan_out(tmp_path, max_workers=4, gate=2)

    assert executor.expected == [2]


def test_the_executor_is_told_a_run_of_one_stage_needs_one_worker(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "input.txt").write_text("hi")
    executor = fake_executor.GatedExecutor(max_workers=4, gate=1)
    try:
        sink = _run(tmp_path, executor, stage_funcs.make, jobs=4)
    finally:
        executor.shutdown()

    assert sink.statuses() == {"make": "ran"}
    assert executor.expected == [1]


def test_a_failure_blocks_a_chain_longer_than_the_recursion_limit(
    tmp_path: pathlib.Path,
) -> None:
    length = sys.getrecursionlimit() + 100
    pipe = Pipeline("t", root=tmp_path)
    pipe.register(stage_funcs.needs_missing, out_path_overrides={"needs_missing": "c0.txt"})
    for i in range(1, length):
        pipe.register(
            stage_funcs.use,
            name=f"use{i}",
            dep_path_overrides={"a": f"c{i - 1}.txt"},
            out_path_overrides={f"use{i}": f"c{i}.txt"},
        )
    executor = fake_executor.GatedExecutor(max_workers=1, gate=1)
    try:
        sink = _run_pipeline(tmp_path, executor, pipe, jobs=1)
    finally:
        executor.shutdown()

    statuses = sink.statuses()
    assert statuses.pop("needs_missing") == "failed"
    assert set(statuses.values()) == {"blocked"}
    assert len(statuses) == length - 1


def test_after_a_failure_a_queued_job_no_worker_took_is_withdrawn_and_blocked(
    tmp_path: pathlib.Path,
) -> None:
    pipe = Pipeline("t", root=tmp_path)
    pipe.register(stage_funcs.explodes)
    pipe.register(stage_funcs.first)
    assert dag.build(pipe.stages, tmp_path).order == ("explodes", "first")
    executor = fake_executor.SteppedExecutor(allowed=1)
    try:
        sink = _run_pipeline(tmp_path, executor, pipe, jobs=1)
    finally:
        executor.shutdown()

    assert [job.stage for job in executor.submitted] == ["explodes", "first"]
    assert sink.statuses() == {"explodes": "failed", "first": "blocked"}
    assert not (tmp_path / "first.txt").exists()
    started = [e.stage for e in sink.events if isinstance(e, events.StageStarted)]
    assert started == ["explodes"]
