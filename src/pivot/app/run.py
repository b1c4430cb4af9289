import dataclasses
import pathlib
import time
from collections.abc import Mapping

from pivot.app import history_log, observe, run_cache, scheduler, stage_handler, targets
from pivot.domain import dag, events, history, pipeline
from pivot.ports import (
    content_cache,
    event_sink,
    executor,
    hasher,
    lock_store,
    stage_log,
    state_store,
    workspace_store,
)


@dataclasses.dataclass(frozen=True, slots=True)
class RunOptions:
    stages: tuple[str, ...] = ()
    force: bool = False
    dry_run: bool = False
    jobs: int | None = None
    keep_going: bool = False
    single_stage: bool = False
    no_commit: bool = False
    """Run, but write neither lock records nor cache objects (`pivot commit` records later)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """A run narrowed by `run --pull`: only these stages, with upstream outputs left remote."""

    stages: frozenset[str]
    assumed: Mapping[pathlib.Path, str]
    """Dep path → digest of an output whose producer is outside `stages` (not materialised)."""


class RunService:
    """Runs the stale stages of a pipeline in dependency order, in parallel where possible."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        observer: observe.Observer,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        hasher_: hasher.Hasher,
        workspace: workspace_store.WorkspaceStore,
        executor_: executor.Executor,
        sink: event_sink.EventSink,
        state: state_store.StateStore,
        link_modes: tuple[content_cache.LinkMode, ...] = content_cache.DEFAULT_LINK_MODES,
        logs: stage_log.StageLog = stage_log.NONE,
    ) -> None:
        self._root = project_root
        self._link_modes = link_modes
        """How restores place cached files (`cache.link_modes`)."""
        self._logs = logs
        self._observer = observer
        self._locks = locks
        self._cache = cache
        self._hasher = hasher_
        self._workspace = workspace
        self._executor = executor_
        self._sink = sink
        self._run_cache = run_cache.RunCache(state)
        """Holds the run cache; without it every stale stage runs."""
        self._history = history_log.HistoryLog(state)

    def run(
        self, pipe: pipeline.Pipeline, options: RunOptions, scope: Scope | None = None
    ) -> events.RunSummary:
        started = time.perf_counter()
        wall_started = time.time()
        graph = dag.build(pipe.stages, self._root)
        if scope is None:
            selected = targets.select(graph, options.stages, single_stage=options.single_stage)
            scope = Scope(frozenset(selected), {})
        order = graph.ordered(scope.stages)
        handler = stage_handler.StageHandler(
            project_root=self._root,
            observer=self._observer,
            locks=self._locks,
            cache=self._cache,
            hasher_=self._hasher,
            workspace=self._workspace,
            runs=self._run_cache,
            policy=stage_handler.Policy(
                force=options.force, dry_run=options.dry_run, no_commit=options.no_commit
            ),
            link_modes=self._link_modes,
            assumed=scope.assumed,
        )
        loop = scheduler.Scheduler(
            graph,
            order,
            handler=handler,
            executor_=self._executor,
            sink=self._sink,
            logs=self._logs,
            locks=self._locks,
            jobs=options.jobs,
            keep_going=options.keep_going,
        )
        self._sink.emit(events.RunStarted(len(order), loop.parallel))
        if not options.dry_run:
            self._ignore_data(graph, order)
        try:
            with self._locks.batch():
                finished = loop.run()
        finally:
            self._observer.digests.flush()
        counts: dict[str, int] = {}
        for done in finished:
            counts[done.status] = counts.get(done.status, 0) + 1
        summary = events.RunSummary(counts, time.perf_counter() - started)
        if not options.dry_run and any(
            d.status is not events.StageStatus.SKIPPED for d in finished
        ):
            # A run with nothing to do leaves no record, whether the snapshot or the full
            # check answered it: history lists runs that did something.
            self._record_history(pipe.name, options, finished, wall_started)
        self._sink.emit(summary)
        return summary

    def _ignore_data(self, graph: dag.Dag, order: list[str]) -> None:
        """Cached outputs are data, never committed; metrics and `cache=False` outputs are.

        Written for every selected stage before any runs: one write per directory, and no
        lock record can become durable before its output's ignore line."""
        self._workspace.ignore(
            *(out.path for name in order for out in graph.stages[name].outs if out.cached)
        )

    def _record_history(
        self,
        pipeline_name: str,
        options: RunOptions,
        finished: list[stage_handler.Finished],
        started: float,
    ) -> None:
        self._history.record(
            history.RunRecord(
                schema_version=history.SCHEMA_VERSION,
                id=history_log.new_id(started),
                pipeline=pipeline_name,
                targets=list(options.stages),
                started=started,
                ended=time.time(),
                stages=[
                    history.StageRun(
                        name=done.name,
                        status=str(done.status),
                        duration=done.duration,
                        reasons=[r.describe() for r in done.reasons],
                        params=dict(done.params),
                        metrics=dict(done.metrics),
                    )
                    for done in finished
                ],
            )
        )
