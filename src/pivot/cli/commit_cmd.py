from pivot.cli import arguments


def commit(
    *stages: str,
    no_wait: arguments.NoWait = False,
    session: arguments.Injected,
) -> int:
    """Record the workspace as the lock records of STAGES (default: all), without running.

    Use after `pivot run --no-commit`, or after a code edit that does not change results.

    Parameters
    ----------
    stages
        Stage names or globs (only these stages, not their upstream); default: every stage.
    """
    with session.writing("pivot commit", no_wait=no_wait) as container:
        for report in container.commit_service().commit(container.pipeline(), stages):
            print(f"{report.name}: {'committed' if report.committed else 'up to date'}")
    return 0
