import contextlib
import itertools
import os
import pathlib
import posixpath
import stat
from collections.abc import Iterator

from pivot.ports import content_cache, hasher, workspace_store
from pivot.ports import progress as progress_port

_DIR_MODE = stat.S_IFDIR | 0o755
_FILE_MODE = stat.S_IFREG | 0o644


class MemoryWorkspaceStore:
    """A workspace of files held in a dictionary (no links), for tests and embedding.

    Paths are absolute; the root `/` always exists. `ignored` lists what `ignore` was given.
    """

    def __init__(self, cache: content_cache.ContentCache) -> None:
        self._cache = cache
        self._files: dict[str, tuple[bytes, int, int]] = {}
        """path → (content, inode, mtime_ns)."""
        self._dirs: set[str] = {"/"}
        self._counter = itertools.count(1)
        self.ignored: list[pathlib.Path] = []

    def restore(
        self,
        path: pathlib.Path,
        digest: str,
        modes: tuple[content_cache.LinkMode, ...] | None = None,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Replace whatever is at `path` with the cached object `digest` (atomically)."""
        members = (
            self._cache.read_tree(digest) if digest.endswith(hasher.DIR_SUFFIX) else {"": digest}
        )
        contents = {rel: self._blob(member) for rel, member in members.items()}  # all or nothing
        key = _key(path)
        self._drop(key)
        self._mkdirs(posixpath.dirname(key))
        if digest.endswith(hasher.DIR_SUFFIX):
            self._dirs.add(key)
        for rel, data in contents.items():
            self._put(posixpath.join(key, rel) if rel else key, data)
            progress.advance(files=1)
        modes = modes or content_cache.DEFAULT_LINK_MODES
        return content_cache.LinkMode.COPY if content_cache.LinkMode.COPY in modes else modes[0]

    def ignore(self, *paths: pathlib.Path) -> None:
        """Remember the paths (there is no git here)."""
        self.ignored.extend(paths)

    def remove(self, path: pathlib.Path) -> None:
        """Delete a file or directory tree (no error if absent)."""
        self._drop(_key(path))

    def stat(self, path: workspace_store.StrPath) -> os.stat_result:
        """Stat of `path`; FileNotFoundError when absent."""
        key = _key(path)
        found = self._files.get(key)
        if found is not None:
            data, ino, mtime = found
            return _stat(_FILE_MODE, ino, len(data), mtime)
        if key in self._dirs:
            return _stat(_DIR_MODE, 0, 0, 0)
        raise FileNotFoundError(2, "No such file or directory", str(path))

    def exists(self, path: workspace_store.StrPath) -> bool:
        """Whether anything is at `path`."""
        key = _key(path)
        return key in self._files or key in self._dirs

    def is_dir(self, path: workspace_store.StrPath) -> bool:
        """Whether `path` is a directory."""
        return _key(path) in self._dirs

    def scan(self, root: workspace_store.StrPath) -> list[workspace_store.ScanEntry]:
        """Every file under directory `root`, sorted by relative path."""
        base = _key(root)
        if base not in self._dirs:
            raise FileNotFoundError(2, "No such directory", str(root))
        prefix = base.rstrip("/") + "/"
        return sorted(
            (key[len(prefix) :], key, self.stat(key))
            for key in self._files
            if key.startswith(prefix)
        )

    def walk(self, top: workspace_store.StrPath) -> Iterator[tuple[str, list[str], list[str]]]:
        """Top-down (directory, subdirectory names, file names), as `os.walk`."""
        pending = [_key(top)] if _key(top) in self._dirs else []
        while pending:
            here = pending.pop()
            dirnames = self._children(self._dirs, here)
            filenames = self._children(self._files, here)
            yield here, dirnames, filenames
            pending.extend(posixpath.join(here, d) for d in reversed(dirnames))

    def read_bytes(self, path: workspace_store.StrPath) -> bytes:
        """The content of a file; FileNotFoundError when absent."""
        found = self._files.get(_key(path))
        if found is None:
            raise FileNotFoundError(2, "No such file", str(path))
        return found[0]

    def write_atomic(self, path: pathlib.Path, data: bytes) -> None:
        """Write a file (parents created)."""
        key = _key(path)
        if key in self._dirs:
            raise IsADirectoryError(21, "Is a directory", str(path))
        self._mkdirs(posixpath.dirname(key))
        self._put(key, data)

    def make_dirs(self, path: pathlib.Path) -> None:
        """Create a directory and its parents (no error if it exists)."""
        key = _key(path)
        if key in self._files:
            raise FileExistsError(17, "File exists", str(path))
        self._mkdirs(key)

    def make_private(self, path: pathlib.Path) -> None:
        """Every file here is already private: give each a fresh inode, as a copy would."""
        key = _key(path)
        if not self.exists(key):
            raise FileNotFoundError(2, "No such file or directory", str(path))
        for file in [key, *(f for f in self._files if f.startswith(key.rstrip("/") + "/"))]:
            if file in self._files:
                self._put(file, self._files[file][0])

    @contextlib.contextmanager
    def temporary_directory(self) -> Iterator[pathlib.Path]:
        """A fresh empty directory, deleted with its content on exit."""
        scratch = pathlib.Path(f"/tmp/pivot-memory-{next(self._counter)}")
        self._mkdirs(_key(scratch))
        try:
            yield scratch
        finally:
            self._drop(_key(scratch))

    def _blob(self, digest: str) -> bytes:
        with self._cache.open(digest) as f:
            return f.read()

    def _put(self, key: str, data: bytes) -> None:
        tick = next(self._counter)
        self._files[key] = (data, tick, tick)

    def _mkdirs(self, key: str) -> None:
        while key not in self._dirs:
            if key in self._files:
                raise NotADirectoryError(20, "Not a directory", key)
            self._dirs.add(key)
            key = posixpath.dirname(key)

    def _drop(self, key: str) -> None:
        prefix = key.rstrip("/") + "/"
        self._files.pop(key, None)
        self._dirs.discard(key)
        for file in [f for f in self._files if f.startswith(prefix)]:
            del self._files[file]
        self._dirs.difference_update([d for d in self._dirs if d.startswith(prefix)])

    @staticmethod
    def _children(entries: "set[str] | dict[str, tuple[bytes, int, int]]", here: str) -> list[str]:
        return sorted(
            posixpath.basename(e) for e in entries if e != here and posixpath.dirname(e) == here
        )


def _key(path: workspace_store.StrPath) -> str:
    key = posixpath.normpath(pathlib.PurePath(os.fspath(path)).as_posix())
    if not key.startswith("/"):
        raise ValueError(f"the memory workspace takes absolute paths, got {path!r}")
    return key


def _stat(mode: int, ino: int, size: int, mtime_ns: int) -> os.stat_result:
    seconds = mtime_ns / 1e9
    return os.stat_result(
        (mode, ino, 0, 1, 0, 0, size, seconds, seconds, seconds),
        {"st_mtime_ns": mtime_ns, "st_atime_ns": mtime_ns, "st_ctime_ns": mtime_ns},
    )
