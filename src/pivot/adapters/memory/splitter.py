from collections.abc import Callable, Sequence
from typing import TypeVar

from pivot.ports import progress as progress_port

_T = TypeVar("_T")
_R = TypeVar("_R")


class SlicingSplitter:
    """Cuts the work into as many slices as `split` allows and runs them one after the other
    here (unit tests: the caller's merging of slices runs, nothing is forked). `slices`: the
    length of every slice it ran, for a test to see how the work was cut."""

    def __init__(self) -> None:
        self.slices: list[int] = []

    def split(
        self,
        work: Callable[[Sequence[_T], progress_port.Progress], _R],
        items: Sequence[_T],
        *,
        min_items: int,
        most: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> list[_R]:
        """`work` over up to `most` consecutive slices of at least `min_items`, in turn."""
        parts = max(1, min(most, len(items) // max(min_items, 1)))
        size = -(-len(items) // parts) if items else 1
        slices = [items[i : i + size] for i in range(0, len(items), size)] or [items]
        failure: BaseException | None = None
        results: list[_R] = []
        for part in slices:
            self.slices.append(len(part))
            try:
                results.append(work(part, progress))
            except BaseException as exc:  # every slice runs, as forked helpers would
                failure = failure or exc
        if failure is not None:
            raise failure
        return results
