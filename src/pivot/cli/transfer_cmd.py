import pathlib
import sys
from typing import TYPE_CHECKING, Annotated, Any, Literal

import cyclopts

from pivot.cli import arguments, collector, output

if TYPE_CHECKING:
    from pivot.app import checkout as checkout_app
    from pivot.app import transfer

RemoteName = Annotated[
    str | None,
    cyclopts.Parameter(name=["--remote", "-r"], help="Remote name; default: core.remote."),
]
Jobs = Annotated[
    int | None,
    cyclopts.Parameter(
        name=["--jobs", "-j"],
        help="Concurrent transfers; default: remotes.NAME.jobs, else CPUs (directory remote) or "
        + "4×CPUs (object stores).",
    ),
]
WithDeps = Annotated[
    bool,
    cyclopts.Parameter(name="--with-deps", help="Also what the targets' stages read (their deps)."),
]
DryRun = Annotated[
    bool, cyclopts.Parameter(name=["--dry-run", "-n"], help="Count what would move; move nothing.")
]
Json = Annotated[
    bool, cyclopts.Parameter(name="--json", help="Print the counts and failures as JSON.")
]


def push(
    *targets: str,
    remote: RemoteName = None,
    jobs: Jobs = None,
    with_deps: WithDeps = False,
    dry_run: DryRun = False,
    json: Json = False,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Upload outputs, tracked data and run-cache entries the remote does not have yet.

    Parameters
    ----------
    targets
        Stage names, output identities (`train:model`), tracked paths or `.pvt` files;
        default: everything the lock records and `.pvt` files reference.
    """
    return _transfer(
        session,
        "push",
        targets,
        remote=remote,
        jobs=jobs,
        with_deps=with_deps,
        dry_run=dry_run,
        json=json,
        no_wait=no_wait,
    )


def fetch(
    *targets: str,
    remote: RemoteName = None,
    jobs: Jobs = None,
    with_deps: WithDeps = False,
    dry_run: DryRun = False,
    json: Json = False,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Download into the local cache what the targets need (the workspace is not touched).

    Every object is re-hashed before it enters the cache; a corrupt one is named and dropped.

    Parameters
    ----------
    targets
        Stage names, output identities (`train:model`), tracked paths or `.pvt` files;
        default: everything the lock records and `.pvt` files reference.
    """
    return _transfer(
        session,
        "fetch",
        targets,
        remote=remote,
        jobs=jobs,
        with_deps=with_deps,
        dry_run=dry_run,
        json=json,
        no_wait=no_wait,
    )


def pull(
    *targets: str,
    remote: RemoteName = None,
    jobs: Jobs = None,
    with_deps: WithDeps = False,
    force: Annotated[
        bool, cyclopts.Parameter(name=["--force", "-f"], help="Overwrite edited files.")
    ] = False,
    dry_run: DryRun = False,
    json: Json = False,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Fetch, then check out: the workspace gets the recorded outputs and tracked data.

    Files already present and correct are left alone; edited files are kept unless --force.

    Parameters
    ----------
    targets
        Stage names, output identities (`train:model`), tracked paths or `.pvt` files;
        default: everything the lock records and `.pvt` files reference.
    """
    with (
        collector.paused(),
        session.writing("pivot pull", no_wait=no_wait, remote=remote) as container,
    ):
        options = _options(container, targets, jobs, with_deps, dry_run)
        return _pull(container, options, force=force, json=json, cwd=session.cwd)


def _transfer(
    session: Any,
    direction: Literal["push", "fetch"],
    targets: tuple[str, ...],
    *,
    remote: str | None,
    jobs: int | None,
    with_deps: bool,
    dry_run: bool,
    json: bool,
    no_wait: bool,
) -> int:
    """One push or fetch under the project lock, with a progress bar on a terminal."""
    with (
        collector.paused(),
        session.writing(f"pivot {direction}", no_wait=no_wait, remote=remote) as container,
    ):
        service = container.transfer_service()
        label = (
            f"pushing to {service.remote_name}"
            if direction == "push"
            else (f"fetching from {service.remote_name}")
        )
        move = service.push if direction == "push" else service.fetch
        with output.progress_bar(label) as progress:
            report = move(
                container.pipeline_if_any(),
                _options(container, targets, jobs, with_deps, dry_run),
                cwd=session.cwd,
                progress=progress,
            )
    return _finish(report, json)


def _pull(
    container: Any,
    options: "transfer.TransferOptions",
    *,
    force: bool,
    json: bool,
    cwd: pathlib.Path,
) -> int:
    from pivot.app import checkout as checkout_app
    from pivot.domain import errors

    service = container.transfer_service()
    pipe = container.pipeline_if_any()
    with output.progress_bar(f"pulling from {service.remote_name}") as progress:
        report = service.fetch(pipe, options, cwd=cwd, progress=progress, placing=True)
    if options.dry_run:
        return _finish(report, json)
    unplaced: tuple[tuple[str, str, bool], ...] = ()
    try:
        result = container.checkout_service().checkout(
            pipe,
            checkout_app.CheckoutOptions(
                targets=options.targets,
                fallback=container.link_modes(),
                force=force,
                only_missing=not force,
                with_deps=options.with_deps,
            ),
            cwd=cwd,
        )
    except checkout_app.IncompleteError as exc:
        result, unplaced = exc.done, exc.unplaced
    except errors.PivotError:
        if not json:  # the fetch happened whatever the checkout then hit: say what it did
            _say_failures(report)
            output.say(summary(report))
        raise
    return _finish_pull(report, result, _explained(unplaced, report), json)


def _explained(
    unplaced: tuple[tuple[str, str, bool], ...], report: "transfer.TransferReport"
) -> list[tuple[str, str]]:
    """What was not placed, and why: an object the fetch just failed to bring was named with
    its reason above (the checkout's advice, `pivot pull`, is what just failed)."""
    return [
        (label, "not fetched (see above)" if missing and report.failures else reason)
        for label, reason, missing in unplaced
    ]


def _finish_pull(
    report: "transfer.TransferReport",
    result: "checkout_app.CheckoutResult",
    unplaced: list[tuple[str, str]],
    json: bool,
) -> int:
    code = 1 if report.failures or unplaced else 0
    if json:
        checkout = {
            "restored": [{"target": label, "mode": str(mode)} for label, mode in result.restored],
            "unchanged": list(result.unchanged),
            "kept": list(result.kept),
            "skipped": list(result.skipped),
            "failed": [{"target": label, "reason": reason} for label, reason in unplaced],
        }
        output.print_json({**report.to_json(), "checkout": checkout, "ok": code == 0})
        return code
    _say_failures(report)
    output.say(summary(report))
    output.say(
        f"checked out {len(result.restored):,}, {len(result.unchanged):,} already up to date"
        + (f", {len(result.kept):,} kept" if result.kept else "")
        + (f", {len(result.skipped):,} skipped" if result.skipped else "")
        + (f", {len(unplaced):,} not placed" if unplaced else "")
    )
    if result.kept:
        these = "it" if len(result.kept) == 1 else "them"
        output.say(
            f"kept {output.count(len(result.kept), 'file')} you changed: "
            + ", ".join(result.kept)
            + f" (pull --force overwrites {these})"
        )
    for label, reason in unplaced:
        print(f"not placed: {label}: {reason}", file=sys.stderr)
    return code


def _options(
    container: object, targets: tuple[str, ...], jobs: int | None, with_deps: bool, dry_run: bool
) -> "transfer.TransferOptions":
    from pivot.app import transfer

    chosen = jobs or container.transfer_jobs()  # pyright: ignore[reportAttributeAccessIssue]
    return transfer.TransferOptions(
        targets=targets, with_deps=with_deps, jobs=chosen, dry_run=dry_run
    )


def _finish(report: "transfer.TransferReport", json: bool) -> int:
    code = 1 if report.failures else 0
    if json:
        output.print_json({**report.to_json(), "ok": not report.failures})
        return code
    _say_failures(report)
    output.say(summary(report))
    return code


def _say_failures(report: "transfer.TransferReport") -> None:
    """Each object that did not move, on stderr (even with -q: they are errors)."""
    for failure in report.failures:
        print(f"failed: {failure.label}: {failure.reason}", file=sys.stderr)


def summary(report: "transfer.TransferReport") -> str:
    """`pushed 1,204 files (3.1 GiB) to origin, 18 already there, 0 failed`."""
    verb = {"push": "pushed", "fetch": "fetched"}[report.direction]
    if report.dry_run:
        verb = f"would {report.direction}"
    where = "to" if report.direction == "push" else "from"
    size = f" ({output.human_size(report.nbytes)})" if report.nbytes or not report.dry_run else ""
    runs = (
        f", {output.count(report.run_entries, 'run-cache entry', 'run-cache entries')}"
        if report.run_entries
        else ""
    )
    return (
        f"{verb} {output.count(report.files, 'file')}{size} {where} {report.remote}{runs}, "
        + f"{report.already:,} already there, {len(report.failures):,} failed"
    )
