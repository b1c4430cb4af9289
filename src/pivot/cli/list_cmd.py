import json as json_mod
from typing import Any

from pivot.cli import arguments


def list_stages(
    *,
    json: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    session: arguments.Injected,
) -> int:
    """List the pipeline's stages with their dependencies and outputs.

    Parameters
    ----------
    json
        Print a JSON object with a `stages` list.
    """
    from pivot.domain import dag, paths

    container = session.container(all_pipelines=all_pipelines)
    pipe = container.pipeline()
    root = container.project_root()
    graph = dag.build(pipe.stages, root)
    stages: list[dict[str, Any]] = []
    for name in graph.order:
        st = graph.stages[name]
        stages.append(
            {
                "name": name,
                "pipeline": st.pipeline,
                "pipeline_root": paths.relative(st.root, root),
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
        st = graph.stages[entry["name"]]
        if st.pipeline != pipe.name or st.root != pipe.root:
            where = paths.relative(st.root, pipe.root)
            print(f"  {entry['name']}  (from pipeline '{st.pipeline}' ({where}))")
        else:
            print(f"  {entry['name']}")
        for dep in entry["deps"]:
            print(f"    dep  {dep}")
        for out in entry["outs"]:
            print(f"    {out['kind']:<4} {out['identity']} → {out['path']}")
    return 0
