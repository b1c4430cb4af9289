import dataclasses
import difflib
import pathlib
from collections.abc import Collection, Iterable
from typing import Any, Literal

import networkx as nx

from pivot.domain import dag, errors, identity, paths

# networkx is imported only by the commands that draw or query the graph (ADR 0017); the
# run/status hot path builds its Dag on graphlib (ADR 0002).

NodeKind = Literal["stage", "output", "input"]


@dataclasses.dataclass(frozen=True, slots=True)
class Node:
    id: str
    """Stage name (stage graph) or project-relative path (artifact graph)."""
    label: str
    kind: NodeKind
    stale: bool = False
    stage: str = ""
    """The stage this node is, or the stage producing it ("" for external inputs)."""


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Edge:
    source: str
    target: str
    stage: str = ""
    """Artifact graph: the stage that reads `source` and writes `target`."""


@dataclasses.dataclass(frozen=True)
class GraphView:
    """A drawable pipeline graph: nodes in topological layers, with stale ones marked."""

    kind: Literal["stages", "artifacts"]
    graph: Any
    """The networkx DiGraph; node attribute `node` holds the Node, edge attribute `edge`."""

    @property
    def layers(self) -> tuple[tuple[str, ...], ...]:
        """Topological generations: every edge goes from an earlier layer to a later one."""
        return tuple(tuple(sorted(layer)) for layer in nx.topological_generations(self.graph))

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self.graph.nodes[n]["node"] for layer in self.layers for n in layer)

    @property
    def edges(self) -> tuple[Edge, ...]:
        return tuple(sorted(e for _, _, e in self.graph.edges(data="edge")))

    def predecessors(self, node_id: str) -> list[Edge]:
        return sorted(
            self.graph.edges[p, node_id]["edge"] for p in self.graph.predecessors(node_id)
        )


def _view(
    kind: Literal["stages", "artifacts"], nodes: Iterable[Node], edges: Iterable[Edge]
) -> GraphView:
    graph = nx.DiGraph()
    for node in nodes:
        graph.add_node(node.id, node=node)
    for edge in edges:
        graph.add_edge(edge.source, edge.target, edge=edge)
    return GraphView(kind, graph)


def stages(graph: dag.Dag, stale: Collection[str] = ()) -> GraphView:
    """One node per stage; an edge where a stage reads what another writes."""
    nodes = [Node(name, name, "stage", name in stale, name) for name in graph.order]
    edges = [Edge(up, name) for name in graph.order for up in sorted(graph.upstream[name])]
    return _view("stages", nodes, edges)


def artifacts(graph: dag.Dag, root: pathlib.Path, stale: Collection[str] = ()) -> GraphView:
    """One node per file (stage outputs and external inputs); edges labelled by the stage."""
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    for name in graph.order:
        st = graph.stages[name]
        outs = [paths.relative(o.path, root) for o in st.outs]
        for out, rel in zip(st.outs, outs, strict=True):
            label = f"{st.out_identity(out)} → {rel}"
            nodes[rel] = Node(rel, label, "output", name in stale, name)
        for dep in st.dep_paths():
            producer = graph.producer_of(dep)
            source = paths.relative(producer.out.path if producer else dep, root)
            if producer is None:
                nodes.setdefault(source, Node(source, source, "input"))
            edges.extend(Edge(source, rel, name) for rel in outs)
    return _view("artifacts", nodes.values(), edges)


def resolve(view: GraphView, targets: Iterable[str]) -> list[str]:
    """Node ids named by stage names, output identities (`train:model`) or paths."""
    found: list[str] = []
    for target in targets:
        matched = _match(view, target)
        if not matched:
            raise errors.StageNotFoundError(_unknown(view, target))
        found.extend(m for m in matched if m not in found)
    return found


def _match(view: GraphView, target: str) -> list[str]:
    if view.graph.has_node(target):
        return [target]
    all_nodes: list[Node] = [view.graph.nodes[n]["node"] for n in view.graph.nodes]
    if ":" in target:
        if view.kind == "stages":
            producer = identity.ArtifactIdentity.parse(target).producer
            return [producer] if view.graph.has_node(producer) else []
        return [n.id for n in all_nodes if n.label.startswith(f"{target} → ")]
    return [n.id for n in all_nodes if n.kind == "output" and n.stage == target]


def _unknown(view: GraphView, target: str) -> str:
    all_nodes: list[Node] = [view.graph.nodes[n]["node"] for n in view.graph.nodes]
    names = sorted({n.id for n in all_nodes} | {n.stage for n in all_nodes if n.stage})
    close = difflib.get_close_matches(target, names, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    what = "stage" if view.kind == "stages" else "stage, output or path"
    return f"unknown {what} '{target}'{hint} (`pivot list` shows them)"


def focus(view: GraphView, targets: Iterable[str], *, downstream: bool = False) -> GraphView:
    """The targets and what they need (or, `downstream`, what depends on them)."""
    walk = nx.descendants if downstream else nx.ancestors
    keep: set[str] = set()
    for node_id in resolve(view, targets):
        keep |= walk(view.graph, node_id) | {node_id}
    return GraphView(view.kind, view.graph.subgraph(keep).copy())
