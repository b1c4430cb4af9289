from pivot.cli import arguments


def track(
    *paths: str,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Version external data: cache each PATH and write PATH.pvt beside it (commit the .pvt).

    Parameters
    ----------
    paths
        Files or directories inside the project; re-tracking a changed path updates its .pvt.
    """
    with session.writing("pivot track", no_wait=no_wait) as container:
        results = container.track_service().track(
            container.pipeline_if_any(), paths, cwd=session.cwd
        )
    root = container.project_root()
    for result in results:
        item = result.tracked
        files = f", {item.nfiles} files" if item.nfiles is not None else ""
        print(
            f"{result.action}: {item.display(root)} ({item.size} bytes{files}) "
            + f"→ {item.display(root)}.pvt"
        )
    if any(r.action != "unchanged" for r in results):
        print("Commit the .pvt files to git; keep the data itself out of git.")
    return 0
