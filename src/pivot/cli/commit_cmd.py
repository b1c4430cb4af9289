from typing import Annotated

import cyclopts

from pivot.cli import session as session_mod


def commit(
    *stages: str,
    session: Annotated[session_mod.Session, cyclopts.Parameter(parse=False)],
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
