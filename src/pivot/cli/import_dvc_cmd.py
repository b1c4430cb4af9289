import json as json_mod
import os
import pathlib
import sys
from typing import Annotated, Any

import cyclopts

from pivot.cli import arguments
from pivot.domain import errors


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
    container = session.container()
    imported = container.dvc_import(source, target, dry_run=dry_run, force=force)
    notes = [str(n) for n in imported.notes]
    result: dict[str, Any] = {
        "source": str(source),
        "output": str(target),
        "written": not dry_run,
        "stages": imported.stages,
        "not_carried_over": notes,
    }
    if not dry_run:
        try:
            project.find_root(target.parent)
        except errors.ProjectNotFoundError:
            project.init(target.parent)
        result.update(_carry_over(container, source.parent, imported))
    if json:
        print(json_mod.dumps(result, indent=2))
        return 0
    if dry_run:
        print(imported.text, end="")
        if notes:
            print(f"not carried over ({len(notes)}):", file=sys.stderr)
            for note in notes:
                print(f"  {note}", file=sys.stderr)
        return 0
    print(
        f"converted {input_path} → {target.name}: {len(imported.stages)} stages "
        + f"({', '.join(imported.stages)})"
    )
    for key, title in _SECTIONS:
        if result[key]:
            print(f"{title} ({len(result[key])}):")
            for line in result[key]:
                print(f"  {line}")
    print(f"DVC cache objects imported into Pivot's cache: {result['cache_objects_imported']}")
    print("next: `pivot run` (or `pivot status --explain` to see what would run)")
    return 0


_SECTIONS = (
    ("up_to_date", "up to date per dvc.lock, recorded (pivot run skips them)"),
    ("stale", "left stale (they run on the next `pivot run`)"),
    ("tracked", "data tracked (.dvc → .pvt)"),
    ("corrupt_cache_objects", "corrupt DVC cache objects (md5 mismatch), not imported"),
    ("not_carried_over", "not carried over"),
)


def _carry_over(container: Any, root: pathlib.Path, imported: Any) -> dict[str, Any]:
    """Lock records for stages dvc.lock says are up to date, DVC's cache, .dvc → .pvt."""
    outcome = container.dvc_state().carry_over(root, imported.conversion.stages)
    pipe = container.pipeline()
    if outcome.up_to_date:
        container.commit_service().commit(pipe, outcome.up_to_date)
    tracked: list[str] = []
    untracked: list[str] = []
    for path in outcome.data:
        shown = os.path.relpath(path, root)
        try:
            container.track_service().track(pipe, [str(path)], cwd=root)
        except errors.PivotError as exc:
            untracked.append(f"{shown}.dvc: not tracked: {exc}")
            continue
        tracked.append(f"{shown}.dvc → {shown}.pvt")
    return {
        "up_to_date": outcome.up_to_date,
        "stale": outcome.stale,
        "tracked": tracked,
        "cache_objects_imported": outcome.imported,
        "corrupt_cache_objects": outcome.corrupt,
        "not_carried_over": [str(n) for n in imported.notes] + untracked + outcome.remotes,
    }
