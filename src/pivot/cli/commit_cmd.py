from pivot.cli import arguments


def commit(
    *stages: str,
    session: arguments.Injected,
) -> int:
    """Record the workspace as the lock records of STAGES (default: all), without running.

    Use after `pivot run --no-commit`, or after a code edit that does not change results.

    Parameters
    ----------
    stages
        Stage names or globs (only these stages, not their upstream); default: every stage.
    """
    container = session.container()
    for report in container.commit_service().commit(container.pipeline(), stages):
        print(f"{report.name}: {'committed' if report.committed else 'up to date'}")
    return 0
