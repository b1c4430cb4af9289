from typing import Annotated

import cyclopts

from pivot.cli import arguments

cache_app = cyclopts.App(name="cache", help="Inspect and repair the local content cache.")


@cache_app.command(name="verify")
def verify(
    *,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Re-hash every cache object; report corrupt ones and move them to quarantine.

    Parameters
    ----------
    dry_run
        Report only; quarantine nothing.
    """
    if dry_run:
        report = session.container().fsck_service().fsck(dry_run=True)
    else:
        # Quarantining moves objects a concurrent run may be reading or writing.
        with session.writing("pivot cache verify", no_wait=no_wait) as container:
            report = container.fsck_service().fsck(dry_run=False)
    where = "would quarantine" if dry_run else "quarantined in .pivot/cache/quarantine/"
    for digest in report.corrupt:
        print(f"corrupt: {digest} ({where})")
    for digest in report.incomplete:
        print(f"incomplete directory: {digest} (a member is missing or corrupt)")
    if report.ok:
        print(f"OK: {report.checked} cache objects verified.")
        return 0
    print(
        f"{len(report.corrupt)} corrupt, {len(report.incomplete)} incomplete of "
        + f"{report.checked} objects; re-run the stages that produce them (`pivot run --force`)."
    )
    return 1
