import json
import textwrap
from typing import Any

from pivot.domain import graph_view

STALE = "●"
_MAX_BOX = 60


def _box_lines(view: graph_view.GraphView, node: graph_view.Node) -> list[str]:
    title = f"{node.label} {STALE}" if node.stale else node.label
    lines = textwrap.wrap(title, _MAX_BOX) or [""]
    sources = [e.source for e in view.predecessors(node.id)]
    if sources:
        lines += textwrap.wrap("← " + ", ".join(sources), _MAX_BOX, subsequent_indent="  ")
    return lines


def _box(lines: list[str], height: int) -> list[str]:
    inner = max(len(line) for line in lines)
    padded = [*lines, *[""] * (height - len(lines))]
    return [
        "┌" + "─" * (inner + 2) + "┐",
        *(f"│ {line:<{inner}} │" for line in padded),
        "└" + "─" * (inner + 2) + "┘",
    ]


def ascii_art(view: graph_view.GraphView, width: int = 100) -> str:
    """Layers top to bottom, boxes side by side; each box lists the nodes it comes from."""
    if not view.graph.nodes:
        return "(empty graph)\n"
    out: list[str] = []
    for number, layer in enumerate(view.layers):
        if number:
            out.append("  ▼")
        contents = [_box_lines(view, view.graph.nodes[n]["node"]) for n in layer]
        row: list[list[str]] = []
        for lines in contents:
            row_width = sum(len(b[0]) + 2 for b in row) + max(len(x) for x in lines) + 4
            if row and row_width > width:
                out.extend(_join(row))
                row = []
            row.append(lines)
        out.extend(_join(row))
    if any(n.stale for n in view.nodes):
        out.append("")
        out.append(f"{STALE} stale: `pivot run` would run it (`pivot status` says why)")
    return "\n".join(out) + "\n"


def _join(row: list[list[str]]) -> list[str]:
    height = max(len(lines) for lines in row)
    boxes = [_box(lines, height) for lines in row]
    return ["  ".join(parts).rstrip() for parts in zip(*boxes, strict=True)]


def mermaid(view: graph_view.GraphView) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    lines = ["flowchart TD"]
    for node in view.nodes:
        label = node.label.replace('"', "#quot;")
        lines.append(f'    {ids[node.id]}["{label}"]')
    for edge in view.edges:
        arrow = f"-->|{edge.stage}|" if edge.stage else "-->"
        lines.append(f"    {ids[edge.source]} {arrow} {ids[edge.target]}")
    stale = [ids[n.id] for n in view.nodes if n.stale]
    if stale:
        lines.append("    classDef stale fill:#fde68a,stroke:#b45309")
        lines.append(f"    class {','.join(stale)} stale")
    return "\n".join(lines) + "\n"


def markdown(view: graph_view.GraphView) -> str:
    return "```mermaid\n" + mermaid(view) + "```\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def dot(view: graph_view.GraphView) -> str:
    lines = ["digraph pivot {", "    rankdir=TB;", "    node [shape=box];"]
    for node in view.nodes:
        style = ", style=filled, fillcolor=gold" if node.stale else ""
        lines.append(f"    {_quote(node.id)} [label={_quote(node.label)}{style}];")
    for edge in view.edges:
        label = f" [label={_quote(edge.stage)}]" if edge.stage else ""
        lines.append(f"    {_quote(edge.source)} -> {_quote(edge.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(view: graph_view.GraphView) -> dict[str, Any]:
    layer_of = {n: i for i, layer in enumerate(view.layers) for n in layer}
    return {
        "graph": view.kind,
        "nodes": [
            {
                "id": n.id,
                "label": n.label,
                "kind": n.kind,
                "stage": n.stage or None,
                "stale": n.stale,
                "layer": layer_of[n.id],
            }
            for n in view.nodes
        ],
        "edges": [
            {"from": e.source, "to": e.target, **({"stage": e.stage} if e.stage else {})}
            for e in view.edges
        ],
        "layers": [list(layer) for layer in view.layers],
    }
