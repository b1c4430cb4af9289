import dataclasses
import functools
import graphlib
import pathlib
from collections.abc import Iterable, Mapping

import pygtrie

from pivot.domain import errors, paths
from pivot.domain import stage as stage_mod


@dataclasses.dataclass(frozen=True, slots=True)
class Producer:
    stage: str
    out: stage_mod.OutBinding


@dataclasses.dataclass(frozen=True)
class Dag:
    """Stages linked through the artifacts they write and read, in topological order."""

    stages: Mapping[str, stage_mod.Stage]
    upstream: Mapping[str, frozenset[str]]
    downstream: Mapping[str, frozenset[str]]
    order: tuple[str, ...]
    producers: Mapping[pathlib.Path, Producer]

    def ancestors(self, names: Iterable[str]) -> set[str]:
        """`names` and every stage they transitively depend on."""
        return _closure(names, self.upstream)

    @functools.cached_property
    def position(self) -> Mapping[str, int]:
        """Each stage's index in `order`."""
        return {name: i for i, name in enumerate(self.order)}

    def ordered(self, names: Iterable[str]) -> list[str]:
        """`names` in topological order: O(k log k) for k names, not a scan of the whole DAG."""
        position = self.position
        return sorted({n for n in names if n in position}, key=position.__getitem__)

    def producer_of(self, path: pathlib.Path) -> Producer | None:
        """The stage output at `path`, or the directory output containing it."""
        for candidate in (path, *path.parents):
            found = self.producers.get(candidate)
            if found is not None:
                return found
        return None


def _closure(start: Iterable[str], edges: Mapping[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(edges.get(name, ()))
    return seen


def _display(path: pathlib.Path, root: pathlib.Path) -> str:
    return paths.relative(path, root)


def build(stages: Mapping[str, stage_mod.Stage], project_root: pathlib.Path) -> Dag:
    """Link stages by paths; raise on overlapping outputs and on cycles."""
    trie: pygtrie.Trie = pygtrie.Trie()
    producers: dict[pathlib.Path, Producer] = {}
    for name, st in stages.items():
        for out in st.outs:
            key = out.path.parts
            if key in trie:
                other: Producer = trie[key]
                raise errors.OverlapError(
                    f"stages '{other.stage}' and '{name}' both write "
                    + f"'{_display(out.path, project_root)}'; each path has one producer"
                )
            inner = trie.shortest_prefix(key)
            if inner:
                _raise_nested(name, out.path, inner.value, project_root)
            if trie.has_subtrie(key):
                _raise_nested(name, out.path, next(iter(trie.values(prefix=key))), project_root)
            producer = Producer(name, out)
            trie[key] = producer
            producers[out.path] = producer

    upstream: dict[str, set[str]] = {name: set() for name in stages}
    for name, st in stages.items():
        for dep_path in st.dep_paths():
            key = dep_path.parts
            found = trie.shortest_prefix(key)
            if found:
                upstream[name].add(found.value.stage)
            if trie.has_subtrie(key):
                upstream[name].update(p.stage for p in trie.values(prefix=key))

    downstream: dict[str, set[str]] = {name: set() for name in stages}
    for name, ups in upstream.items():
        for up in ups:
            downstream[up].add(name)

    try:
        order = tuple(graphlib.TopologicalSorter(upstream).static_order())
    except graphlib.CycleError as exc:
        cycle: list[str] = list(reversed(exc.args[1]))
        raise errors.CycleError(
            "dependency cycle between stages: "
            + " → ".join(cycle)
            + "; break it by removing one of these dependencies"
        ) from None
    return Dag(
        stages=stages,
        upstream={k: frozenset(v) for k, v in upstream.items()},
        downstream={k: frozenset(v) for k, v in downstream.items()},
        order=order,
        producers=producers,
    )


def _raise_nested(
    name: str, path: pathlib.Path, other: Producer, project_root: pathlib.Path
) -> None:
    raise errors.OverlapError(
        f"stage '{name}': output '{_display(path, project_root)}' overlaps "
        + f"'{_display(other.out.path, project_root)}' of stage '{other.stage}'; an output "
        + "may not contain or lie inside another output"
    )
