import contextlib
import pathlib
import stat as stat_mod
from collections.abc import Iterator, Mapping

from pivot.domain import errors
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port
from pivot.ports import state_store, workspace_store


class DigestService:
    """Content digests of workspace paths, memoised by file stamp in the state store."""

    def __init__(
        self,
        state: state_store.StateStore,
        hasher: hasher_port.Hasher,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._state = state
        self._hasher = hasher
        self._workspace = workspace
        self._stat = workspace.stat  # per file: bound once
        self._pending: list[tuple[str, state_store.FileStamp, str]] = []
        self._seen: dict[str, tuple[state_store.FileStamp, str]] = {}
        self._absent: set[str] = set()
        self._progress: progress_port.Progress = progress_port.NULL
        self._byte_weight = 1

    @contextlib.contextmanager
    def reporting(
        self, progress: progress_port.Progress, *, storing: bool = False
    ) -> Iterator[None]:
        """Report the files and bytes digested inside the block (memo hits count as done).

        `storing`: the block then stores each file it digests, reporting those bytes too; they
        are announced with the hashing, so the bar's total is known before it moves."""
        previous = self._progress, self._byte_weight
        self._progress, self._byte_weight = progress, 2 if storing else 1
        try:
            yield
        finally:
            self._progress, self._byte_weight = previous

    def digest(self, path: pathlib.Path) -> str | None:
        """Digest of a file or directory; None when nothing exists at `path`."""
        try:
            st = self._stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._absent.add(str(path))
            return None
        if stat_mod.S_ISDIR(st.st_mode):
            return self.tree(path)[0]
        if not stat_mod.S_ISREG(st.st_mode):
            raise errors.SpecialFileError.at(path, st.st_mode)
        self._progress.add_total(files=1, nbytes=st.st_size * self._byte_weight)
        return self._file(str(path), state_store.FileStamp.of(st))

    def tree(self, path: pathlib.Path) -> tuple[str, dict[str, str]]:
        """Digest and manifest (relative path → file digest) of a directory."""
        digest, manifest, _ = self.tree_with_size(path)
        return digest, manifest

    def tree_with_size(self, path: pathlib.Path) -> tuple[str, dict[str, str], int]:
        """Digest, manifest (relative path → file digest) and total bytes of a directory."""
        found = [
            (rel, p, state_store.FileStamp.of(st)) for rel, p, st in self._workspace.scan(path)
        ]
        size = sum(stamp.size for _, _, stamp in found)
        self._progress.add_total(files=len(found), nbytes=size * self._byte_weight)
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
            self.remember(str(path), state_store.FileStamp.of(self._stat(path)), digest)
            return
        root = str(path)
        for rel, member in manifest.items():
            file = f"{root}/{rel}"  # the key `scan` gives it; a string, not a path per file
            self.remember(file, state_store.FileStamp.of(self._stat(file)), member)

    def flush(self) -> None:
        """Persist new memo entries in one transaction."""
        if self._pending:
            self._state.record_hashes(self._pending)
            self._pending = []
