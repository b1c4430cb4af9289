import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import cyclopts

from pivot.cli import arguments

if TYPE_CHECKING:
    from pivot.app import gc as gc_app


def gc(
    *,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    all_commits: bool = False,
    no_wait: arguments.NoWait = False,
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
    """
    if dry_run:
        container = session.container()
        report = container.gc_service().gc(
            container.pipeline_if_any(), dry_run=True, all_commits=all_commits
        )
    else:
        with session.writing("pivot gc", no_wait=no_wait) as container:
            report = container.gc_service().gc(
                container.pipeline_if_any(), all_commits=all_commits, confirm=_confirm(force)
            )
    if report.git_commits is not None:
        print(f"Keeping objects referenced by {report.git_commits} git commit(s).")
    if report.declined:
        print("Nothing removed.")
        return 1
    verb = "Would remove" if report.dry_run else "Removed"
    print(
        f"{verb} {len(report.removed)} object(s), {_size(report.bytes_freed)} "
        + f"({report.bytes_freed} bytes); kept {report.kept}."
    )
    return 0


def _confirm(force: bool) -> "Callable[[gc_app.GcReport], bool]":
    def confirm(plan: "gc_app.GcReport") -> bool:
        if force:
            return True
        what = f"{len(plan.removed)} unreferenced cache object(s), {_size(plan.bytes_freed)}"
        if not sys.stdin.isatty():
            from pivot.domain import errors

            raise errors.PivotError(
                f"gc would delete {what}, and stdin is not a terminal to ask; nothing was "
                + "removed (run `pivot gc --force` to delete them, `pivot gc --dry-run` to "
                + "list them)"
            )
        try:
            answer = input(f"Delete {what}? They cannot be restored. [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in {"y", "yes"}

    return confirm


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
