import fnmatch
from collections.abc import Iterable

from pivot.domain import dag, errors, identity, pipeline


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
        producer = _producer_of_identity(graph, name)
        if producer is not None:
            resolved.append(producer)
            continue
        raise errors.StageNotFoundError(pipeline.unknown_stage_message(name, graph.stages))
    return resolved


def _producer_of_identity(graph: dag.Dag, text: str) -> str | None:
    """`train:model` names an output of stage `train`: acting on it means acting on `train`."""
    if ":" not in text:
        return None
    ident = identity.ArtifactIdentity.parse(text)
    st = graph.stages.get(ident.producer)
    if st is None:
        return None
    keys = [o.key for o in st.outs if o.key is not None]
    if ident.key not in keys:
        raise errors.StageNotFoundError(
            f"stage '{st.name}' has no output '{ident.key}'; its outputs: "
            + (", ".join(f"'{st.name}:{k}'" for k in keys) or f"'{st.name}'")
        )
    return st.name


def select(graph: dag.Dag, names: Iterable[str], *, single_stage: bool = False) -> set[str]:
    """Stages a command acts on: the named ones and their upstream (all when none named)."""
    wanted = resolve_stage_names(graph, names)
    if not wanted:
        return set(graph.stages)
    return set(wanted) if single_stage else graph.ancestors(wanted)
