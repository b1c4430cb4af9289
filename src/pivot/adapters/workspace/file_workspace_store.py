import contextlib
import os
import pathlib
import stat
from collections.abc import Iterator

from pivot.adapters import fs
from pivot.adapters.workspace import gitignore
from pivot.domain import errors
from pivot.ports import content_cache, workspace_store
from pivot.ports import progress as progress_port


class FileWorkspaceStore:
    """The workspace as files and directories on the local disk."""

    # Per-file hot paths (digest memo lookups, snapshot stamps): the bare OS calls, so going
    # through the port costs an attribute lookup, not a Python frame.
    stat = staticmethod(os.stat)
    exists = staticmethod(os.path.lexists)
    is_dir = staticmethod(os.path.isdir)

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
        """Delete a file, link or directory tree, read-only entries too (no error if absent)."""
        fs.remove_path(path)

    def scan(self, root: workspace_store.StrPath) -> list[workspace_store.ScanEntry]:
        """Every file under directory `root` as (relative POSIX path, path, stat), sorted.

        One `scandir` per directory and one `stat` per file, strings throughout (no path object
        per file). Symlinked directories are not followed, as `os.walk` does not follow them."""
        found: list[workspace_store.ScanEntry] = []
        pending = [(os.fspath(root), "")]
        while pending:
            directory, prefix = pending.pop()
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir():
                        if not entry.is_symlink():
                            pending.append((entry.path, f"{prefix}{entry.name}/"))
                        continue
                    st = entry.stat()
                    if not stat.S_ISREG(st.st_mode):
                        raise errors.SpecialFileError.at(entry.path, st.st_mode)
                    found.append((prefix + entry.name, entry.path, st))
        found.sort(key=_first)
        return found

    def walk(self, top: workspace_store.StrPath) -> Iterator[tuple[str, list[str], list[str]]]:
        """Top-down (directory, subdirectory names, file names), as `os.walk`."""
        return os.walk(top)

    def read_bytes(self, path: workspace_store.StrPath) -> bytes:
        """The content of a file; FileNotFoundError when absent."""
        with open(path, "rb") as f:
            return f.read()

    def write_atomic(self, path: pathlib.Path, data: bytes) -> None:
        """Write a file (parents created) so readers see the old or the new content."""
        fs.atomic_write_bytes(path, data)

    def make_dirs(self, path: pathlib.Path) -> None:
        """Create a directory and its parents (no error if it exists)."""
        path.mkdir(parents=True, exist_ok=True)

    def make_private(self, path: pathlib.Path) -> None:
        """Replace a file or tree that may be a hardlink into the cache by a private copy."""
        import shutil  # on first use: a no-op run never copies outputs

        fresh = fs.temp_sibling(path, "copy")
        try:
            if stat.S_ISDIR(path.lstat().st_mode):
                shutil.copytree(path, fresh, copy_function=shutil.copyfile)
            else:
                shutil.copyfile(path, fresh)
            _swap_in(fresh, path)
        except BaseException:
            fs.remove_path(fresh)
            raise

    @contextlib.contextmanager
    def temporary_directory(self) -> Iterator[pathlib.Path]:
        """A fresh empty directory outside the project, deleted with its content on exit."""
        import tempfile

        scratch = pathlib.Path(tempfile.mkdtemp(prefix="pivot-"))
        try:
            yield scratch
        finally:
            with contextlib.suppress(OSError):
                fs.remove_path(scratch)


def _first(entry: workspace_store.ScanEntry) -> str:
    return entry[0]


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
