import json as json_mod
import pathlib
from typing import Annotated

import cyclopts

from pivot.cli import arguments


def get(
    target: str,
    *,
    rev: str,
    out: Annotated[pathlib.Path | None, cyclopts.Parameter(name=["--out", "-o"])] = None,
    force: bool = False,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Write a stage output or a tracked file as it was at a git revision.

    The content comes from the local cache (by the hash recorded at REV in the stage's lock
    record, or in the `.pvt` file), else from git when the file itself was committed, else from
    the default remote. The workspace is not touched unless -o points into it.

    Parameters
    ----------
    target
        `stage`, `stage:key`, an output path, or a tracked path.
    rev
        Git revision (sha, branch, tag, HEAD~1).
    out
        Where to write it (default: the target's file name in the current directory).
    force
        Replace an existing file or directory at the destination.
    json
        Print `{"target", "dest", "source", "digest"}`.
    """
    container = session.container()
    got = container.get_service().get(target, rev, out, force=force)
    if json:
        body = {
            "target": got.target,
            "dest": str(got.dest),
            "source": got.source,
            "digest": got.digest,
        }
        print(json_mod.dumps(body, indent=2, ensure_ascii=False))
        return 0
    print(f"{got.target} @ {rev} → {got.dest} (from {got.source})")
    return 0
