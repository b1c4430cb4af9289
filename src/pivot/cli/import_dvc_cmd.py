import json as json_mod
import pathlib
import sys
from typing import Annotated

import cyclopts

from pivot.cli import arguments


def import_dvc(
    *,
    input_path: Annotated[pathlib.Path, cyclopts.Parameter(name=["--input", "-i"])] = pathlib.Path(
        "dvc.yaml"
    ),
    output: Annotated[pathlib.Path | None, cyclopts.Parameter(name=["--output", "-o"])] = None,
    dry_run: Annotated[bool, cyclopts.Parameter(name=["--dry-run", "-n"])] = False,
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Convert a DVC pipeline (dvc.yaml) into pivot.yaml that behaves the same.

    Shell commands, wdir, deps, outs (cache/persist), metrics, plots, params keys, vars,
    foreach and matrix are carried over; whatever Pivot cannot express is listed with its
    dvc.yaml line (also as comments at the top of pivot.yaml). Creates .pivot/ if needed.

    Parameters
    ----------
    input_path
        The DVC pipeline file.
    output
        Where to write (default: pivot.yaml beside the input).
    dry_run
        Print the pivot.yaml that would be written; write nothing.
    force
        Replace an existing pivot.yaml.
    json
        Print the result as one JSON object.
    """
    from pivot.app import project

    source = (session.cwd / input_path).absolute()
    target = (session.cwd / output).absolute() if output else source.parent / "pivot.yaml"
    imported = session.container().dvc_import(source, target, dry_run=dry_run, force=force)
    if not dry_run:
        try:
            project.find_root(target.parent)
        except project.errors.ProjectNotFoundError:
            project.init(target.parent)
    notes = [str(n) for n in imported.notes]
    if json:
        result = {
            "source": str(source),
            "output": str(target),
            "written": not dry_run,
            "stages": imported.stages,
            "not_carried_over": notes,
        }
        print(json_mod.dumps(result, indent=2))
        return 0
    if dry_run:
        print(imported.text, end="")
    else:
        print(
            f"converted {input_path} → {target.name}: {len(imported.stages)} stages "
            + f"({', '.join(imported.stages)})"
        )
    if notes:
        print(f"not carried over ({len(notes)}):", file=sys.stderr if dry_run else sys.stdout)
        for note in notes:
            print(f"  {note}", file=sys.stderr if dry_run else sys.stdout)
    if not dry_run:
        print("next: `pivot run` (or `pivot status --explain` to see what would run)")
    return 0
