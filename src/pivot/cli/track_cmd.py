from pivot.cli import arguments, collector, output


def track(
    *paths: str,
    no_wait: arguments.NoWait = False,
    json: arguments.Json = False,
    session: arguments.Injected,
) -> int:
    """Version external data: cache each PATH and write PATH.pvt beside it (commit the .pvt).

    Shows a progress bar (files, bytes, rate, time left) while hashing on a terminal.

    Parameters
    ----------
    paths
        Files or directories inside the project; re-tracking a changed path updates its .pvt.
    """
    with (
        collector.paused(),
        session.writing("pivot track", no_wait=no_wait) as container,
        output.progress_bar("hashing, storing") as progress,
    ):
        results = container.track_service().track(
            container.pipeline_if_any(),
            paths,
            cwd=session.cwd,
            link_modes=container.link_modes(),
            progress=progress,
        )
    root = container.project_root()
    if json:
        output.print_json(
            {
                "tracked": [
                    {
                        "path": r.tracked.display(root),
                        "action": str(r.action),
                        "hash": r.tracked.digest,
                        "size": r.tracked.size,
                        "nfiles": r.tracked.nfiles,
                        "pvt": f"{r.tracked.display(root)}.pvt",
                    }
                    for r in results
                ]
            }
        )
        return 0
    for result in results:
        item = result.tracked
        files = f", {item.nfiles} files" if item.nfiles is not None else ""
        output.say(
            f"{result.action}: {item.display(root)} ({output.human_size(item.size)}{files}) "
            + f"→ {item.display(root)}.pvt"
        )
    if any(r.action != "unchanged" for r in results):
        output.say("Commit the .pvt files to git; keep the data itself out of git.")
    return 0
