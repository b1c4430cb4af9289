import io
import json
import pathlib
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO

from pivot.adapters.hashing import xxh3_hasher
from pivot.domain import errors
from pivot.ports import content_cache, hasher
from pivot.ports import progress as progress_port


class MemoryContentCache:
    """Content cache holding bytes and manifests in dictionaries (xxh3 digests)."""

    def __init__(self) -> None:
        self._hasher = xxh3_hasher.Xxh3Hasher()
        self._blobs: dict[str, bytes] = {}
        self._trees: dict[str, dict[str, str]] = {}
        self.quarantined: dict[str, bytes] = {}
        self._changed: set[str] = set()
        """Blobs changed visibly (as an edit leaves a writable or shared object on disk)."""

    def has(self, digest: str) -> bool:
        """True when an object with `digest` is stored."""
        return digest in self._blobs or digest in self._trees

    def present(self, digests: Iterable[str]) -> set[str]:
        """The subset of `digests` stored."""
        return {d for d in digests if self.has(d)}

    def put_file(
        self,
        path: pathlib.Path,
        digest: str,
        *,
        link: bool = False,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Store the bytes of `path` under `digest`; an existing object is never overwritten."""
        data = path.read_bytes()
        self._blobs.setdefault(digest, data)
        progress.advance(nbytes=len(data))

    def put_files(
        self, files: Mapping[str, str], progress: progress_port.Progress = progress_port.NULL
    ) -> None:
        """Store many files (path → digest)."""
        for path, digest in files.items():
            self.put_file(pathlib.Path(path), digest, progress=progress)

    def add_files(self, files: Mapping[str, int]) -> dict[str, str]:
        """Hash and store files just written (path → size); returns path → digest."""
        digests: dict[str, str] = {}
        for path in files:
            data = pathlib.Path(path).read_bytes()
            digests[path] = self._hasher.bytes_digest(data)
            self._blobs.setdefault(digests[path], data)
        return digests

    def put_tree(self, manifest: Mapping[str, str], digest: str) -> None:
        """Store a directory manifest (relative path → file digest) under `digest`."""
        if not digest.endswith(hasher.DIR_SUFFIX):
            raise ValueError(f"'{digest}' is not a directory digest (no '{hasher.DIR_SUFFIX}')")
        self._trees.setdefault(digest, dict(manifest))

    def read_tree(self, digest: str) -> dict[str, str]:
        """The manifest stored under a directory digest."""
        if digest not in self._trees:
            raise _missing(digest)
        return dict(self._trees[digest])

    def materialize(
        self,
        digest: str,
        dest: pathlib.Path,
        modes: tuple[content_cache.LinkMode, ...],
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Write the object's bytes to `dest` (absent); links are impossible from memory."""
        if not modes:
            raise ValueError("materialize needs at least one link mode")
        if dest.exists() or dest.is_symlink():
            raise FileExistsError(f"materialize target already exists: {dest}")
        used = content_cache.LinkMode.COPY if content_cache.LinkMode.COPY in modes else modes[0]
        if not digest.endswith(hasher.DIR_SUFFIX):
            data = self._blob(digest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            progress.advance(files=1)
            return used
        manifest = self.read_tree(digest)
        members = {rel: self._blob(member, within=digest) for rel, member in manifest.items()}
        dest.mkdir(parents=True)
        for rel, data in sorted(members.items()):
            target = dest.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            progress.advance(files=1)
        return used

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest."""
        yield from sorted([*self._blobs, *self._trees])

    def remove(self, digest: str) -> None:
        """Delete the object (gc)."""
        self._blobs.pop(digest, None)
        self._trees.pop(digest, None)

    def verify(
        self,
        digest: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        rehash: bool = True,
    ) -> bool:
        """Re-hash the object; False when its bytes no longer match the digest.

        `rehash=False`: only visibly changed blobs are re-hashed, the rest are trusted."""
        if digest in self._blobs:
            return self._rehash(digest, progress, rehash)
        manifest = self.read_tree(digest)
        if self._hasher.tree_digest(manifest.items()) != digest:
            return False
        return all(
            member in self._blobs and self._rehash(member, progress, rehash)
            for member in sorted(set(manifest.values()))
        )

    def _rehash(self, digest: str, progress: progress_port.Progress, rehash: bool) -> bool:
        if not rehash and digest not in self._changed:
            return True
        data = self._blobs[digest]
        progress.advance(nbytes=len(data))
        return self._hasher.bytes_digest(data) == digest

    def size(self, digest: str) -> int:
        """Bytes the object occupies (a directory digest: its manifest only)."""
        if digest in self._blobs:
            return len(self._blobs[digest])
        return len(json.dumps(self.read_tree(digest), sort_keys=True, separators=(",", ":")))

    def open(self, digest: str) -> BinaryIO:
        """The stored bytes of an object (a directory: its manifest as JSON)."""
        if digest in self._blobs:
            return io.BytesIO(self._blobs[digest])
        manifest = self.read_tree(digest)
        return io.BytesIO(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())

    def adopt(
        self,
        digest: str,
        path: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        placing: bool = False,
    ) -> bool:
        """Never: objects held in memory cannot share a file's bytes (the caller copies)."""
        return False

    def receive(self, digest: str, chunks: Iterable[bytes]) -> None:
        """Store arriving bytes only if they match `digest` (else `CacheCorruptError`)."""
        data = b"".join(chunks)
        if not digest.endswith(hasher.DIR_SUFFIX):
            if self._hasher.bytes_digest(data) != digest:
                raise errors.ArrivedCorruptError(digest)
            self._blobs.setdefault(digest, data)
            return
        try:
            manifest = json.loads(data)
        except ValueError:
            raise errors.ArrivedCorruptError(digest) from None
        if (
            not isinstance(manifest, dict)
            or self._hasher.tree_digest(sorted(manifest.items())) != digest  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        ):
            raise errors.ArrivedCorruptError(digest)
        self._trees.setdefault(digest, manifest)  # pyright: ignore[reportUnknownArgumentType]

    def quarantine(self, digest: str) -> None:
        """Move a corrupt object aside into `quarantined` (never served again)."""
        if not self.has(digest):
            raise _missing(digest)
        self.quarantined[digest] = self._blobs.pop(digest, None) or b""
        self._trees.pop(digest, None)

    def corrupt(self, digest: str, data: bytes = b"corrupted", *, silently: bool = False) -> None:
        """Replace a stored blob's bytes (tests of verification and recovery); `silently`:
        leave no sign of change, so only a full re-hash finds it (bit rot)."""
        if digest not in self._blobs:
            raise _missing(digest)
        self._blobs[digest] = data
        if not silently:
            self._changed.add(digest)

    def _blob(self, digest: str, *, within: str | None = None) -> bytes:
        if digest not in self._blobs:
            raise _missing(digest, within=within)
        return self._blobs[digest]


def _missing(digest: str, *, within: str | None = None) -> errors.CacheMissError:
    where = f" (member of directory {within})" if within else ""
    return errors.CacheMissError(
        f"cache object {digest}{where} is not in the memory cache: "
        "run `pivot pull` to fetch it, or re-run the stage that produces it"
    )
