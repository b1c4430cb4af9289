from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from pivot.ports import progress as progress_port

_T = TypeVar("_T")
_R = TypeVar("_R")


class Splitter(Protocol):
    """Runs work over a long sequence side by side, in consecutive slices.

    For work whose every effect is on the file system (the local cache, a directory remote): the
    file adapter forks helper processes, where Python threads would only hand the GIL to each
    other (ADR 0024). Given to a use case only when every adapter its work touches keeps its
    state on disk."""

    def split(
        self,
        work: Callable[[Sequence[_T], progress_port.Progress], _R],
        items: Sequence[_T],
        *,
        min_items: int,
        most: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> list[_R]:
        """`work(slice, progress)` over consecutive slices of `items`, each at least
        `min_items` long, at most `most` at once; the results in slice order. The counts each
        slice reports reach `progress`. The first exception is raised once every slice ended."""
        ...
