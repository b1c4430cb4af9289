import pathlib
from typing import Annotated

import cyclopts

from pivot.cli import arguments


def export(
    *stages: str,
    output: Annotated[pathlib.Path, cyclopts.Parameter(name=["--output", "-o"])] = pathlib.Path(
        "dvc.yaml"
    ),
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    session: arguments.Injected,
) -> int:
    """Write a dvc.yaml that real DVC can run (`dvc repro`).

    cmd: stages keep their command; Python stages run through `python -m pivot exec STAGE`
    (Pivot must be installed where DVC runs). Code files and params.yaml are listed as deps and
    params so DVC re-runs a stage when they change.

    Parameters
    ----------
    stages
        Stage names or globs; default: every stage.
    output
        Where to write (default: dvc.yaml).
    force
        Replace an existing file.
    """
    from pivot.app import targets
    from pivot.domain import dag

    container = session.container()
    pipe = container.pipeline()
    graph = dag.build(pipe.stages, container.project_root())
    names = graph.ordered(targets.resolve_stage_names(graph, stages) or list(graph.order))
    target = (session.cwd / output).absolute()
    container.dvc_export(pipe, names, target, force=force)
    print(f"wrote {output}: {len(names)} stages ({', '.join(names)}); run it with `dvc repro`")
    return 0
