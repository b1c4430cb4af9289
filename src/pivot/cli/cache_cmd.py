from typing import Annotated

import cyclopts

from pivot.cli import arguments, output

cache_app = cyclopts.App(name="cache", help="Inspect and repair the local content cache.")


@cache_app.command(name="verify")
def verify(
    *,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    no_wait: arguments.NoWait = False,
    json: arguments.Json = False,
    session: arguments.Injected,
) -> int:
    """Re-hash every cache object; report corrupt ones and move them to quarantine.

    Exits 1 when any object is corrupt or incomplete. Shows a progress bar on a terminal.

    Parameters
    ----------
    dry_run
        Report only; quarantine nothing.
    """
    if dry_run:
        with output.progress_bar("verifying") as progress:
            report = session.container().fsck_service().fsck(dry_run=True, progress=progress)
    else:
        # Quarantining moves objects a concurrent run may be reading or writing.
        with (
            session.writing("pivot cache verify", no_wait=no_wait) as container,
            output.progress_bar("verifying") as progress,
        ):
            report = container.fsck_service().fsck(dry_run=False, progress=progress)
    if json:
        output.print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "corrupt": list(report.corrupt),
                "incomplete": list(report.incomplete),
                "dry_run": report.dry_run,
            }
        )
        return 0 if report.ok else 1
    where = "would quarantine" if dry_run else "quarantined in .pivot/cache/quarantine/"
    for digest in report.corrupt:
        print(f"corrupt: {digest} ({where})")
    for digest in report.incomplete:
        print(f"incomplete directory: {digest} (a member is missing or corrupt)")
    if report.ok:
        output.say(f"OK: {report.checked} cache objects verified.")
        return 0
    print(
        f"{len(report.corrupt)} corrupt, {len(report.incomplete)} incomplete of "
        + f"{report.checked} objects; get them back with `pivot pull` (from a remote), "
        + "`pivot run --force STAGE` (a stage's outputs) or `pivot track PATH` again (tracked "
        + "data you still have)."
    )
    return 1
