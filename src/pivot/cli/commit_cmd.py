from pivot.cli import arguments, output


def commit(
    *stages: str,
    no_wait: arguments.NoWait = False,
    json: arguments.Json = False,
    session: arguments.Injected,
) -> int:
    """Record the workspace as the lock records of STAGES (default: all), without running.

    Use after `pivot run --no-commit`, or after a code edit that does not change results.

    Parameters
    ----------
    stages
        Stage names or globs (only these stages, not their upstream); default: every stage.
    """
    with (
        session.writing("pivot commit", no_wait=no_wait) as container,
        output.progress_bar("hashing") as progress,
    ):
        reports = container.commit_service().commit(container.pipeline(), stages, progress)
    if json:
        output.print_json({"stages": [{"name": r.name, "committed": r.committed} for r in reports]})
        return 0
    for report in reports:
        output.say(f"{report.name}: {'committed' if report.committed else 'up to date'}")
    return 0
