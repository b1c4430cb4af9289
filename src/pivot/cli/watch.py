import json as json_mod
import pathlib
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pivot.cli import output

if TYPE_CHECKING:
    from pivot.cli import session as session_mod
    from pivot.domain import watch as watch_mod

INTERRUPTED = 130


class _Reporter:
    """The watcher's own lines: text on stderr, or JSON objects on stdout with `--json`."""

    def __init__(self, root: pathlib.Path, *, json: bool) -> None:
        self._root = root
        self._json = json

    def watching(self, found: "watch_mod.WatchSet | watch_mod.Everything") -> None:
        if self._json:
            self._emit({"event": "watching", "files": found.size})
        elif not output.Verbosity.quiet:
            what = f"{found.size} files" if found.size else "the project"
            print(f"pivot: watching {what} for changes (Ctrl-C to stop)", file=sys.stderr)

    def changed(self, paths: Sequence[pathlib.Path]) -> None:
        shown = sorted({p.relative_to(self._root).as_posix() for p in paths})
        if self._json:
            self._emit({"event": "changed", "paths": shown})
        elif not output.Verbosity.quiet:
            more = f" (+{len(shown) - 3} more)" if len(shown) > 3 else ""
            print(f"pivot: changed: {', '.join(shown[:3])}{more}", file=sys.stderr)

    def error(self, message: str) -> None:
        if self._json:
            self._emit({"event": "watch_error", "message": message})
        print(f"pivot: error: {message} (still watching: save a fix to re-run)", file=sys.stderr)

    def _emit(self, data: dict[str, object]) -> None:
        print(json_mod.dumps(data, sort_keys=True), flush=True)


def watch(
    session: "session_mod.Session",
    run_args: Sequence[str],
    *,
    first: Sequence[str] = (),
    debounce_ms: int,
    json: bool,
) -> int:
    """Run, then re-run whenever a file the pipeline depends on changes; Ctrl-C stops."""
    import watchfiles

    from pivot import api
    from pivot.domain import errors
    from pivot.domain import watch as watch_mod

    project = api.Project.open(session.cwd)
    root = project.root
    report = _Reporter(root, json=json)
    current: list[watch_mod.WatchSet | watch_mod.Everything] = [watch_mod.Everything(root)]

    extra = list(first)

    def cycle() -> bool:
        """Load the pipeline; if it loads, run it. False when the run was interrupted."""
        try:
            current[0] = project.watch_set()
        except errors.PivotError as exc:
            report.error(str(exc))
            current[0] = watch_mod.Everything(root, current[0].outputs)
            report.watching(current[0])
            return True
        if not _run_child(session, [*run_args, *extra]):
            return False
        extra.clear()
        report.watching(current[0])
        return True

    # One watcher for the whole session: changes made while a run is going are kept and
    # start the next run; the run's own outputs are filtered out.
    batches = watchfiles.watch(
        root,
        watch_filter=lambda _, path: current[0].matters(pathlib.Path(path)),
        debounce=debounce_ms,
        step=50,
        rust_timeout=1000,
        yield_on_timeout=True,
    )
    try:
        next(batches)  # the watcher is set up: no save from now on is missed
        if not cycle():
            return INTERRUPTED
        for changes in batches:
            if not changes:
                continue
            report.changed([pathlib.Path(p) for _, p in changes])
            if not cycle():
                return INTERRUPTED
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        batches.close()
        project.close()
    return 0


def _run_child(session: "session_mod.Session", run_args: Sequence[str]) -> bool:
    """One `pivot run` in a fresh process, so every edited module is imported anew (here and
    in its worker processes). False when interrupted: the run gets the signal, stops its
    stages and records nothing half-done; we wait for it."""
    flags = [*(["--debug"] if session.debug else []), *(["-q"] if output.Verbosity.quiet else [])]
    flags += ["-v"] if output.Verbosity.verbose else []
    child = subprocess.Popen(
        [sys.executable, "-m", "pivot", *flags, "run", *run_args], cwd=session.cwd
    )
    try:
        child.wait()
    except KeyboardInterrupt:
        try:
            child.wait(timeout=2)  # a terminal's Ctrl-C reached the run too
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGINT)
            child.wait()
        return False
    return True
