import contextlib
import importlib
import json as json_mod
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

import cyclopts

from pivot.cli import arguments, output

if TYPE_CHECKING:
    from pivot import container as container_mod
    from pivot.app import run as run_app
    from pivot.cli import session as session_mod


def run(
    *stages: str,
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    explain: bool = False,
    jobs: Annotated[int | None, cyclopts.Parameter(name=["--jobs", "-j"])] = None,
    keep_going: Annotated[bool, cyclopts.Parameter(name=["--keep-going", "-k"])] = False,
    single_stage: Annotated[bool, cyclopts.Parameter(name=["--single-stage", "-s"])] = False,
    json: bool = False,
    no_commit: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    executor: Literal["loky", "inline", "dask"] | None = None,
    scheduler: str | None = None,
    no_wait: arguments.NoWait = False,
    no_shared_fs: bool = False,
    pull: bool = False,
    push: bool = False,
    remote: Annotated[str | None, cyclopts.Parameter(name=["--remote", "-r"])] = None,
    watch: bool = False,
    debounce: int = 300,
    no_fast: arguments.NoFast = False,
    session: arguments.Injected,
) -> int:
    """Run stale stages (all, or the named STAGES and their stale upstream).

    Parameters
    ----------
    stages
        Stage names or globs (`train@*`); default: every stage.
    force
        Run the selected stages even if they are up to date.
    dry_run
        Print what would run and why; run nothing, write nothing.
    explain
        Print every reason a stage runs (also with -v).
    jobs
        Stages to run at once (default: number of CPUs).
    keep_going
        After a failure keep running stages that do not depend on it.
    single_stage
        Run only the named stages, not their upstream.
    json
        Print JSON Lines events (stage_started, stage_finished, summary).
    no_commit
        Write no lock records and no cache objects; record later with `pivot commit`.
    executor
        Where stage bodies run: `loky` (warm local worker processes, the default), `inline`
        (this process; for debugging) or `dask` (a Dask cluster; `pip install 'pivot[dask]'`).
        Default: `run.executor` in .pivot/config.yaml (or $PIVOT_EXECUTOR), else loky.
    scheduler
        With `--executor dask`: the scheduler's address (`tcp://host:8786`); without it Pivot
        starts a local cluster of -j worker processes. Default: `run.scheduler` in
        .pivot/config.yaml, or $PIVOT_DASK_SCHEDULER.
    no_shared_fs
        With `--executor dask`: the workers do not see the project directory. Each stage's
        inputs go to the default remote, the worker runs the stage in a scratch directory and
        uploads its outputs, and Pivot downloads and places them (`run.shared_fs: false`).
    pull
        Before running, decide per stage from its lock record and the run caches (local and
        the remote's) whether it must run; download only the outputs the targets need and the
        inputs of stages that must run — nothing upstream of a stage the remote already has.
    push
        After a successful run, upload its stages' outputs, the tracked data they read and
        their run-cache entries.
    remote
        The remote for --pull / --push; default: core.remote.
    watch
        Keep running: after the first run, watch the files the pipeline depends on (deps,
        params, definitions and the source files each stage's code reaches) and re-run on
        every save. Only what the edit changed runs (an edited comment runs nothing); the
        stages' own outputs never start a run. Ctrl-C stops.
    debounce
        With --watch: milliseconds of quiet after a change before re-running (default 300).

    When nothing changed since the last `pivot run` of the same targets, the answer comes from
    a snapshot of file stamps without loading the pipeline (see `--no-fast`).
    """
    del no_fast  # read from the command line by the fast path, before parsing
    from pivot.app import run as run_app
    from pivot.cli import fast
    from pivot.domain import errors, events

    if jobs is not None and jobs < 1:
        raise errors.PivotError(f"--jobs must be at least 1, got {jobs}")
    if watch:
        if dry_run:
            raise errors.PivotError("--watch runs stages; drop --dry-run (or --watch)")
        if debounce < 0:
            raise errors.PivotError(f"--debounce is milliseconds, at least 0; got {debounce}")
        from pivot.cli import watch as watch_mod

        repeat = [
            *stages,
            *(["--explain"] if explain else []),
            *([f"--jobs={jobs}"] if jobs is not None else []),
            *(["--keep-going"] if keep_going else []),
            *(["--single-stage"] if single_stage else []),
            *(["--json"] if json else []),
            *(["--no-commit"] if no_commit else []),
            *(["--all"] if all_pipelines else []),
            *([f"--executor={executor}"] if executor else []),
            *([f"--scheduler={scheduler}"] if scheduler else []),
            *(["--no-wait"] if no_wait else []),
            *(["--no-shared-fs"] if no_shared_fs else []),
            *(["--pull"] if pull else []),
            *(["--push"] if push else []),
            *([f"--remote={remote}"] if remote else []),
        ]
        # --force applies to the first run; later runs run what the edit made stale.
        first = ["--force"] if force else []
        return watch_mod.watch(session, repeat, first=first, debounce_ms=debounce, json=json)
    loading = (
        _preload("distributed")
        if not dry_run and (executor or session.executor_name()) == "dask"
        else None
    )
    with (
        _joined(loading),
        _stdout_for_events(json) as event_stream,
        _container(
            session,
            dry_run=dry_run,
            no_wait=no_wait,
            jobs=jobs,
            scheduler=scheduler,
            **({"shared_fs": False} if no_shared_fs else {}),
            **({"executor": executor} if executor else {}),
            all_pipelines=all_pipelines,
            remote=remote,
            output="json" if json else "console",
            explain=explain or dry_run or output.Verbosity.verbose,
            quiet=output.Verbosity.quiet,
            event_stream=event_stream,
            record_events=not dry_run,
            # The live lines share the terminal with stdout; an inline executor captures the
            # stage's stderr in this very process, so it would capture the live lines too.
            live=not json
            and output.interactive()
            and sys.stdout.isatty()
            and os.environ.get("PIVOT_EXECUTOR", "loky") != "inline",
        ) as container,
    ):
        pipe = container.pipeline()
        options = run_app.RunOptions(
            stages=stages,
            force=force,
            dry_run=dry_run,
            jobs=jobs,
            keep_going=keep_going,
            single_stage=single_stage,
            no_commit=no_commit,
        )
        scope = None
        try:
            if pull:
                scope = _pull(container, pipe, options, event_stream)
                if scope is None:
                    return 1
                if dry_run:
                    return 0
            summary = container.run_service().run(pipe, options, scope)
        finally:
            container.sink().close()
        if not summary.ok:
            return 1
        skipped = summary.counts.get(events.StageStatus.SKIPPED, 0)
        if not (dry_run or force or no_commit or pull or push) and skipped == sum(
            summary.counts.values()
        ):
            if json:
                # As the JSON Lines sink writes it; the replay's value has the same precision.
                took = json_mod.dumps(round(summary.duration, 6))
                fast.note_noop(container, f'"duration": {took}', '"duration": {:.6f}')
            else:
                fast.note_noop(container, f"in {summary.duration:.2f}s")
        if push and not dry_run:
            return _push(container, pipe, options, scope, event_stream)
    return 0


def _pull(
    container: "container_mod.Container", pipe: Any, options: Any, events: TextIO | None
) -> "run_app.Scope | None":
    """Fetch what the run needs (see `pivot run --help`); None when a download failed.
    With `events` (--json) the verdicts and the fetch are JSON Lines events there."""
    planner = container.pull_planner()
    plan = planner.plan(pipe, options)
    if options.dry_run:
        for name, verdict in plan.verdicts.items():
            if events is not None:
                _event(events, {"event": "verdict", "stage": name, "verdict": str(verdict)})
            else:
                print(f"{name}: {_VERDICT_TEXT[verdict]}", file=sys.stderr)
        preview = planner.apply(plan, jobs=container.transfer_jobs(), dry_run=True)
        _say(preview, events, "pull")
        return plan.scope
    with output.progress_bar(f"pulling from {planner.remote_name}") as progress:
        report = planner.apply(plan, jobs=container.transfer_jobs(), progress=progress)
    _say(report, events, "pull")
    if report.failures:
        print("pivot: error: not running: some inputs could not be fetched", file=sys.stderr)
        return None
    return plan.scope


def _push(
    container: "container_mod.Container",
    pipe: Any,
    options: "run_app.RunOptions",
    scope: "run_app.Scope | None",
    events: TextIO | None,
) -> int:
    """Upload the outputs of the stages the run covered, the tracked data they read and their
    run-cache entries."""
    from pivot.app import targets, transfer
    from pivot.domain import dag

    if scope is None:
        graph = dag.build(pipe.stages, container.project_root())
        chosen = targets.select(graph, options.stages, single_stage=options.single_stage)
    else:
        chosen = scope.stages
    service = container.transfer_service()
    with output.progress_bar(f"pushing to {service.remote_name}") as progress:
        report = service.push(
            pipe,
            transfer.TransferOptions(
                targets=tuple(sorted(chosen)), with_deps=True, jobs=container.transfer_jobs()
            ),
            cwd=container.config.cwd(),
            progress=progress,
        )
    _say(report, events, "push")
    return 1 if report.failures else 0


def _say(report: Any, events: TextIO | None, name: Literal["pull", "push"]) -> None:
    """Failures and the one summary line on stderr (stdout belongs to the run's events); with
    --json also an event (`pull` or `push`) carrying the counts and failures."""
    from pivot.cli import transfer_cmd

    for failure in report.failures:
        print(f"failed: {failure.label}: {failure.reason}", file=sys.stderr)
    if events is not None:
        _event(events, {"event": name, **report.to_json(), "ok": not report.failures})
    elif not output.Verbosity.quiet or report.failures:
        print(transfer_cmd.summary(report), file=sys.stderr)


def _event(events: TextIO, data: dict[str, Any]) -> None:
    """One JSON Lines event, written as the run's sink writes its own."""
    events.write(json_mod.dumps(data, sort_keys=True) + "\n")
    events.flush()


_VERDICT_TEXT = {
    "recorded": "up to date on the remote (lock record)",
    "run_cache": "from the run cache",
    "run": "would run",
}


def _container(
    session: "session_mod.Session", *, dry_run: bool, no_wait: bool, **options: Any
) -> "contextlib.AbstractContextManager[container_mod.Container]":
    """A dry run writes nothing, so it reads like `status` and never takes the project lock."""
    if dry_run:
        return contextlib.nullcontext(session.container(**options))
    return session.writing("pivot run", no_wait=no_wait, **options)


def _preload(module: str) -> threading.Thread:
    """Import `module` on a thread while the project loads (the Dask client: ~0.5 s of imports).

    Nothing is connected or started: a run with nothing to do still never touches the cluster.
    A missing package is left for the executor to report in its own words.
    """

    def load() -> None:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)

    thread = threading.Thread(target=load, name=f"pivot-preload-{module}")
    thread.start()
    return thread


@contextlib.contextmanager
def _joined(thread: threading.Thread | None) -> Iterator[None]:
    """Wait for `thread` on the way out, error or not: an import still running when the
    interpreter shuts down printed a traceback (distributed starts work as it is imported)."""
    try:
        yield
    finally:
        if thread is not None:
            thread.join()


@contextlib.contextmanager
def _stdout_for_events(reserve: bool) -> Iterator[TextIO | None]:
    """With `--json`, stdout carries only events: everything else written to it goes to stderr.

    Stages print, shell commands write to fd 1, worker processes inherit it: all of that is
    pointed at stderr, and the events get a private copy of the real stdout.
    """
    if not reserve:
        yield None
        return
    from pivot.cli import fast

    sys.stdout.flush()
    events = fast.recorded(os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8"))
    saved_fd, saved_stdout = os.dup(1), sys.stdout
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        yield events
    finally:
        events.flush()
        sys.stdout = saved_stdout
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        events.close()
