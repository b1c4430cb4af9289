import json as json_mod
import shutil

from pivot.cli import arguments


def dag(
    *targets: str,
    stages: bool = False,
    downstream: bool = False,
    mermaid: bool = False,
    dot: bool = False,
    md: bool = False,
    json: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    session: arguments.Injected,
) -> int:
    """Draw the pipeline graph: files linked by the stages between them, stale ones marked ●.

    Parameters
    ----------
    targets
        Stage names, output identities (`train:model`) or paths: draw only what they need.
    stages
        Draw the stage graph (one box per stage) instead of the artifact graph.
    downstream
        With targets: draw what depends on them instead of what they need.
    mermaid
        Print a Mermaid flowchart.
    dot
        Print Graphviz DOT (`pivot dag --dot | dot -Tsvg > dag.svg`).
    md
        Print a Mermaid flowchart in a Markdown code fence (renders on GitHub).
    json
        Print nodes, edges and topological layers as JSON.
    """
    from pivot.cli import dag_render
    from pivot.domain import dag as dag_mod
    from pivot.domain import errors, graph_view

    formats = [
        name
        for name, on in (("--mermaid", mermaid), ("--dot", dot), ("--md", md), ("--json", json))
        if on
    ]
    if len(formats) > 1:
        raise errors.PivotError(f"choose one output format, not {' and '.join(formats)}")
    container = session.container(all_pipelines=all_pipelines)
    pipe = container.pipeline()
    graph = dag_mod.build(pipe.stages, container.project_root())
    stale = {r.name for r in container.status_service().status(pipe) if r.decision.stale}
    view = (
        graph_view.stages(graph, stale)
        if stages
        else graph_view.artifacts(graph, container.project_root(), stale)
    )
    if targets:
        view = graph_view.focus(view, targets, downstream=downstream)
    if json:
        print(json_mod.dumps(dag_render.to_json(view), indent=2, sort_keys=True))
    elif mermaid:
        print(dag_render.mermaid(view), end="")
    elif md:
        print(dag_render.markdown(view), end="")
    elif dot:
        print(dag_render.dot(view), end="")
    else:
        print(dag_render.ascii_art(view, shutil.get_terminal_size().columns), end="")
    return 0
