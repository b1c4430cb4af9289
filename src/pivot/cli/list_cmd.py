import json as json_mod
from typing import Annotated, Any

import cyclopts

from pivot.cli import session as session_mod


def list_stages(
    *,
    json: bool = False,
    session: Annotated[session_mod.Session, cyclopts.Parameter(parse=False)],
) -> int:
    """List the pipeline's stages with their dependencies and outputs.

    Parameters
    ----------
    json
        Print a JSON object with a `stages` list.
    """
    from pivot.domain import dag, paths

    container = session.container()
    pipe = container.pipeline()
    root = container.project_root()
    graph = dag.build(pipe.stages, root)
    stages: list[dict[str, Any]] = []
    for name in graph.order:
        st = graph.stages[name]
        stages.append(
            {
                "name": name,
                "deps": [paths.relative(p, root) for p in st.dep_paths()],
                "outs": [
                    {
                        "identity": str(st.out_identity(o)),
                        "path": paths.relative(o.path, root),
                        "kind": str(o.kind),
                        "cached": o.cached,
                    }
                    for o in st.outs
                ],
                "params": st.params_dict(),
                "mutex": list(st.mutex),
                "upstream": sorted(graph.upstream[name]),
            }
        )
    if json:
        print(json_mod.dumps({"pipeline": pipe.name, "stages": stages}, indent=2, sort_keys=True))
        return 0
    if not stages:
        print(f"Pipeline '{pipe.name}' has no stages.")
        return 0
    print(f"Pipeline '{pipe.name}' ({len(stages)} stages):")
    for entry in stages:
        print(f"  {entry['name']}")
        for dep in entry["deps"]:
            print(f"    dep  {dep}")
        for out in entry["outs"]:
            print(f"    {out['kind']:<4} {out['identity']} → {out['path']}")
    return 0
