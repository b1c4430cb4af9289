import dataclasses

from pivot.domain import errors
from pivot.ports import content_cache
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port


@dataclasses.dataclass(frozen=True, slots=True)
class FsckReport:
    checked: int
    corrupt: tuple[str, ...]
    """Objects whose bytes do not match their digest; moved to quarantine."""
    incomplete: tuple[str, ...]
    """Directory manifests that are intact but name a missing or corrupt member."""
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.incomplete


class FsckService:
    """Re-hashes every cache object; corrupt ones are quarantined so they are never served."""

    def __init__(self, *, cache: content_cache.ContentCache, hasher: hasher_port.Hasher) -> None:
        self._cache = cache
        self._hasher = hasher

    def fsck(
        self, *, dry_run: bool = False, progress: progress_port.Progress = progress_port.NULL
    ) -> FsckReport:
        """Verify every object; progress counts file objects and the bytes re-hashed."""
        stored = list(self._cache.iter_digests())
        blobs = [d for d in stored if not d.endswith(hasher_port.DIR_SUFFIX)]
        trees = [d for d in stored if d.endswith(hasher_port.DIR_SUFFIX)]
        progress.add_total(files=len(blobs), nbytes=sum(self._cache.size(d) for d in blobs))
        corrupt: list[str] = []
        for digest in blobs:
            if not self._cache.verify(digest, progress):
                corrupt.append(digest)
            progress.advance(files=1)
        bad_members = set(corrupt)
        incomplete: list[str] = []
        for digest in trees:
            try:
                manifest = self._cache.read_tree(digest)
            except errors.CacheCorruptError:
                corrupt.append(digest)
                continue
            if self._hasher.tree_digest(sorted(manifest.items())) != digest:
                corrupt.append(digest)
            elif any(m in bad_members or not self._cache.has(m) for m in manifest.values()):
                incomplete.append(digest)
        if not dry_run:
            for digest in corrupt:
                self._cache.quarantine(digest)
        return FsckReport(len(stored), tuple(corrupt), tuple(incomplete), dry_run)
