import json as json_mod

import cyclopts

from pivot.cli import arguments

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
