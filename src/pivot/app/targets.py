import fnmatch
from collections.abc import Iterable

from pivot.domain import dag, errors, pipeline


def resolve_stage_names(graph: dag.Dag, names: Iterable[str]) -> list[str]:
    """Expand globs (`train@*`) and check every name; unknown ones get a did-you-mean."""
    resolved: list[str] = []
    for name in names:
        if name in graph.stages:
            resolved.append(name)
            continue
        if any(c in name for c in "*?["):
            matched = [n for n in graph.order if fnmatch.fnmatchcase(n, name)]
            if matched:
                resolved.extend(matched)
                continue
            raise errors.StageNotFoundError(f"no stage matches '{name}'")
        raise errors.StageNotFoundError(pipeline.unknown_stage_message(name, graph.stages))
    return resolved


def select(graph: dag.Dag, names: Iterable[str], *, single_stage: bool = False) -> set[str]:
    """Stages a command acts on: the named ones and their upstream (all when none named)."""
    wanted = resolve_stage_names(graph, names)
    if not wanted:
        return set(graph.stages)
    return set(wanted) if single_stage else graph.ancestors(wanted)
