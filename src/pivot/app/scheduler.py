import collections
import concurrent.futures
import time
from collections.abc import Sequence

from pivot.app import stage_handler, stage_job
from pivot.domain import dag, events
from pivot.ports import event_sink, executor, lock_store, stage_log

Status = events.StageStatus
# How often the output of running stages is passed on while waiting for one to finish.
_OUTPUT_POLL_SECONDS = 0.1
# Group commit: the lock records of finished stages are made durable together, at most this
# long after the stage finished (one filesystem sync per batch, not one per stage).
_COMMIT_SECONDS = 0.5

_Job = concurrent.futures.Future[stage_job.StageOutcome]


class Scheduler:
    """Runs stages in dependency order, greedily in parallel up to `jobs`: the loop only.

    What happens to one stage (decide, restore, build its job, record it) is the handler's;
    this class keeps the ready set (in-degree bookkeeping, linear in stages + edges), mutex
    groups, fail-fast / keep-going, the executor's queue, output passing and group commits.
    """

    def __init__(
        self,
        graph: dag.Dag,
        order: Sequence[str],
        *,
        handler: stage_handler.StageHandler,
        executor_: executor.Executor,
        sink: event_sink.EventSink,
        logs: stage_log.StageLog = stage_log.NONE,
        locks: lock_store.LockStore,
        jobs: int | None = None,
        keep_going: bool = False,
    ) -> None:
        """`order`: the stages of the run in topological order; `locks` is flushed now and
        then (group commit) while the run goes on."""
        self._graph = graph
        self._order = tuple(order)
        self._handler = handler
        self._executor = executor_
        self._sink = sink
        self._logs = logs
        self._locks = locks
        self._keep_going = keep_going
        self._jobs = max(1, jobs or executor_.max_workers)
        # Submit ahead: when the executor itself bounds concurrency at `jobs`, keep one more job
        # per worker queued so a worker never idles while the scheduler handles a completion.
        self._in_flight = self._jobs * 2 if self._jobs == executor_.max_workers else self._jobs
        chosen = set(self._order)
        self._waiting = {n: len(graph.upstream[n] & chosen) for n in self._order}
        self._ready = collections.deque(n for n in self._order if not self._waiting[n])
        self._done: dict[str, stage_handler.Finished] = {}
        self._running: dict[_Job, stage_handler.Launch] = {}
        self._queued: dict[str, _Job] = {}
        """Submitted, not yet announced as started (oldest first): more than `jobs` are in the
        executor, and the workers take them in order."""
        self._announced = 0
        self._mutex_held: set[str] = set()
        self._stopped = False
        self._committed = time.monotonic()
        self._polled = time.monotonic()

    @property
    def parallel(self) -> bool:
        """Whether more than one stage can run at once (output lines need the stage name)."""
        return self._jobs > 1 and len(self._order) > 1

    def run(self) -> list[stage_handler.Finished]:
        """Run until every stage has finished (or was blocked); the stages as they finished."""
        # A pool need not start a worker per CPU for a run of fewer stages (one trivial stage:
        # one worker starting, not one per core competing with it for the CPU).
        if self._order:
            self._executor.expect(min(self._jobs, len(self._order)))
        self._loop()
        for name in self._order:
            if name not in self._done:
                self._not_started(name)
        return list(self._done.values())

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
            now = time.monotonic()
            if now - self._polled >= _OUTPUT_POLL_SECONDS:
                self._polled = now
                for launch in self._running.values():
                    self._pass_output(launch.stage.name)
            # In submission order: a queued job is announced when one before it finishes.
            for future in [f for f in self._running if f in finished]:
                self._complete(self._running.pop(future), future)
            if now - self._committed >= _COMMIT_SECONDS:
                self._locks.flush()
                self._committed = time.monotonic()

    def _launch(self) -> None:
        skipped: list[str] = []
        while self._ready and not self._stopped and len(self._running) < self._in_flight:
            name = self._ready.popleft()
            if self._mutex_held.intersection(self._graph.stages[name].mutex):
                skipped.append(name)
                continue
            future = self._start(name)
            if future is not None and future.done():
                break  # finished at once (an inline executor): complete it before the next
        self._ready.extendleft(reversed(skipped))

    def _start(self, name: str) -> _Job | None:
        st = self._graph.stages[name]
        would_run = (
            up for up in self._graph.upstream[name] if self._status(up) is Status.WOULD_RUN
        )
        step = self._handler.start(st, upstream_would_run=would_run)
        if isinstance(step, stage_handler.Finished):
            self._finish(step)
            return None
        future = self._executor.submit(
            stage_job.run,
            step.job,
            import_root=st.root,
            resources=dict(st.resources),
            output=self._logs.start(name),
        )
        self._running[future] = step
        self._mutex_held.update(st.mutex)
        self._queued[name] = future
        self._announce()
        return future

    def _announce(self) -> None:
        """StageStarted for submitted jobs as workers can take them (at most `jobs` running)."""
        while self._queued and self._announced < self._jobs:
            name = next(iter(self._queued))
            launch = self._running[self._queued.pop(name)]
            self._announced += 1
            self._sink.emit(events.StageStarted(name, launch.reasons))

    def _withdraw(self) -> None:
        """After a failure (fail-fast): take back the jobs no worker has started yet."""
        for name, future in list(self._queued.items()):
            if future.cancel():
                launch = self._running.pop(future)
                del self._queued[name]
                self._mutex_held.difference_update(launch.stage.mutex)

    def _status(self, name: str) -> Status | None:
        done = self._done.get(name)
        return None if done is None else done.status

    def _pass_output(self, name: str, *, final: bool = False) -> None:
        for line in self._logs.read_new(name, final=final):
            self._sink.emit(events.StageOutput(name, line))

    def _complete(self, launch: stage_handler.Launch, future: _Job) -> None:
        st = launch.stage
        self._mutex_held.difference_update(st.mutex)
        if self._queued.pop(st.name, None) is not None:
            # Finished before a worker was known to be free for it: announce it now.
            self._sink.emit(events.StageStarted(st.name, launch.reasons))
        else:
            self._announced -= 1
        try:
            outcome = future.result()
        except BaseException as exc:  # worker died, job could not be transferred, ...
            outcome = stage_job.StageOutcome(st.name, False, error=f"{type(exc).__name__}: {exc}")
        self._pass_output(st.name, final=True)
        log = self._logs.publish(st.name, "" if outcome.ok else outcome.error) or ""
        self._finish(self._handler.complete(launch, outcome, log=log))
        self._announce()

    def _not_started(self, name: str) -> None:
        upstream_clean = all(
            self._status(up) is Status.SKIPPED
            for up in self._graph.upstream[name]
            if up in self._waiting
        )
        self._finish(
            self._handler.not_started(self._graph.stages[name], upstream_clean=upstream_clean)
        )

    def _finish(self, first: stage_handler.Finished) -> None:
        todo = [first]
        # Blocked, about to be finished: a second failed parent must not block them again.
        claimed: set[str] = set()
        while todo:
            done = todo.pop()
            name, status = done.name, done.status
            self._done[name] = done
            self._sink.emit(
                events.StageFinished(
                    name, status, done.reasons, done.message, done.duration, done.log
                )
            )
            if status is Status.FAILED and not self._keep_going and not self._stopped:
                self._stopped = True
                self._withdraw()
            blocked: list[stage_handler.Finished] = []
            for child in self._graph.ordered(self._graph.downstream[name]):
                if child not in self._waiting or child in self._done or child in claimed:
                    continue
                self._waiting[child] -= 1
                if status in (Status.FAILED, Status.BLOCKED):
                    claimed.add(child)
                    blocked.append(
                        stage_handler.Finished(
                            child,
                            Status.BLOCKED,
                            message=f"upstream stage '{name}' "
                            + ("failed" if status is Status.FAILED else "was blocked"),
                        )
                    )
                elif not self._waiting[child]:
                    self._ready.append(child)
            todo.extend(reversed(blocked))
