import mmap
import os
import pathlib
import threading
from collections.abc import Iterable

import xxhash

from pivot.ports import hasher
from pivot.ports import progress as progress_port

_CHUNK = 1 << 20
# From this size on, mapping the file beats copying it through a buffer (measured).
_MMAP_MIN = 4 << 20

_local = threading.local()


def _buffer() -> tuple[bytearray, memoryview]:
    # One buffer per thread, reused across files: allocating 1 MiB per file costs more than
    # hashing a small file.
    pair: tuple[bytearray, memoryview] | None = getattr(_local, "pair", None)
    if pair is None:
        buf = bytearray(_CHUNK)
        pair = (buf, memoryview(buf))
        _local.pair = pair
    return pair


# Mapped a window at a time: resident memory stays at one window whatever the file's size.
_WINDOW = 64 << 20


def _update_mapped(
    fd: int, size: int, state: "xxhash.xxh3_128", progress: progress_port.Progress
) -> int:
    """Hash the file through memory maps of `_WINDOW` bytes; returns the bytes covered."""
    done = 0
    while done < size:
        length = min(_WINDOW, size - done)
        try:
            mapped = mmap.mmap(fd, length, access=mmap.ACCESS_READ, offset=done)
        except (OSError, ValueError):
            return done
        with mapped:
            state.update(mapped)
        done += length
        progress.advance(nbytes=length)
    return done


class Xxh3Hasher:
    """xxh3-128 hex digests of files and directory entry lists."""

    __slots__ = ()

    def file_digest(
        self, path: pathlib.Path | str, progress: progress_port.Progress = progress_port.NULL
    ) -> str:
        """Digest of the file's bytes (hex); reports the bytes read as `progress.advance`."""
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if size <= _CHUNK:
                data = f.readall()
                progress.advance(nbytes=len(data))
                return xxhash.xxh3_128_hexdigest(data)
            state = xxhash.xxh3_128()
            if size >= _MMAP_MIN:
                # Whatever the mapping did not cover (a file that grew, or a filesystem
                # that cannot map) is read below.
                f.seek(_update_mapped(f.fileno(), size, state, progress))
            _, view = _buffer()
            while n := f.readinto(view):
                state.update(view[:n])
                progress.advance(nbytes=n)
            return state.hexdigest()

    def bytes_digest(self, data: bytes) -> str:
        """Digest of in-memory bytes; equal to `file_digest` of a file holding them."""
        return xxhash.xxh3_128_hexdigest(data)

    def stream_digest(self, chunks: Iterable[bytes]) -> str:
        """Digest of bytes arriving in pieces (consumed once); equal to `bytes_digest` of their
        concatenation."""
        state = xxhash.xxh3_128()
        for chunk in chunks:
            state.update(chunk)
        return state.hexdigest()

    def tree_digest(self, entries: Iterable[tuple[str, str]]) -> str:
        """Digest of a directory from its (relative POSIX path, file digest) entries."""
        state = xxhash.xxh3_128()
        for relpath, digest in sorted(entries):
            state.update(f"{relpath}\0{digest}\n".encode(errors="surrogateescape"))
        return state.hexdigest() + hasher.DIR_SUFFIX
