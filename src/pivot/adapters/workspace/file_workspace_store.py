import os
import pathlib
import stat

from pivot.adapters import fs
from pivot.adapters.workspace import gitignore
from pivot.ports import content_cache
from pivot.ports import progress as progress_port


class FileWorkspaceStore:
    """Stage outputs as files and directories in the workspace, restored from the cache."""

    def __init__(
        self,
        cache: content_cache.ContentCache,
        link_modes: tuple[content_cache.LinkMode, ...] = content_cache.DEFAULT_LINK_MODES,
    ) -> None:
        self._cache = cache
        self._link_modes = link_modes

    def restore(
        self,
        path: pathlib.Path,
        digest: str,
        modes: tuple[content_cache.LinkMode, ...] | None = None,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Replace whatever is at `path` with the cached object `digest` (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = fs.temp_sibling(path, "new")
        try:
            used = self._cache.materialize(digest, fresh, modes or self._link_modes, progress)
            _swap_in(fresh, path)
        except BaseException:
            fs.remove_path(fresh)
            raise
        return used

    def ignore(self, *paths: pathlib.Path) -> None:
        """Keep data paths out of git: `/name` in the `.gitignore` beside each (git work trees);
        each `.gitignore` is written once per call."""
        gitignore.ignore(*paths)

    def remove(self, path: pathlib.Path) -> None:
        """Delete a file or directory output before its stage runs (no error if absent)."""
        fs.remove_path(path)


def _swap_in(fresh: pathlib.Path, path: pathlib.Path) -> None:
    """Put `fresh` at `path`; readers see the old or the new output, never a mix."""
    try:
        old_mode = path.lstat().st_mode
    except FileNotFoundError:
        os.replace(fresh, path)
        return
    fresh_is_dir = stat.S_ISDIR(fresh.lstat().st_mode)
    if not fresh_is_dir and not stat.S_ISDIR(old_mode):
        os.replace(fresh, path)
        return
    # A rename cannot replace a non-empty directory, nor swap a file and a directory:
    # move the old entry aside, rename the new one in, then delete the old.
    aside = fs.temp_sibling(path, "old")
    os.rename(path, aside)
    try:
        os.rename(fresh, path)
    except BaseException:
        os.rename(aside, path)
        raise
    fs.remove_path(aside)
