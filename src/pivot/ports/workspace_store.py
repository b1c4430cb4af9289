import pathlib
from typing import Protocol

from pivot.ports import content_cache
from pivot.ports import progress as progress_port


class WorkspaceStore(Protocol):
    """Outputs and tracked data in the workspace, restored from the cache."""

    def restore(
        self,
        path: pathlib.Path,
        digest: str,
        modes: tuple[content_cache.LinkMode, ...] | None = None,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Replace whatever is at `path` with the cached object `digest` (atomically).

        `modes` defaults to the store's configured link-mode order.
        """
        ...

    def ignore(self, *paths: pathlib.Path) -> None:
        """Keep data paths out of git: `/name` in the `.gitignore` beside each (git work trees);
        each `.gitignore` is written once per call."""
        ...

    def remove(self, path: pathlib.Path) -> None:
        """Delete a file or directory output before its stage runs (no error if absent)."""
        ...
