import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

import cyclopts

from pivot.cli import arguments, output

if TYPE_CHECKING:
    from pivot import container as container_mod
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
    """
    from pivot.app import run as run_app
    from pivot.domain import errors

    if jobs is not None and jobs < 1:
        raise errors.PivotError(f"--jobs must be at least 1, got {jobs}")
    if not dry_run and (executor or session.executor_name()) == "dask":
        _preload("distributed")
    with (
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
            output="json" if json else "console",
            explain=explain or dry_run or output.Verbosity.verbose,
            quiet=output.Verbosity.quiet,
            event_stream=event_stream,
            # The live lines share the terminal with stdout; an inline executor captures the
            # stage's stderr in this very process, so it would capture the live lines too.
            live=not json
            and output.interactive()
            and sys.stdout.isatty()
            and os.environ.get("PIVOT_EXECUTOR", "loky") != "inline",
        ) as container,
    ):
        try:
            summary = container.run_service().run(
                container.pipeline(),
                run_app.RunOptions(
                    stages=stages,
                    force=force,
                    dry_run=dry_run,
                    jobs=jobs,
                    keep_going=keep_going,
                    single_stage=single_stage,
                    no_commit=no_commit,
                ),
            )
        finally:
            container.sink().close()
    return 0 if summary.ok else 1


def _container(
    session: "session_mod.Session", *, dry_run: bool, no_wait: bool, **options: Any
) -> "contextlib.AbstractContextManager[container_mod.Container]":
    """A dry run writes nothing, so it reads like `status` and never takes the project lock."""
    if dry_run:
        return contextlib.nullcontext(session.container(**options))
    return session.writing("pivot run", no_wait=no_wait, **options)


def _preload(module: str) -> None:
    """Import `module` on a thread while the project loads (the Dask client: ~0.5 s of imports).

    Nothing is connected or started: a run with nothing to do still never touches the cluster.
    A missing package is left for the executor to report in its own words.
    """

    def load() -> None:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)

    threading.Thread(target=load, name=f"pivot-preload-{module}").start()


@contextlib.contextmanager
def _stdout_for_events(reserve: bool) -> Iterator[TextIO | None]:
    """With `--json`, stdout carries only events: everything else written to it goes to stderr.

    Stages print, shell commands write to fd 1, worker processes inherit it: all of that is
    pointed at stderr, and the events get a private copy of the real stdout.
    """
    if not reserve:
        yield None
        return
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
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
