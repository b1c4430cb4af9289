import contextlib
import sys
from typing import TYPE_CHECKING, Annotated, Any

import cyclopts

from pivot.cli import arguments, output
from pivot.ports import progress as progress_port

if TYPE_CHECKING:
    from pivot.app import gc as gc_app


def gc(
    *,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    all_commits: bool = False,
    remote: bool = False,
    remote_name: Annotated[str | None, cyclopts.Parameter(name=["-r", "--remote-name"])] = None,
    no_wait: arguments.NoWait = False,
    json: arguments.Json = False,
    session: arguments.Injected,
) -> int:
    """Delete cache objects no lock record or .pvt file in the workspace refers to.

    Asks before deleting (on a terminal); waits while another command, such as a run, is
    writing to the project.

    Parameters
    ----------
    dry_run
        Show what would be removed; remove nothing.
    force
        Delete without asking (needed when stdin is not a terminal, e.g. in scripts and CI).
    all_commits
        Also keep what lock and .pvt files in any git commit on any branch refer to.
    remote
        Collect on the remote instead of the local cache: delete its objects nothing here
        refers to (what teammates pushed from other branches too, unless --all-commits).
    remote_name
        With --remote: which remote; default: core.remote.
    """
    if remote_name is not None and not remote:
        from pivot.domain import errors

        raise errors.PivotError("-r/--remote-name needs --remote (gc on a remote)")
    where = "remote" if remote else "cache"
    if dry_run:
        container = session.container(remote=remote_name)
        report = _collect(container, remote, dry_run=True, all_commits=all_commits)
    else:
        progress = _LateProgress()
        with (
            session.writing("pivot gc", no_wait=no_wait, remote=remote_name) as container,
            contextlib.ExitStack() as bar,
        ):

            def confirm(plan: "gc_app.GcReport") -> bool:
                # The bar starts only after the question: it would draw over the prompt.
                if not _ask(plan, force, where):
                    return False
                progress.target = bar.enter_context(output.progress_bar("removing"))
                return True

            report = _collect(
                container, remote, all_commits=all_commits, confirm=confirm, progress=progress
            )
    if json:
        output.print_json(
            {
                "dry_run": report.dry_run,
                "declined": report.declined,
                "removed": [] if report.declined else list(report.removed),
                "bytes_freed": 0 if report.declined else report.bytes_freed,
                "kept": report.kept,
                "git_commits": report.git_commits,
            }
        )
        return 1 if report.declined else 0
    if report.git_commits is not None:
        output.say(f"Keeping objects referenced by {report.git_commits} git commit(s).")
    if report.declined:
        output.say("Nothing removed.")
        return 1
    for digest in report.removed:
        output.detail(f"{'would remove' if report.dry_run else 'removed'}: {digest}")
    verb = "Would remove" if report.dry_run else "Removed"
    what = "remote object(s)" if remote else "object(s), " + output.human_size(report.bytes_freed)
    output.say(f"{verb} {len(report.removed)} {what}; kept {report.kept}.")
    return 0


def _collect(container: Any, remote: bool, **options: Any) -> "gc_app.GcReport":
    service = container.gc_service()
    pipe = container.pipeline_if_any()
    if remote:
        return service.gc_remote(pipe, container.transfer_service(), **options)
    return service.gc(pipe, **options)


class _LateProgress:
    """Forwards to `target`, set once the removal is confirmed (the null progress until then)."""

    def __init__(self) -> None:
        self.target: progress_port.Progress = progress_port.NULL

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        self.target.add_total(files, nbytes)

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self.target.advance(files, nbytes)


def _ask(plan: "gc_app.GcReport", force: bool, where: str) -> bool:
    if force:
        return True
    what = f"{len(plan.removed)} unreferenced {where} object(s)"
    command = "pivot gc --remote" if where == "remote" else "pivot gc"
    if where == "cache":
        what += f", {output.human_size(plan.bytes_freed)}"
    if not sys.stdin.isatty():
        from pivot.domain import errors

        raise errors.PivotError(
            f"gc would delete {what}, and stdin is not a terminal to ask; nothing was "
            + f"removed (run `{command} --force` to delete them, `{command} --dry-run` to "
            + "list them)"
        )
    try:
        answer = input(f"Delete {what}? They cannot be restored. [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}
