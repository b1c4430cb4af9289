import json as json_mod
import pathlib
import sys
from typing import TYPE_CHECKING, Annotated, Any, Literal

import cyclopts

from pivot.cli import arguments, collector, output

if TYPE_CHECKING:
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
    code = _finish(report, json)
    if options.dry_run:
        return code
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
    except (errors.CacheMissError, errors.CacheCorruptError) as exc:
        print(f"pivot: error: {exc}", file=sys.stderr)
        return 1
    if not json:
        print(
            f"checked out {len(result.restored)}, {len(result.unchanged)} already up to date"
            + (f", {len(result.skipped)} skipped" if result.skipped else "")
        )
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
        print(json_mod.dumps({**report.to_json(), "ok": not report.failures}, indent=2))
        return code
    for failure in report.failures:
        print(f"failed: {failure.label}: {failure.reason}", file=sys.stderr)
    print(summary(report))
    return code


def summary(report: "transfer.TransferReport") -> str:
    """`pushed 1,204 files (3.1 GiB) to origin, 18 already there, 0 failed`."""
    verb = {"push": "pushed", "fetch": "fetched"}[report.direction]
    if report.dry_run:
        verb = f"would {report.direction}"
    where = "to" if report.direction == "push" else "from"
    size = f" ({output.human_size(report.nbytes)})" if report.nbytes or not report.dry_run else ""
    runs = f", {report.run_entries} run-cache entries" if report.run_entries else ""
    return (
        f"{verb} {report.files:,} files{size} {where} {report.remote}{runs}, "
        + f"{report.already:,} already there, {len(report.failures)} failed"
    )
