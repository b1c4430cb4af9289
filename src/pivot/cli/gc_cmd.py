from typing import Annotated

import cyclopts

from pivot.cli import arguments


def gc(
    *,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    all_commits: bool = False,
    session: arguments.Injected,
) -> int:
    """Delete cache objects no lock record or .pvt file in the workspace refers to.

    Parameters
    ----------
    dry_run
        Show what would be removed; remove nothing.
    all_commits
        Also keep what lock and .pvt files in any git commit on any branch refer to.
    """
    container = session.container()
    report = container.gc_service().gc(
        container.pipeline_if_any(), dry_run=dry_run, all_commits=all_commits
    )
    if report.git_commits is not None:
        print(f"Keeping objects referenced by {report.git_commits} git commit(s).")
    verb = "Would remove" if report.dry_run else "Removed"
    print(
        f"{verb} {len(report.removed)} object(s), {_size(report.bytes_freed)} "
        + f"({report.bytes_freed} bytes); kept {report.kept}."
    )
    return 0


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
