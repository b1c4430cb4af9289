import contextlib
import os
import pathlib
import stat as stat_mod
from collections.abc import Iterator, Mapping

from pivot.domain import errors
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port
from pivot.ports import state_store


def scan_files(root: pathlib.Path | str) -> list[tuple[str, str, os.stat_result]]:
    """Every file under `root` as (relative POSIX path, path, stat), sorted by relative path.

    One `scandir` per directory and one `stat` per file, strings throughout (no path object
    per file). Symlinked directories are not followed, as `os.walk` does not follow them."""
    found: list[tuple[str, str, os.stat_result]] = []
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
                if not stat_mod.S_ISREG(st.st_mode):
                    raise special_file(entry.path, st)
                found.append((prefix + entry.name, entry.path, st))
    found.sort(key=_first)
    return found


def special_file(path: pathlib.Path | str, st: os.stat_result) -> errors.SpecialFileError:
    """Reading a FIFO would hang and a device never ends: such paths are refused by name."""
    kind = (
        "a FIFO (named pipe)"
        if stat_mod.S_ISFIFO(st.st_mode)
        else "a socket"
        if stat_mod.S_ISSOCK(st.st_mode)
        else "a device"
    )
    return errors.SpecialFileError(
        f"'{path}' is not a regular file but {kind}; Pivot reads only files and directories: "
        + "replace it with a regular file (or remove it)"
    )


def _first(entry: tuple[str, str, os.stat_result]) -> str:
    return entry[0]


def walk_files(root: pathlib.Path) -> list[tuple[str, pathlib.Path]]:
    """Every file under `root` as (relative POSIX path, absolute path), sorted."""
    return [(rel, pathlib.Path(path)) for rel, path, _ in scan_files(root)]


class DigestService:
    """Content digests of workspace paths, memoised by file stamp in the state store."""

    def __init__(self, state: state_store.StateStore, hasher: hasher_port.Hasher) -> None:
        self._state = state
        self._hasher = hasher
        self._pending: list[tuple[str, state_store.FileStamp, str]] = []
        self._seen: dict[str, tuple[state_store.FileStamp, str]] = {}
        self._absent: set[str] = set()
        self._progress: progress_port.Progress = progress_port.NULL

    @contextlib.contextmanager
    def reporting(self, progress: progress_port.Progress) -> Iterator[None]:
        """Report the files and bytes digested inside the block (memo hits count as done)."""
        previous, self._progress = self._progress, progress
        try:
            yield
        finally:
            self._progress = previous

    def digest(self, path: pathlib.Path) -> str | None:
        """Digest of a file or directory; None when nothing exists at `path`."""
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._absent.add(str(path))
            return None
        if stat_mod.S_ISDIR(st.st_mode):
            return self.tree(path)[0]
        if not stat_mod.S_ISREG(st.st_mode):
            raise special_file(path, st)
        self._progress.add_total(files=1, nbytes=st.st_size)
        return self._file(str(path), state_store.FileStamp.of(st))

    def tree(self, path: pathlib.Path) -> tuple[str, dict[str, str]]:
        """Digest and manifest (relative path → file digest) of a directory."""
        digest, manifest, _ = self.tree_with_size(path)
        return digest, manifest

    def tree_with_size(self, path: pathlib.Path) -> tuple[str, dict[str, str], int]:
        """Digest, manifest (relative path → file digest) and total bytes of a directory."""
        found = [(rel, p, state_store.FileStamp.of(st)) for rel, p, st in scan_files(path)]
        size = sum(stamp.size for _, _, stamp in found)
        self._progress.add_total(files=len(found), nbytes=size)
        manifest = {rel: self._file(p, stamp) for rel, p, stamp in found}
        return self._hasher.tree_digest(manifest.items()), manifest, size

    def _file(self, key: str, stamp: state_store.FileStamp) -> str:
        seen = self._seen.get(key)
        if seen is not None and seen[0] == stamp:
            self._progress.advance(files=1, nbytes=stamp.size)
            return seen[1]
        digest = self._state.lookup_hash(key, stamp)
        if digest is None:
            digest = self._hasher.file_digest(key, self._progress)
            self._progress.advance(files=1)
            self._pending.append((key, stamp, digest))
        else:
            self._progress.advance(files=1, nbytes=stamp.size)
        self._seen[key] = (stamp, digest)
        return digest

    def observed(self) -> dict[str, state_store.FileStamp | None]:
        """Every file digested so far with the stamp its digest was taken at (None: absent)."""
        found: dict[str, state_store.FileStamp | None] = dict.fromkeys(self._absent)
        found.update((key, stamp) for key, (stamp, _) in self._seen.items())
        return found

    def remember(self, key: str, stamp: state_store.FileStamp, digest: str) -> None:
        """Record a digest computed elsewhere (a worker) so the file is never re-read."""
        self._seen[key] = (stamp, digest)
        self._pending.append((key, stamp, digest))

    def remember_restored(
        self, path: pathlib.Path, digest: str, manifest: Mapping[str, str] | None = None
    ) -> None:
        """Memoise a file (or, with its manifest, a directory) just placed from the cache."""
        if manifest is None:
            self.remember(str(path), state_store.FileStamp.of(os.stat(path)), digest)
            return
        for rel, member in manifest.items():
            file = path.joinpath(*rel.split("/"))
            self.remember(str(file), state_store.FileStamp.of(os.stat(file)), member)

    def flush(self) -> None:
        """Persist new memo entries in one transaction."""
        if self._pending:
            self._state.record_hashes(self._pending)
            self._pending = []
