import pathlib
import tempfile

from pivot.adapters.lock import json_lock_store
from pivot.domain import lock, paths, stage
from pivot.ports import content_cache, vcs


def _cached_bytes(cache: content_cache.ContentCache, digest: str) -> bytes | None:
    if not cache.has(digest):
        return None
    with tempfile.TemporaryDirectory(prefix="pivot-read-") as tmp:
        dest = pathlib.Path(tmp) / "object"
        cache.materialize(digest, dest, (content_cache.LinkMode.COPY,))
        return dest.read_bytes() if dest.is_file() else None


class WorkspaceSnapshot:
    """The working tree as it is now."""

    label = "workspace"

    def __init__(self, project_root: pathlib.Path) -> None:
        self._root = project_root
        self._locks = json_lock_store.JsonLockStore()

    def read(self, path: str) -> bytes | None:
        """A project file's bytes, or None if absent (a directory is absent)."""
        try:
            return (self._root / path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def lock_record(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's lock record on disk."""
        return self._locks.read(st)

    def output(self, st: stage.Stage, out: stage.OutBinding) -> bytes | None:
        """The output file as it is in the working tree."""
        return self.read(paths.relative(out.path, self._root))


class RevisionSnapshot:
    """The project at a git revision: committed files, and cached outputs its lock records name."""

    def __init__(
        self,
        repo: vcs.Vcs,
        rev: str,
        project_root: pathlib.Path,
        cache: content_cache.ContentCache,
    ) -> None:
        self.label = rev
        self.sha = repo.resolve(rev)
        self._repo = repo
        self._root = project_root
        self._cache = cache

    def read(self, path: str) -> bytes | None:
        """The committed file's bytes at the revision, or None."""
        return self._repo.read(self.sha, path)

    def lock_record(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's lock record as committed at the revision."""
        path = json_lock_store.lock_path(st)
        data = self.read(paths.relative(path, self._root))
        if data is None:
            return None
        shown = pathlib.Path(f"{self.label}:{paths.relative(path, self._root)}")
        return json_lock_store.decode(data, shown, st)

    def output(self, st: stage.Stage, out: stage.OutBinding) -> bytes | None:
        """The committed file, else the cached object its lock record at the revision names."""
        committed = self.read(paths.relative(out.path, self._root))
        if committed is not None:
            return committed
        digest = self.digest(st, out)
        return None if digest is None else _cached_bytes(self._cache, digest)

    def digest(self, st: stage.Stage, out: stage.OutBinding) -> str | None:
        """The output's content digest recorded at the revision, or None."""
        record = self.lock_record(st)
        if record is None:
            return None
        found = record["outs"].get(st.record_key(out))
        return None if found is None else found["hash"]
