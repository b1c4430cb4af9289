import json as json_mod
from typing import TYPE_CHECKING, Annotated

import cyclopts

from pivot.cli import arguments, output

if TYPE_CHECKING:
    from pivot.app import transfer


def status(
    *stages: str,
    explain: bool = False,
    json: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    remote: Annotated[bool, cyclopts.Parameter(name="--remote")] = False,
    remote_name: Annotated[str | None, cyclopts.Parameter(name=["-r", "--remote-name"])] = None,
    no_fast: arguments.NoFast = False,
    session: arguments.Injected,
) -> int:
    """Show which stages are stale and why, without running anything.

    Parameters
    ----------
    stages
        Stage names or globs; default: every stage.
    explain
        Print every reason, with the file and line of changed code.
    json
        Print a JSON object with a `stages` list.
    remote
        Also count referenced objects only in the local cache (to push) and only on the remote
        (to pull), asking the remote.
    remote_name
        The remote for --remote; default: core.remote.

    When nothing changed since the last `pivot status` of the same targets, the answer comes
    from a snapshot of file stamps without loading the pipeline (see `--no-fast`).
    """
    del no_fast  # read from the command line by the fast path, before parsing
    from pivot.app import track
    from pivot.cli import fast

    container = session.container(all_pipelines=all_pipelines, remote=remote_name)
    pipe = container.pipeline_or_tracked()
    reports = container.status_service().status(pipe, stages)
    tracked = container.track_service().status()
    counts = None
    if remote or remote_name:
        counts = container.transfer_service().status(pipe, cwd=session.cwd)
    elif all(r.state == "up_to_date" for r in reports) and all(
        t.state is track.TrackedState.CLEAN for t in tracked
    ):
        fast.note_noop(container)
    if json:
        payload = {
            "stages": [
                {
                    "name": r.name,
                    "state": r.state,
                    "stale": r.decision.stale,
                    "reasons": [reason.to_json() for reason in r.decision.reasons],
                    "restore": list(r.decision.restore),
                    "warnings": list(r.warnings),
                }
                for r in reports
            ],
            "tracked": [
                {"path": t.tracked.display(container.project_root()), "state": t.state}
                for t in tracked
            ],
        }
        if counts is not None:
            payload["remote"] = counts.to_json()
        print(json_mod.dumps(payload, indent=2, sort_keys=True))
        return 0
    for item in tracked:
        print(f"{item.tracked.display(container.project_root())}: tracked, {item.state}")
    if not reports:
        print(
            f"No stages; {output.count(len(tracked), 'tracked path')}."
            if tracked
            else "No stages in this pipeline."
        )
        _say_remote(counts)
        return 0
    stale = [r for r in reports if r.decision.stale]
    for report in reports:
        match report.state:
            case "stale":
                reasons = report.decision.reasons
                summary = reasons[0].describe() if reasons else "stale"
                more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 and not explain else ""
                print(f"{report.name}: stale — {summary}{more}")
                if explain:
                    for reason in reasons[1:]:
                        print(f"    - {reason.describe()}")
            case "outputs_missing":
                print(
                    f"{report.name}: up to date, outputs to restore from cache: "
                    + ", ".join(report.decision.restore)
                )
            case _:
                if explain:
                    print(f"{report.name}: up to date")
        if explain:
            for warning in report.warnings:
                print(f"    ! {warning}")
    if not stale:
        print(f"All {len(reports)} stages up to date.")
    else:
        print(f"{len(stale)} of {len(reports)} stages stale.")
    _say_remote(counts)
    return 0


def _say_remote(counts: "transfer.RemoteStatus | None") -> None:
    """`remote origin: 0 to push, 1,222 to pull, 0 in sync` (the summary -q leaves out)."""
    if counts is None:
        return
    output.say(
        f"remote {counts.remote}: {counts.to_push:,} to push, {counts.to_pull:,} to pull, "
        + f"{counts.in_sync:,} in sync"
        + (f", {counts.missing:,} in neither cache" if counts.missing else "")
    )
