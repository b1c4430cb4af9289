import atexit
import concurrent.futures
import contextlib
import errno
import itertools
import json
import os
import pathlib
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO, TypeVar

from pivot.adapters import forked, fs, whole_file
from pivot.domain import errors, layout
from pivot.ports import content_cache
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port

# Linux FICLONE ioctl request number (_IOW(0x94, 9, int)).
_FICLONE = 0x40049409
_READ_ONLY = 0o444
_WRITABLE = 0o644
_SENDFILE_CHUNK = 1 << 30
_PROGRESS_CHUNK = 64 << 20
# Directory outputs: from this many new files on, copies run in threads.
_PARALLEL_MIN = 64
_THREADS = 4
# Files placed between two progress reports of a directory batch.
_PROGRESS_FILES = 64
_BUFFER = 1 << 20
# `add_files` reads a file up to this size whole (one read, hashed in memory); larger ones are
# hashed in chunks and copied in the kernel, so memory stays bounded whatever the file's size.
_WHOLE_MAX = 8 << 20
# `add_files` and a checkout of a directory fork a helper process when each process gets this
# many files (a fork costs ms).
_SPLIT_MIN = 512
# Parsed manifests kept by one cache instance.
_TREES_KEPT = 8
# Above this many digests, `present` lists fan-out directories instead of a stat per object.
_LIST_MIN = 64
_ADOPT_MIN = 8 << 20
"""Smaller objects are copied, not linked: the copy costs about what the link and its temp
name do, and keeps later restores free of the re-hash a shared inode brings (ADR 0021)."""
_SHARED = "shared"
"""File in the cache root listing, one per line, the digests of objects adopted from a remote
(their inode is also the remote's file): a workspace must never share those (ADR 0011)."""
_PREPARED: set[str] = set()
"""Private copies `adopt(placing=True)` made and no placement has taken yet (this process)."""
_PREPARED_CLEANUP: list[bool] = []

_T = TypeVar("_T")
_R = TypeVar("_R")


class LocalContentCache:
    """Content-addressed objects under `<project>/.pivot/cache/files/ab/cdef…`."""

    def __init__(self, root: pathlib.Path, hasher: hasher_port.Hasher) -> None:
        self.root = root
        self.hasher = hasher
        # Manifests parsed and checked, by digest, with the object's stamp when read and
        # whether their digest was checked against those bytes: one pull receives a tree, then
        # counts, verifies and places it.
        self._trees: dict[str, tuple[tuple[int, int, int], dict[str, str], bool]] = {}
        # Objects this process linked in from another store and hashed, by digest, with the
        # inode's stamp then (ctime included: any write, chmod or link moves it): a restore
        # right after the pull need not read a shared object again.
        self._adopted: dict[str, tuple[int, int, int, int]] = {}
        # Private copies made while adopting for a pull, by digest, for its checkout to take.
        # Only for the process that made this cache: a forked helper's memos end with it.
        self._prepared: dict[str, str] = {}
        self._owner = os.getpid()

    def __getstate__(self) -> dict[str, object]:
        return {"root": self.root, "hasher": self.hasher}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["root"], state["hasher"])  # pyright: ignore[reportArgumentType]

    def object_path(self, digest: str) -> pathlib.Path:
        """Where the object for `digest` lives (whether or not it exists)."""
        return pathlib.Path(self._object(digest))

    def _object(self, digest: str) -> str:
        # Strings, not path objects: this runs once per file of a directory output.
        if not hasher_port.DIGEST.fullmatch(digest):
            raise ValueError(f"'{digest}' is not a content digest")
        return f"{self.root}/{layout.object_key(digest)}"

    def has(self, digest: str) -> bool:
        """True when an object with `digest` is stored."""
        return os.path.isfile(self._object(digest))

    def present(self, digests: Iterable[str]) -> set[str]:
        """The subset of `digests` stored: above a few, one listing per fan-out directory
        instead of a stat per object (20,000 stats cost ~75 ms, 256 listings ~3–25 ms)."""
        wanted = set(digests)
        if len(wanted) <= _LIST_MIN:
            return {d for d in wanted if self.has(d)}
        by_fan: dict[str, list[str]] = {}
        for digest in wanted:
            if not hasher_port.DIGEST.fullmatch(digest):
                raise ValueError(f"'{digest}' is not a content digest")
            by_fan.setdefault(digest[:2], []).append(digest)
        found: set[str] = set()
        objects = f"{self.root}/{layout.OBJECTS}"
        for fan, members in by_fan.items():
            try:
                with os.scandir(f"{objects}/{fan}") as entries:
                    # Temp files start with '.', which no object name does.
                    names = {e.name for e in entries if e.is_file()}
            except (FileNotFoundError, NotADirectoryError):
                continue
            found.update(d for d in members if d[2:] in names)
        return found

    def put_file(
        self,
        path: pathlib.Path,
        digest: str,
        *,
        link: bool = False,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Store the bytes of `path` under `digest`; an existing object is never overwritten."""
        if not link:
            self._put(os.fspath(path), digest, progress)
            return
        dest = self.object_path(digest)
        if dest.exists():
            return
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = fs.temp_sibling(dest)
        try:
            if not _shared(path, tmp):
                shutil.copyfile(path, tmp)
                os.chmod(tmp, _READ_ONLY)
            _publish(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def put_files(
        self, files: Mapping[str, str], progress: progress_port.Progress = progress_port.NULL
    ) -> None:
        """Store many files (path → digest): the copies of a large batch run in threads (the
        copy itself runs in the kernel, so they overlap), one batch per fan-out directory (a
        directory is locked while a file is created in it)."""
        missing: dict[str, list[tuple[str, str]]] = {}
        count = 0
        stored = self.present(files.values())
        for path, digest in files.items():
            if digest not in stored:
                missing.setdefault(digest[:2], []).append((path, digest))
                count += 1
            elif progress is not progress_port.NULL:
                progress.advance(nbytes=os.path.getsize(path))
        umask = _process_umask() if count >= _PARALLEL_MIN else None

        def put(batch: Sequence[tuple[str, str]]) -> None:
            for path, digest in batch:
                self._put(path, digest, progress, umask)

        for _ in _each_batch(list(missing.values()), put, threads=count >= _PARALLEL_MIN):
            pass

    def add_files(self, files: Mapping[str, int]) -> dict[str, str]:
        """Hash and store files just written (path → size from the caller's `stat`); returns
        path → digest.

        A small file is read once, hashed in memory and written into an unnamed file that is
        linked in as its object (`whole_file`): 8 system calls, nothing visible before it is
        complete, where hashing then copying took ~16 (the file opened and read twice, a named
        temp linked and unlinked). Larger files are hashed in chunks and copied in the kernel,
        so memory stays bounded. Many files are split with forked helper processes, one per
        spare CPU (`forked.split_map`): threads only handed the GIL to each other."""
        umask = _process_umask()
        exact = umask is not None and not _READ_ONLY & umask

        def add(part: Sequence[tuple[str, int]], _: progress_port.Progress) -> dict[str, str]:
            return {path: self._add(path, size, exact) for path, size in part}

        digests: dict[str, str] = {}
        for part in forked.split_map(add, list(files.items()), min_items=_SPLIT_MIN):
            digests.update(part)
        return digests

    def _add(self, path: str, size: int, exact: bool) -> str:
        if size <= _WHOLE_MAX:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                data = os.read(fd, size + 1)
            finally:
                os.close(fd)
            # Any other length: the file changed since its stat; read it as a large one.
            if len(data) == size:
                digest = self.hasher.bytes_digest(data)
                dest = self._object(digest)
                if not os.path.exists(dest):
                    whole_file.create(
                        dest, lambda fd: _write_read_only(fd, data, exact), _READ_ONLY
                    )
                return digest
        digest = self.hasher.file_digest(path)
        self._put(path, digest)
        return digest

    def _put(
        self,
        src: str,
        digest: str,
        progress: progress_port.Progress = progress_port.NULL,
        umask: int | None = None,
    ) -> None:
        """Copy `src` to a read-only temp file in the fan-out directory, then publish it:
        about ten system calls, nothing done twice."""
        dest = self._object(digest)
        if os.path.exists(dest):
            if progress is not progress_port.NULL:
                progress.advance(nbytes=os.path.getsize(src))
            return
        fan, name = dest.rsplit("/", 1)
        tmp = f"{fan}/.{name}.pivot-tmp-{os.urandom(6).hex()}"
        try:
            _copy_private(src, tmp, progress, umask)
            _publish(tmp, dest)
        except OSError as exc:
            if exc.filename is not None:
                raise
            # sendfile and friends name no file: say which copy failed.
            raise type(exc)(exc.errno, exc.strerror, src, fan) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def put_tree(self, manifest: Mapping[str, str], digest: str) -> None:
        """Store a directory manifest (relative path → file digest) under `digest`."""
        if not digest.endswith(hasher_port.DIR_SUFFIX):
            raise ValueError(
                f"'{digest}' is not a directory digest (no '{hasher_port.DIR_SUFFIX}')"
            )
        dest = self.object_path(digest)
        if dest.exists():
            return
        for relpath in manifest:
            _check_relpath(relpath, digest)
        data = json.dumps(dict(manifest), sort_keys=True, separators=(",", ":")).encode()
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = fs.temp_sibling(dest)
        try:
            tmp.write_bytes(data)
            os.chmod(tmp, _READ_ONLY)
            _publish(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    def read_tree(self, digest: str) -> dict[str, str]:
        """The manifest stored under a directory digest."""
        try:
            fd = os.open(self._object(digest), os.O_RDONLY)
        except FileNotFoundError:
            raise _missing(digest) from None
        with open(fd, "rb") as f:
            st = os.fstat(fd)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            known = self._trees.get(digest)
            if known is not None and known[0] == stamp:
                return dict(known[1])
            data = f.read()
        try:
            manifest = json.loads(data)
        except ValueError as exc:
            raise _corrupt(digest, f"manifest is not JSON ({exc})") from None
        if not isinstance(manifest, dict) or not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in manifest.items()  # pyright: ignore[reportUnknownVariableType]
        ):
            raise _corrupt(digest, "manifest is not a mapping of paths to digests")
        result: dict[str, str] = manifest  # pyright: ignore[reportUnknownVariableType]
        for relpath in result:
            _check_relpath(relpath, digest)
        self._remember_tree(digest, stamp, result, checked=False)
        return dict(result)

    def _remember_tree(
        self, digest: str, stamp: tuple[int, int, int], manifest: dict[str, str], *, checked: bool
    ) -> None:
        if len(self._trees) >= _TREES_KEPT:
            self._trees.clear()
        self._trees[digest] = (stamp, manifest, checked)

    def materialize(
        self,
        digest: str,
        dest: pathlib.Path,
        modes: tuple[content_cache.LinkMode, ...],
        progress: progress_port.Progress = progress_port.NULL,
    ) -> content_cache.LinkMode:
        """Create `dest` (absent) from the object, trying `modes` in order; returns the one used."""
        if not modes:
            raise ValueError("materialize needs at least one link mode")
        if os.path.lexists(dest):
            raise FileExistsError(errno.EEXIST, "materialize target already exists", str(dest))
        dest.parent.mkdir(parents=True, exist_ok=True)
        sharing = not content_cache.SHARING_LINK_MODES.isdisjoint(modes)
        if not digest.endswith(hasher_port.DIR_SUFFIX):
            src = self.object_path(digest)
            if not src.is_file():
                raise _missing(digest)
            if sharing:
                self._unshare([digest])
            placed = _place(src, dest, list(modes), spare=self._prepared.pop(digest, None))
            progress.advance(files=1)
            return placed
        manifest = self.read_tree(digest)
        if sharing:
            self._unshare(manifest.values())
        sources = {rel: self._object(member) for rel, member in manifest.items()}
        if content_cache.LinkMode.SYMLINK in modes:
            # A symlink to a lost object would be created without complaint: look first.
            self._require_members(manifest, digest)
        dest.mkdir()
        try:
            spares = {
                self._object(member): spare
                for member in set(manifest.values())
                if (spare := self._prepared.pop(member, None)) is not None
            }
            used = _place_all(sources, os.fspath(dest), list(modes), progress, spares)
        except BaseException as exc:
            fs.remove_path(dest)
            if isinstance(exc, FileNotFoundError):
                # Placing a lost member fails on opening or linking it; name it.
                self._require_members(manifest, digest)
            raise
        # Report the weakest mode any member needed.
        return max(used, key=modes.index, default=modes[0])

    def _require_members(self, manifest: Mapping[str, str], digest: str) -> None:
        for member in manifest.values():
            if not os.path.isfile(self._object(member)):
                raise _missing(member, within=digest)

    def _unshare(self, digests: Iterable[str]) -> None:
        """Give each adopted object among `digests` an inode of its own before a workspace
        links to it: an edit through a hard link or symlink would otherwise change the remote's
        file too, and every teammate's pull after it would fail. The private copy a pull
        prepared (`adopt(placing=True)`) becomes the object where there is one; else the object
        is copied. Objects not listed in the cache's `shared` file cost a set lookup."""
        shared = self._shared()
        if not shared:
            return
        found = shared.intersection(digests)
        if not found:
            return
        for digest in sorted(found):
            dest = self._object(digest)
            fan, name = dest.rsplit("/", 1)
            spare = self._prepared.pop(digest, None)
            own = f"{fan}/.{name}.pivot-tmp-{os.urandom(6).hex()}"
            try:
                if spare is not None and _chmod_ok(spare, _READ_ONLY):
                    own = spare
                else:
                    if spare is not None:
                        _drop_prepared(spare)
                    _copy_new(dest, own, _READ_ONLY)
                os.replace(own, dest)
                _PREPARED.discard(own)
            except FileNotFoundError:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(own)
                continue  # gone meanwhile (gc): placing it reports the loss
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(own)
                raise
            self._adopted.pop(digest, None)
        self._write_shared(shared - found)

    def _shared(self) -> set[str]:
        try:
            with open(f"{self.root}/{_SHARED}", encoding="ascii") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def _write_shared(self, digests: set[str]) -> None:
        path = f"{self.root}/{_SHARED}"
        if not digests:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        text = "".join(f"{d}\n" for d in sorted(digests)).encode("ascii")
        whole_file.create(path, lambda fd: _write_all(fd, text), 0o644, replace=True)

    def _note_shared(self, digest: str) -> None:
        """Add `digest` to the `shared` list (one small appending write: whole or not at all)."""
        fd = os.open(
            f"{self.root}/{_SHARED}", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
        )
        try:
            os.write(fd, f"{digest}\n".encode("ascii"))
        finally:
            os.close(fd)

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest."""
        files = self.root / layout.OBJECTS
        if not files.is_dir():
            return
        for fan in sorted(os.scandir(files), key=lambda e: e.name):
            if len(fan.name) != 2 or not fan.is_dir():
                continue
            for entry in sorted(os.scandir(fan.path), key=lambda e: e.name):
                digest = fan.name + entry.name
                # Temp files start with '.', which no digest does.
                if hasher_port.DIGEST.fullmatch(digest) and entry.is_file():
                    yield digest

    def remove(self, digest: str) -> None:
        """Delete the object (gc); a directory digest removes only its manifest."""
        fs.remove_path(self.object_path(digest))

    def verify(
        self,
        digest: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        rehash: bool = True,
    ) -> bool:
        """Re-hash the object; False when its bytes no longer match the digest.

        `rehash=False`: objects that are read-only and not hard-linked elsewhere are trusted
        (an edit through a workspace link needs one or the other), and so are objects this
        process adopted and hashed whose inode has not changed since; the rest are re-hashed."""
        if not digest.endswith(hasher_port.DIR_SUFFIX):
            intact = self._intact(digest, progress, rehash)
            if intact is None:
                raise _missing(digest)
            return intact
        try:
            manifest = self.read_tree(digest)
        except errors.CacheCorruptError:
            return False
        # read_tree left the entry for the bytes now on disk; a digest already checked against
        # them (on receipt, or by an earlier verify in this process) is not recomputed.
        known = self._trees.get(digest)
        if rehash or known is None or not known[2]:
            if self.hasher.tree_digest(manifest.items()) != digest:
                return False
            if known is not None:
                self._trees[digest] = (known[0], known[1], True)
        return all(
            self._intact(member, progress, rehash) for member in sorted(set(manifest.values()))
        )

    def _intact(self, digest: str, progress: progress_port.Progress, rehash: bool) -> bool | None:
        """Whether the object holds its digest's bytes; None when it is absent."""
        path = self._object(digest)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if (
            not rehash
            and not st.st_mode & 0o222
            and (st.st_nlink == 1 or self._adopted.get(digest) == stamp)
        ):
            return True
        return self.hasher.file_digest(path, progress) == digest

    def size(self, digest: str) -> int:
        """Bytes the object occupies (a directory digest: its manifest only)."""
        try:
            return os.stat(self._object(digest)).st_size
        except FileNotFoundError:
            raise _missing(digest) from None

    def open(self, digest: str) -> BinaryIO:
        """The stored bytes of an object, for streaming elsewhere (a directory: its manifest).

        Unbuffered: the readers copy in the kernel (`sendfile`) or read large chunks; a buffered
        reader costs two more system calls per object for nothing."""
        try:
            return open(self._object(digest), "rb", buffering=0)
        except FileNotFoundError:
            raise _missing(digest) from None

    def receive(self, digest: str, chunks: Iterable[bytes]) -> None:
        """Store bytes arriving from elsewhere: written aside, re-hashed, published only if they
        match `digest`; otherwise `CacheCorruptError` and nothing is stored."""
        dest = self._object(digest)
        stream = iter(chunks)
        first = next(stream, b"")
        second = next(stream, None)
        if digest.endswith(hasher_port.DIR_SUFFIX):
            data = b"".join([first, *(() if second is None else (second, *stream))])
            manifest = self._checked_manifest(data, digest)
            if manifest is None:
                raise errors.ArrivedCorruptError(digest)
            stamp: list[tuple[int, int, int]] = []

            def write(fd: int) -> None:
                _write_all(fd, data)
                st = os.fstat(fd)
                stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))

            if whole_file.create(dest, write, _READ_ONLY):
                # Checked just now: a checkout after the pull neither parses nor re-digests it.
                self._remember_tree(digest, stamp[0], manifest, checked=True)
            return
        if second is None:
            # Whole (every small object): checked before it touches the disk.
            if self.hasher.bytes_digest(first) != digest:
                raise errors.ArrivedCorruptError(digest)
            whole_file.create(dest, lambda fd: _write_all(fd, first), _READ_ONLY)
            return

        def fill(fd: int) -> None:
            # Hashed as it is written, in one pass; a mismatch raises before it is published.
            def written() -> Iterator[bytes]:
                for chunk in itertools.chain((first, second), stream):
                    _write_all(fd, chunk)
                    yield chunk

            if self.hasher.stream_digest(written()) != digest:
                raise errors.ArrivedCorruptError(digest)

        whole_file.create(dest, fill, _READ_ONLY)

    def adopt(
        self,
        digest: str,
        path: str,
        progress: progress_port.Progress = progress_port.NULL,
        *,
        placing: bool = False,
    ) -> bool:
        """Link the read-only file `path` in as the object under a hidden temp name, re-hash
        it there, and publish it only on a match (ADR 0011): no bytes are copied. False, with
        nothing stored, when it is small, writable or cannot be linked (another filesystem,
        links refused); `CacheCorruptError` when its bytes do not match.

        `placing` (a pull, whose checkout follows): while the object is re-hashed, a private
        copy of it is made beside it, on the other CPU; the next `materialize` of the digest
        that would copy renames it into place instead. One not taken is deleted when the
        process ends."""
        if digest.endswith(hasher_port.DIR_SUFFIX):
            return False
        try:
            st = os.stat(path)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size < _ADOPT_MIN or st.st_mode & 0o222:
            return False  # one stat for a small object: most of a pull's objects
        dest = self._object(digest)
        if os.path.exists(dest):
            return True
        # In a forked helper (`forked.split_map`) a prepared copy would be known to nobody.
        placing = placing and os.getpid() == self._owner
        fan, name = dest.rsplit("/", 1)
        tmp = f"{fan}/.{name}.pivot-tmp-{os.urandom(6).hex()}"
        try:
            os.makedirs(fan, exist_ok=True)
            try:
                os.link(path, tmp)
            except OSError:
                return False  # EXDEV, EPERM (protected hard links), no links on this fs
            if placing:
                spare = f"{fan}/.{name}.pivot-copy-{os.urandom(6).hex()}"
                actual = _hash_while_copying(self.hasher, tmp, spare, progress)
            else:
                spare, actual = None, self.hasher.file_digest(tmp, progress)
            if actual != digest:
                if spare is not None:
                    _drop_prepared(spare)
                raise errors.ArrivedCorruptError(digest)
            # Listed before it is published: a kill in between leaves a needless entry (one
            # copy later), never a shared object nobody knows of.
            self._note_shared(digest)
            _publish(tmp, dest)
            if spare is not None and os.path.exists(spare):
                self._prepared[digest] = spare
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        now = os.stat(dest)
        if now.st_ino == st.st_ino:  # not an object another process published first
            self._adopted[digest] = (now.st_ino, now.st_size, now.st_mtime_ns, now.st_ctime_ns)
        return True

    def _checked_manifest(self, data: bytes, digest: str) -> dict[str, str] | None:
        """The manifest in `data` when it is one and has `digest`; else None."""
        try:
            manifest = json.loads(data)
        except ValueError:
            return None
        if not isinstance(manifest, dict):
            return None
        entries: dict[str, object] = manifest  # pyright: ignore[reportUnknownVariableType]
        if not all(isinstance(v, str) for v in entries.values()):
            return None
        try:
            for relpath in entries:
                _check_relpath(relpath, digest)
        except errors.CacheCorruptError:
            return None
        checked: dict[str, str] = manifest  # pyright: ignore[reportUnknownVariableType]
        return checked if self.hasher.tree_digest(checked.items()) == digest else None

    def quarantine(self, digest: str) -> None:
        """Move a corrupt object to `<cache>/quarantine/` (kept for inspection, never served)."""
        src = self.object_path(digest)
        dest = self.root / "quarantine" / digest
        dest.parent.mkdir(parents=True, exist_ok=True)
        fs.remove_path(dest)
        try:
            os.replace(src, dest)
        except FileNotFoundError:
            raise _missing(digest) from None


def _copy_private(
    src: str,
    tmp: str,
    progress: progress_port.Progress = progress_port.NULL,
    umask: int | None = None,
) -> None:
    """Copy `src` into the new file `tmp` (read-only), creating its directory if needed."""
    try:
        _copy_new(src, tmp, _READ_ONLY, progress, umask)
    except FileNotFoundError:
        if not os.path.exists(src):
            raise
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        _copy_new(src, tmp, _READ_ONLY, progress, umask)


def _copy_new(
    src: str | pathlib.Path,
    dest: str | pathlib.Path,
    mode: int,
    progress: progress_port.Progress = progress_port.NULL,
    umask: int | None = None,
) -> None:
    """Copy `src` into `dest`, which must not exist, and give it exactly `mode`.

    With the process `umask` known and leaving `mode` whole, the file is created with it;
    otherwise it is created private and changed after: one system call more."""
    source = os.open(src, os.O_RDONLY)
    try:
        exact = umask is not None and not mode & umask
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode if exact else 0o600)
        try:
            _copy_bytes(source, fd, progress)
            if not exact:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
    finally:
        os.close(source)


def _copy_bytes(
    source: int, fd: int, progress: progress_port.Progress = progress_port.NULL
) -> None:
    """In the kernel where possible (`sendfile` between files, Linux); else through a buffer.

    With a progress, in 64 MiB steps so a bar moves while a large file is copied."""
    chunk = _SENDFILE_CHUNK if progress is progress_port.NULL else _PROGRESS_CHUNK
    if fs.send_file(fd, source, 0, None, step=chunk, progress=progress):
        return
    while data := os.read(source, _BUFFER):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        progress.advance(nbytes=len(data))


def _process_umask() -> int | None:
    """The process's umask, read without changing it (Linux); None where that is not possible."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass  # the caller then sets each mode explicitly
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_read_only(fd: int, data: bytes, exact: bool) -> None:
    """Write `data`; make the file read-only for all when the umask took bits off 0444."""
    _write_all(fd, data)
    if not exact:
        os.fchmod(fd, _READ_ONLY)


def _shared(src: pathlib.Path, tmp: pathlib.Path) -> bool:
    """Hard-link a read-only object of another cache; False where links are not possible."""
    if os.stat(src).st_mode & 0o222:
        return False  # a writable file could change under the cache
    try:
        os.link(src, tmp)
    except OSError:
        return False
    return True


def _publish(tmp: pathlib.Path | str, dest: pathlib.Path | str) -> None:
    # A hard link fails when `dest` exists, so a concurrent writer's object is never replaced.
    try:
        os.link(tmp, dest)
    except FileExistsError:
        return
    except OSError:
        os.replace(tmp, dest)


def _place_all(
    sources: Mapping[str, str],
    root: str,
    modes: list[content_cache.LinkMode],
    progress: progress_port.Progress,
    spares: dict[str, str] | None = None,
) -> set[content_cache.LinkMode]:
    """Place every member (relative path → object) under `root`; returns the modes used.

    The first file settles which mode works. The rest go in batches, one per directory, in
    threads when there are many: creating a file locks its directory, so threads in one
    directory only wait for each other (Linux even spins on that lock), while threads in
    different directories overlap their system calls. One batch is one task, so there is no
    per-file scheduling; each file falls back to the next mode on its own."""
    batches: dict[str, list[tuple[str, str]]] = {}
    for rel in sorted(sources):
        target = f"{root}/{rel}"
        batches.setdefault(target.rpartition("/")[0], []).append((sources[rel], target))
    if not batches:
        return set()
    umask = _process_umask() if content_cache.LinkMode.COPY in modes else None
    parents = iter(batches)
    first = next(parents)
    if first != root:
        os.makedirs(first, exist_ok=True)
    spares = spares if spares is not None else {}
    src, target = batches[first].pop(0)
    used = {_place(src, target, modes, umask, spares.pop(src, None))}
    progress.advance(files=1)
    # Only now the other directories: when no mode works (track trying reflink on a
    # filesystem without it), there are not a hundred of them to create and remove.
    for parent in parents:
        if parent != root:
            os.makedirs(parent, exist_ok=True)

    def place(
        batch: Sequence[tuple[str, str]], prog: progress_port.Progress = progress
    ) -> set[content_cache.LinkMode]:
        own = list(modes)
        done: set[content_cache.LinkMode] = set()
        count = 0
        for src, dest in batch:
            done.add(_place(src, dest, own, umask, spares.pop(src, None)))
            count += 1
            if count == _PROGRESS_FILES:
                prog.advance(files=count)
                count = 0
        if count:
            prog.advance(files=count)
        return done

    rest = [pair for batch in batches.values() for pair in batch]
    if forked.helpers(len(rest), min_items=_SPLIT_MIN) > 0:
        # Processes, each on whole directories in a row: threads only handed the GIL around
        # (0.6 M futex calls for 20,000 files). A helper taking a prepared copy another
        # process also wants is no harm: the one that loses the rename copies.
        for done in forked.split_map(place, rest, min_items=_SPLIT_MIN, progress=progress):
            used |= done
        return used
    # Largest first, so one long directory does not start last.
    todo = sorted((b for b in batches.values() if b), key=len, reverse=True)
    for done in _each_batch(todo, place, threads=len(sources) >= _PARALLEL_MIN):
        used |= done
    return used


def _each_batch(
    batches: Sequence[Sequence[_T]], work: Callable[[Sequence[_T]], _R], *, threads: bool
) -> Iterator[_R]:
    """`work` on each batch, in threads when asked and there is more than one batch; the first
    failure stops the rest (batches not started are dropped) and is raised."""
    if not threads or len(batches) < 2:
        yield from map(work, batches)
        return
    pool = concurrent.futures.ThreadPoolExecutor(min(_THREADS, len(batches)))
    try:
        for future in concurrent.futures.as_completed([pool.submit(work, b) for b in batches]):
            yield future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _place(
    src: str | pathlib.Path,
    dest: str | pathlib.Path,
    modes: list[content_cache.LinkMode],
    umask: int | None = None,
    spare: str | None = None,
) -> content_cache.LinkMode:
    """Create `dest` from `src` with the first mode that works; drop modes that fail for good.

    `spare`: a private copy of `src` made ahead (`adopt(placing=True)`), renamed in where a copy
    is the mode to use, deleted otherwise."""
    try:
        return _place_modes(src, dest, modes, umask, spare)
    finally:
        if spare is not None:
            _drop_prepared(spare)


def _place_modes(
    src: str | pathlib.Path,
    dest: str | pathlib.Path,
    modes: list[content_cache.LinkMode],
    umask: int | None,
    spare: str | None,
) -> content_cache.LinkMode:
    last_error: OSError | None = None
    for mode in list(modes):
        try:
            if mode is content_cache.LinkMode.COPY and spare is not None:
                _take_prepared(spare, src, dest, umask)
            else:
                _link(mode, src, dest, umask)
        except OSError as exc:
            last_error = exc
            fs.remove_path(pathlib.Path(dest))
            # Too many links is a property of one object; any other failure repeats for every
            # file of a tree (other device, no link support), so the mode is not retried.
            if exc.errno != errno.EMLINK and mode is not modes[-1]:
                modes.remove(mode)
            continue
        return mode
    assert last_error is not None
    raise last_error


def _link(
    mode: content_cache.LinkMode,
    src: str | pathlib.Path,
    dest: str | pathlib.Path,
    umask: int | None = None,
) -> None:
    match mode:
        case content_cache.LinkMode.HARDLINK:
            os.link(src, dest)
        case content_cache.LinkMode.SYMLINK:
            os.symlink(os.path.abspath(src), dest)
        case content_cache.LinkMode.COPY:
            _copy_new(src, dest, _WRITABLE, umask=umask)
        case content_cache.LinkMode.REFLINK:
            _reflink(src, dest)


def _reflink(src: str | pathlib.Path, dest: str | pathlib.Path) -> None:
    if not sys.platform.startswith("linux"):
        raise OSError(errno.EOPNOTSUPP, "reflinks are only supported on Linux", str(dest))
    import fcntl

    with open(src, "rb") as s, open(dest, "xb") as d:
        fcntl.ioctl(d.fileno(), _FICLONE, s.fileno())
    os.chmod(dest, _WRITABLE)


def _check_relpath(relpath: str, digest: str) -> None:
    parts = relpath.split("/")
    if not relpath or relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise _corrupt(digest, f"manifest entry '{relpath}' is not a plain relative path")


def _missing(digest: str, *, within: str | None = None) -> errors.CacheMissError:
    where = f" (member of directory {within})" if within else ""
    return errors.CacheMissError(
        f"cache object {digest}{where} is not in the local cache: "
        "run `pivot pull` to fetch it, or re-run the stage that produces it"
    )


def _corrupt(digest: str, why: str) -> errors.CacheCorruptError:
    return errors.CacheCorruptError(
        f"cache object {digest} is corrupt: {why}; remove it and re-run the stage that produces it"
    )


def _hash_while_copying(
    hasher: hasher_port.Hasher, path: str, spare: str, progress: progress_port.Progress
) -> str:
    """The digest of `path`, computed on a second thread while `path` is copied to `spare`
    (a private, writable copy; none when the copy fails: the checkout then copies)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        hashed = pool.submit(hasher.file_digest, path, progress)
        _PREPARED.add(spare)
        if not _PREPARED_CLEANUP:
            _PREPARED_CLEANUP.append(True)
            atexit.register(_drop_all_prepared)
        try:
            _copy_new(path, spare, _WRITABLE)
        except OSError:
            _drop_prepared(spare)
        return hashed.result()


def _take_prepared(
    spare: str, src: str | pathlib.Path, dest: str | pathlib.Path, umask: int | None
) -> None:
    """Rename the prepared copy in as `dest`; where that cannot be done, copy `src`."""
    try:
        os.rename(spare, dest)
    except OSError:
        _copy_new(src, dest, _WRITABLE, umask=umask)
        return
    _PREPARED.discard(spare)


def _chmod_ok(path: str, mode: int) -> bool:
    try:
        os.chmod(path, mode)
    except OSError:
        return False
    return True


def _drop_prepared(spare: str) -> None:
    _PREPARED.discard(spare)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(spare)


def _drop_all_prepared() -> None:
    for spare in list(_PREPARED):
        _drop_prepared(spare)
