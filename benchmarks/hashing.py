import os
import pathlib
import time
from collections.abc import Callable

import xxhash

from benchmarks import results

CHUNK = 1 << 20
BLOCK = 16 << 20


def make_file(path: pathlib.Path, size: int) -> None:
    """A file of `size` incompressible bytes (kept between runs: writing 1 GiB takes time)."""
    if path.exists() and path.stat().st_size == size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(BLOCK)
    with path.open("wb") as f:
        remaining = size
        while remaining > 0:
            f.write(block[: min(BLOCK, remaining)])
            remaining -= BLOCK


def raw_read(path: pathlib.Path) -> int:
    """Read every byte into one reused buffer: the ceiling for any hasher."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = 0
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(view):
            total += n
    return total


def xxh3_direct(path: pathlib.Path) -> str:
    hasher = xxhash.xxh3_128()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(view):
            hasher.update(view[:n])
    return hasher.hexdigest()


def pivot_hasher() -> tuple[str, Callable[[pathlib.Path], str]]:
    """Pivot's own file hasher when it exists, else xxh3-128 directly (and say so)."""
    try:
        from pivot.adapters.hashing import xxh3_hasher
    except ImportError:
        return "xxhash.xxh3_128 directly (pivot's Xxh3Hasher not importable)", xxh3_direct
    return "pivot Xxh3Hasher.file_digest", xxh3_hasher.Xxh3Hasher().file_digest


def _timed(action: Callable[[pathlib.Path], object], path: pathlib.Path) -> float:
    start = time.perf_counter()
    action(path)
    return time.perf_counter() - start


def measure(
    path: pathlib.Path, size: int, reps: int
) -> tuple[str, dict[results.Extra, results.Cell]]:
    """Hash and raw-read throughput on one warm (page-cached) file, interleaved per rep."""
    make_file(path, size)
    raw_read(path)  # warm the page cache so both sides read from memory
    label, digest = pivot_hasher()
    read: list[float] = []
    hashed: list[float] = []
    for _ in range(reps):
        read.append(size / _timed(raw_read, path))
        hashed.append(size / _timed(digest, path))
    unit = results.Unit.BYTES_PER_SECOND
    return label, {
        results.Extra.READ: results.Sample(tuple(read), unit),
        results.Extra.HASH: results.Sample(tuple(hashed), unit),
        results.Extra.HASH_RATIO: results.Sample(
            tuple(h / r for h, r in zip(hashed, read, strict=True)), results.Unit.RATIO
        ),
    }
