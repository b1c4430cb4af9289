import concurrent.futures
import dataclasses
import pathlib
import time
from collections.abc import Mapping

from pivot.app import history_log, observe, run_cache, stage_job, targets
from pivot.domain import change, dag, errors, events, history, paths, pipeline, specs, stage
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

Status = events.StageStatus
# How often the output of running stages is passed on while waiting for one to finish.
_OUTPUT_POLL_SECONDS = 0.1
# Group commit: the lock records of finished stages are made durable together, at most this
# long after the stage finished (one filesystem sync per batch, not one per stage).
_COMMIT_SECONDS = 0.5


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
        graph = dag.build(pipe.stages, self._root)
        if scope is None:
            selected = targets.select(graph, options.stages, single_stage=options.single_stage)
            scope = Scope(frozenset(selected), {})
        return _Scheduler(self, graph, scope, options, pipe.name).run()


class _Scheduler:
    def __init__(
        self,
        svc: RunService,
        graph: dag.Dag,
        scope: Scope,
        options: RunOptions,
        pipeline_name: str = "",
    ) -> None:
        self._svc = svc
        self._graph = graph
        self._options = options
        self._assumed = dict(scope.assumed)
        """Deps known without looking: from `--pull`, and what a dry run would have restored."""
        self._selected = graph.ordered(scope.stages)
        chosen = set(self._selected)
        self._waiting = {n: set(graph.upstream[n]) & chosen for n in self._selected}
        self._ready = [n for n in self._selected if not self._waiting[n]]
        self._done: dict[str, Status] = {}
        self._running: dict[
            concurrent.futures.Future[stage_job.StageOutcome], observe.Evaluation
        ] = {}
        self._mutex_held: set[str] = set()
        self._stopped = False
        self._jobs = max(1, options.jobs or svc._executor.max_workers)
        self._pipeline_name = pipeline_name
        self._params: dict[str, dict[str, object]] = {}
        self._metrics: dict[str, dict[str, dict[str, history.Scalar]]] = {}
        self._history: list[history.StageRun] = []
        """Per-stage lines of the run's history record, written once when the run ends."""
        self._committed = time.monotonic()

    def run(self) -> events.RunSummary:
        started = time.perf_counter()
        wall_started = time.time()
        self._svc._sink.emit(
            events.RunStarted(len(self._selected), self._jobs > 1 and len(self._selected) > 1)
        )
        if not self._options.dry_run:
            self._ignore_data()
        try:
            with self._svc._locks.batch():
                self._loop()
        finally:
            self._svc._observer.digests.flush()
        for name in self._selected:
            if name not in self._done:
                self._not_started(name)
        counts: dict[str, int] = {}
        for status in self._done.values():
            counts[status] = counts.get(status, 0) + 1
        summary = events.RunSummary(counts, time.perf_counter() - started)
        if not self._options.dry_run:
            self._record_history(wall_started)
        self._svc._sink.emit(summary)
        return summary

    def _loop(self) -> None:
        while self._ready or self._running:
            self._launch()
            if not self._running:
                if self._ready and not self._stopped:
                    continue
                break
            finished, _ = concurrent.futures.wait(
                self._running,
                timeout=_OUTPUT_POLL_SECONDS,
                return_when=concurrent.futures.FIRST_COMPLETED,
            )
            for evaluation in self._running.values():
                self._pass_output(evaluation.stage.name)
            for future in finished:
                self._complete(self._running.pop(future), future)
            if time.monotonic() - self._committed >= _COMMIT_SECONDS:
                self._svc._locks.flush()
                self._committed = time.monotonic()

    def _record_history(self, started: float) -> None:
        self._svc._history.record(
            history.RunRecord(
                schema_version=history.SCHEMA_VERSION,
                id=history_log.new_id(started),
                pipeline=self._pipeline_name,
                targets=list(self._options.stages),
                started=started,
                ended=time.time(),
                stages=self._history,
            )
        )

    def _not_started(self, name: str) -> None:
        """A stage the run stopped before: skipped if it is up to date, else blocked."""
        upstream_clean = all(
            self._done.get(up) is Status.SKIPPED
            for up in self._graph.upstream[name]
            if up in self._waiting
        )
        if upstream_clean and not self._options.force:
            evaluation = self._svc._observer.evaluate(
                self._graph.stages[name], assumed=self._assumed
            )
            if evaluation.decision.action is change.Action.SKIP:
                self._finish(name, Status.SKIPPED)
                return
        self._finish(
            name,
            Status.BLOCKED,
            message="not started: an earlier stage failed "
            + "(use --keep-going to run independent stages)",
        )

    def _pass_output(self, name: str, *, final: bool = False) -> None:
        for line in self._svc._logs.read_new(name, final=final):
            self._svc._sink.emit(events.StageOutput(name, line))

    def _launch(self) -> None:
        while self._ready and not self._stopped:
            name = next(
                (n for n in self._ready if not set(self._graph.stages[n].mutex) & self._mutex_held),
                None,
            )
            if name is None or len(self._running) >= self._jobs:
                return
            self._ready.remove(name)
            self._start(name)

    def _start(self, name: str) -> None:
        st = self._graph.stages[name]
        evaluation = self._svc._observer.evaluate(
            st, force=self._options.force, assumed=self._assumed
        )
        self._params[name] = dict(evaluation.observation.params)
        # Only a dry run leaves upstream stages unrun; a real run observes their new outputs.
        decision = change.with_upstream(
            evaluation.decision,
            (up for up in self._graph.upstream[name] if self._done.get(up) is Status.WOULD_RUN),
        )
        match decision.action:
            case change.Action.SKIP:
                self._finish(name, Status.SKIPPED)
                return
            case change.Action.RESTORE:
                corrupt = self._corrupt_objects(evaluation)
                if not corrupt and self._options.dry_run:
                    self._assumed.update(observe.restored_paths(evaluation))
                    self._finish(name, Status.SKIPPED, message="would restore from cache")
                    return
                if not corrupt:
                    self._restore(st, evaluation)
                    return
                decision = change.Decision(change.Action.RUN, corrupt)
            case change.Action.RUN:
                pass
        if self._options.dry_run:
            self._finish(name, Status.WOULD_RUN, decision.reasons)
            return
        missing = [p for p, d in evaluation.observation.deps.items() if d is None]
        if missing:
            self._finish(
                name,
                Status.FAILED,
                decision.reasons,
                message="missing dependencies: "
                + ", ".join(missing)
                + " (no stage produces them; create them or track them with `pivot track`)",
            )
            return
        if (
            self._run_cache_enabled(st)
            and not self._options.force
            and self._from_run_cache(st, evaluation)
        ):
            return
        self._svc._sink.emit(events.StageStarted(name, decision.reasons))
        job = stage_job.job_for(
            st,
            self._svc._cache,
            self._svc._hasher,
            store_outputs=not self._options.no_commit,
            store_uncached=self._run_cache_enabled(st),
            previous=_previous_versions(st, evaluation),
        )
        future = self._svc._executor.submit(
            stage_job.run,
            job,
            import_root=st.root,
            resources=dict(st.resources),
            output=self._svc._logs.start(name),
        )
        self._running[future] = dataclasses.replace(evaluation, decision=decision)
        self._mutex_held.update(st.mutex)

    def _corrupt_objects(self, evaluation: observe.Evaluation) -> tuple[change.Reason, ...]:
        """Reasons to run instead: outputs whose cache objects fail re-hashing."""
        assert evaluation.record is not None
        reasons: list[change.Reason] = []
        for ident in evaluation.decision.restore:
            if self._intact(evaluation.record["outs"][ident]["hash"]):
                continue
            reasons.append(
                change.Reason(
                    change.ReasonKind.OUTPUT_MISSING,
                    ident,
                    detail="missing, and its cache object is corrupt (quarantined)",
                )
            )
        return tuple(reasons)

    def _intact(self, digest: str) -> bool:
        """Whether the cache holds `digest` intact; quarantines it if corrupt. Objects were
        verified when they entered the cache: re-hashed again only when restores may share
        bytes with the cache (hardlink, symlink), else the cheap check (ADR 0021)."""
        rehash = not content_cache.SHARING_LINK_MODES.isdisjoint(self._svc._link_modes)
        try:
            if self._svc._cache.verify(digest, rehash=rehash):
                return True
        except errors.CacheMissError:
            return False
        if not self._options.dry_run:
            self._svc._cache.quarantine(digest)
        return False

    def _restore(self, st: stage.Stage, evaluation: observe.Evaluation) -> None:
        assert evaluation.record is not None
        restored: list[str] = []
        for ident in evaluation.decision.restore:
            out = evaluation.record["outs"][ident]
            path = st.output_path(ident)
            if path is None:
                raise errors.LockFileError(f"stage '{st.name}': '{ident}' is not an output")
            self._svc._workspace.restore(path, out["hash"], self._svc._link_modes)
            restored.append(f"{ident} → {paths.relative(path, self._svc._root)}")
        self._finish(st.name, Status.SKIPPED, message="restored from cache: " + ", ".join(restored))

    def _run_cache_enabled(self, st: stage.Stage) -> bool:
        return not self._options.no_commit and run_cache.applies(st)

    def _from_run_cache(self, st: stage.Stage, evaluation: observe.Evaluation) -> bool:
        """Restore the outputs of an earlier run with the same inputs; False on a miss."""
        outs = self._svc._run_cache.lookup(st, evaluation.observation)
        if outs is None:
            return False
        if not all(self._intact(out["hash"]) for out in outs.values()):
            return False
        if any(st.output_path(ident) is None for ident in outs):
            return False
        for ident, out in outs.items():
            path = st.output_path(ident)
            assert path is not None
            modes = self._svc._link_modes if out["cached"] else (content_cache.LinkMode.COPY,)
            self._svc._workspace.restore(path, out["hash"], modes)
            self._remember(path, out["hash"])
        produced = {ident: out["hash"] for ident, out in outs.items()}
        self._svc._locks.write(st, observe.lock_from_digests(st, evaluation.observation, produced))
        self._finish(
            st.name, Status.RESTORED, evaluation.decision.reasons, message="restored (run cache)"
        )
        return True

    def _ignore_data(self) -> None:
        """Cached outputs are data, never committed; metrics and `cache=False` outputs are.

        Written for every selected stage before any runs: one write per directory, and no
        lock record can become durable before its output's ignore line."""
        self._svc._workspace.ignore(
            *(
                out.path
                for name in self._selected
                for out in self._graph.stages[name].outs
                if out.cached
            )
        )

    def _remember(self, path: pathlib.Path, digest: str) -> None:
        """Memoise restored files' digests so the next run does not re-read them."""
        manifest = self._svc._cache.read_tree(digest) if path.is_dir() else None
        self._svc._observer.digests.remember_restored(path, digest, manifest)

    def _complete(
        self,
        evaluation: observe.Evaluation,
        future: concurrent.futures.Future[stage_job.StageOutcome],
    ) -> None:
        st = evaluation.stage
        self._mutex_held.difference_update(st.mutex)
        try:
            outcome = future.result()
        except BaseException as exc:  # worker died, job could not be transferred, ...
            outcome = stage_job.StageOutcome(st.name, False, error=f"{type(exc).__name__}: {exc}")
        self._pass_output(st.name, final=True)
        log = self._svc._logs.publish(st.name, "" if outcome.ok else outcome.error) or ""
        if not outcome.ok:
            self._finish(
                st.name,
                Status.FAILED,
                evaluation.decision.reasons,
                outcome.error,
                duration=outcome.duration,
                log=log,
            )
            return
        self._metrics[st.name] = outcome.metrics or {}
        for result in outcome.outputs:
            for key, stamp, digest in result.stamps:
                self._svc._observer.digests.remember(key, stamp, digest)
        if not self._options.no_commit:
            record = observe.lock_record(st, evaluation.observation, outcome)
            self._svc._locks.write(st, record)
            if self._run_cache_enabled(st):
                self._svc._run_cache.record(st, evaluation.observation, record)
        self._finish(
            st.name, Status.RAN, evaluation.decision.reasons, duration=outcome.duration, log=log
        )

    def _finish(
        self,
        name: str,
        status: Status,
        reasons: tuple[change.Reason, ...] = (),
        message: str = "",
        *,
        duration: float = 0.0,
        log: str = "",
    ) -> None:
        self._done[name] = status
        self._history.append(
            history.StageRun(
                name=name,
                status=str(status),
                duration=duration,
                reasons=[r.describe() for r in reasons],
                params=self._params.get(name, {}),
                metrics=self._metrics.get(name, {}),
            )
        )
        self._svc._sink.emit(events.StageFinished(name, status, reasons, message, duration, log))
        if status is Status.FAILED and not self._options.keep_going:
            self._stopped = True
        for child in self._graph.ordered(self._graph.downstream[name]):
            waiting = self._waiting.get(child)
            if waiting is None or name not in waiting or child in self._done:
                continue
            waiting.discard(name)
            if status in (Status.FAILED, Status.BLOCKED):
                self._finish(
                    child,
                    Status.BLOCKED,
                    message=f"upstream stage '{name}' "
                    + ("failed" if status is Status.FAILED else "was blocked"),
                )
            elif not waiting and child not in self._done:
                self._ready.append(child)


def _previous_versions(st: stage.Stage, evaluation: observe.Evaluation) -> Mapping[str, str]:
    """Last recorded digest of each IncrementalOut, restored writable before the run."""
    if evaluation.record is None:
        return {}
    recorded = evaluation.record["outs"]
    return {
        ident: recorded[ident]["hash"]
        for o in st.outs
        if o.kind is specs.OutKind.INCREMENTAL and (ident := st.record_key(o)) in recorded
    }
