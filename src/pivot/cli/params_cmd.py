import json as json_mod
from typing import TYPE_CHECKING

import cyclopts

from pivot.cli import arguments

if TYPE_CHECKING:
    from pivot.domain import dag

params_app = cyclopts.App(name="params", help="Inspect stage parameters.")


@params_app.command
def show(
    *stages: str,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Print each stage's effective params (defaults < pipeline < params.yaml).

    Parameters
    ----------
    stages
        Stage names or globs; default: every stage with params.
    json
        Print a JSON object mapping stage name to params.
    """
    from pivot.app import targets
    from pivot.domain import dag

    container = session.container()
    pipe = container.pipeline()
    wanted = (
        set(targets.resolve_stage_names(dag.build(pipe.stages, container.project_root()), stages))
        if stages
        else set(pipe.stages)
    )
    effective = {
        name: st.params_dict()
        for name, st in pipe.stages.items()
        if name in wanted and st.params is not None
    }
    if json:
        print(json_mod.dumps(effective, indent=2, sort_keys=True))
        return 0
    if not effective:
        print("No stage takes params.")
        return 0
    for name, values in effective.items():
        print(f"{name}:")
        for key, value in values.items():
            print(f"  {key}: {json_mod.dumps(value)}")
    return 0


@params_app.command
def diff(
    *revisions_and_stages: str,
    json: bool = False,
    md: bool = False,
    session: arguments.Injected,
) -> int:
    """Compare stage params: those recorded at HEAD vs the effective params now, by default.

    `pivot params diff` compares the params recorded in HEAD's lock records with each stage's
    effective params now; `pivot params diff A` compares revision A with now; `pivot params diff
    A B` compares the lock records of A and B. Stage names may follow the revisions.

    Parameters
    ----------
    revisions_and_stages
        `[REV_A [REV_B]] [STAGES…]`: git revisions, then stage names or globs.
    json
        Print `{stage: {param: {old, new}}}` plus the two revision labels.
    md
        Print a Markdown table.
    """
    from pivot.app import compare, targets
    from pivot.cli import tables
    from pivot.domain import dag

    service = session.container().compare_service()
    graph = dag.build(service.pipe.stages, service.root)
    revs: list[str] = []
    names: list[str] = []
    for token in revisions_and_stages:
        if names or len(revs) == 2 or _names_stages(graph, token):
            names.append(token)
        else:
            revs.append(token)
    stages = targets.resolve_stage_names(graph, names) if names else list(graph.order)
    old = service.snapshot(revs[0] if revs else "HEAD")
    new = service.snapshot(revs[1]) if len(revs) == 2 else None
    new_label = new.label if new is not None else "workspace"
    changes = compare.diff_params(service, old, new, stages)
    if json:
        by_stage: dict[str, dict[str, dict[str, object]]] = {}
        for c in changes:
            by_stage.setdefault(c.path, {})[c.key] = {"old": c.old, "new": c.new}
        print(json_mod.dumps({"old": old.label, "new": new_label, "params": by_stage}, indent=2))
        return 0
    if not changes:
        print(f"No param changed between {old.label} and {new_label}.")
        return 0
    rows = [[c.path, c.key, tables.number(c.old, 10), tables.number(c.new, 10)] for c in changes]
    print(tables.render(["Stage", "Param", old.label, new_label], rows, markdown=md))
    return 0


def _names_stages(graph: "dag.Dag", token: str) -> bool:
    from pivot.app import targets
    from pivot.domain import errors

    try:
        targets.resolve_stage_names(graph, [token])
    except errors.PivotError:
        return False
    return True
