from typing import Annotated

import cyclopts

from pivot.cli import session as session_mod

Injected = Annotated[session_mod.Session, cyclopts.Parameter(parse=False)]
"""The invocation's Session, handed to every command by the launcher (never parsed)."""

AllPipelines = Annotated[
    bool,
    cyclopts.Parameter(
        name="--all", help="Every pipeline of the project, merged into one named `all`."
    ),
]

NoWait = Annotated[
    bool,
    cyclopts.Parameter(
        name="--no-wait",
        help="If another pivot command is writing to this project, fail at once instead of "
        + "waiting for it.",
    ),
]

Json = Annotated[
    bool,
    cyclopts.Parameter(name="--json", help="Print one JSON object (for scripts) instead of text."),
]

NoFast = Annotated[
    bool,
    cyclopts.Parameter(
        name="--no-fast",
        help="Check every stage in full even if a snapshot of file stamps says nothing changed "
        + "(also `run.fast: false` in .pivot/config.yaml, or PIVOT_FAST=0).",
    ),
]
