import marshal
import os
import struct
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pivot.ports import state_store

NAMESPACE = "snapshot"
_FORMAT = 3
"""Bump when the encoded layout changes: older entries then read as absent."""

Stamp = tuple[int, int, int] | None
"""(inode, size, mtime_ns) of a path, or None when nothing is there."""

SETTLE_NS = 100_000_000
"""A path changed this close to the start of the check that recorded it may have changed while
it was read (mtimes come from a coarse clock), so its stamp cannot vouch for what was read."""

COARSE_SETTLE_NS = 2_000_000_000
"""The same for a file system whose mtimes are whole seconds (FAT, HFS+, some network mounts)."""


def stamp(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def is_settled(found: Stamp, started_ns: int, window_ns: int | None = None) -> bool:
    """Whether `found` was already in place well before `started_ns` (`window_ns` before it;
    default: SETTLE_NS, COARSE_SETTLE_NS for a whole-second mtime)."""
    if found is None:
        return True
    mtime = found[2]
    if window_ns is None:
        window_ns = COARSE_SETTLE_NS if mtime % 1_000_000_000 == 0 else SETTLE_NS
    return mtime < started_ns - window_ns


def key(parts: Iterable[str]) -> str:
    """The snapshot key of an invocation: the command line and everything that shapes its
    answer but is not a file (working directory, environment, terminal, interpreter).

    The parts themselves, not a digest: the state store keeps long keys exactly, and the fast
    path imports no hashlib (OpenSSL)."""
    return "\0".join(parts)


_PACKED = struct.Struct("<QQq")
"""One stamp as stored: inode, size (unsigned), mtime_ns (signed: before 1970 is possible)."""

_ABSENT = _PACKED.pack(0, 0, -(2**63))
"""The stored stamp of a path found absent: no file has inode 0 and that mtime."""

_BY_DIRECTORY = os.stat in os.supports_dir_fd
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
"""O_PATH (Linux): a handle to stat through, no read permission on the directory needed."""


def _pack(found: Stamp) -> bytes:
    return _ABSENT if found is None else _PACKED.pack(*found)


Group = tuple[str, str, bytes]
"""The stamps of the paths in one directory: the directory, the paths' names joined by NUL
and their stamps packed in the same order (`_PACKED` each). A few large strings and byte
strings decode in a fraction of a millisecond, where a dict of 10,000 paths took 3 ms."""


def _group(stamps: Mapping[str, Stamp]) -> tuple[Group, ...]:
    by_directory: dict[str, list[tuple[str, Stamp]]] = {}
    for path, found in stamps.items():
        directory, name = os.path.split(path)
        by_directory.setdefault(directory, []).append((name or ".", found))
    groups: list[Group] = []
    for directory, entries in sorted(by_directory.items()):
        entries.sort()
        names = "\0".join(name for name, _ in entries)
        groups.append((directory, names, b"".join(_pack(found) for _, found in entries)))
    return tuple(groups)


def _stamps_in(directory: str, names: list[str]) -> bytes:
    """The packed stamps of `names` in `directory` now: one stat each, relative to a handle
    on the directory (no path walk per file)."""
    if not _BY_DIRECTORY:
        return b"".join(_pack(stamp(os.path.join(directory, n))) for n in names)
    try:
        fd = os.open(directory, _DIR_FLAGS)
    except OSError:
        return b"".join(_pack(stamp(os.path.join(directory, n))) for n in names)
    stat, pack, found = os.stat, _PACKED.pack, list[bytes]()
    append = found.append
    try:
        for name in names:
            try:
                st = stat(name, dir_fd=fd)
            except OSError:
                append(_ABSENT)
                continue
            append(pack(st.st_ino, st.st_size, st.st_mtime_ns))
    finally:
        os.close(fd)
    return b"".join(found)


class Snapshot(NamedTuple):
    """What a check found and printed, and the stamp of every path its answer depended on.

    A NamedTuple, not a dataclass: the fast path never imports `dataclasses` (and `inspect`).
    Build one with `Snapshot.of`.
    """

    groups: tuple[Group, ...]
    stdout: str
    stderr: str
    exit_code: int
    duration_text: str = ""
    """The elapsed time as printed (`in 0.31s`), replaced by the replay's own on replay."""
    duration_format: str = ""
    """How the replay prints its own elapsed seconds (default `in {:.2f}s`)."""

    @classmethod
    def of(
        cls,
        stamps: Mapping[str, Stamp],
        stdout: str,
        stderr: str,
        exit_code: int,
        *,
        duration_text: str = "",
        duration_format: str = "",
    ) -> "Snapshot":
        """The snapshot of `stamps` (absolute path → stamp) and what the check printed."""
        return cls(_group(stamps), stdout, stderr, exit_code, duration_text, duration_format)

    def size(self) -> int:
        """How many paths the snapshot stamps."""
        return sum(names.count("\0") + 1 for _, names, _ in self.groups)

    def changed(self) -> str | None:
        """The first path whose stamp differs now, or None when every one matches."""
        for directory, joined, recorded in self.groups:
            names = joined.split("\0")
            now = _stamps_in(directory, names)
            if now == recorded:
                continue
            size = _PACKED.size
            for i, name in enumerate(names):
                if now[i * size : (i + 1) * size] != recorded[i * size : (i + 1) * size]:
                    return os.path.normpath(os.path.join(directory, name))
            return directory  # a damaged entry: its sizes disagree
        return None

    def replay_stdout(self, seconds: float) -> str:
        if not self.duration_text:
            return self.stdout
        head, found, tail = self.stdout.rpartition(self.duration_text)
        if not found:
            return self.stdout
        return head + (self.duration_format or "in {:.2f}s").format(seconds) + tail

    def to_bytes(self) -> bytes:
        return marshal.dumps((_FORMAT, *self))

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Snapshot | None":
        """The decoded snapshot; None for a damaged or foreign entry (only a miss)."""
        try:
            fmt, *fields = marshal.loads(raw)
        except (ValueError, EOFError, TypeError):
            return None
        if fmt != _FORMAT or len(fields) != len(cls._fields) or not isinstance(fields[0], tuple):
            return None
        return cls(*fields)  # pyright: ignore[reportUnknownArgumentType]


def settle(
    used: Mapping[str, Stamp],
    seen: Iterable[str],
    started_ns: int,
    window_ns: int | None = None,
) -> tuple[dict[str, Stamp], str | None]:
    """Stamps to record: `used` paths (stamp as the check used it, None: found absent) and
    `seen` paths (stamp unknown: opened, listed, imported); and the first path that cannot be
    trusted — changed since it was used, or too fresh when the check started (see
    `is_settled` for `window_ns`)."""
    stamps: dict[str, Stamp] = {}
    for path in seen:
        stamps[path] = stamp(path)
    for path, then in used.items():
        now = stamp(path)
        if now != then:
            return {}, path
        stamps[path] = now
    for path, now in stamps.items():
        if not is_settled(now, started_ns, window_ns):
            return {}, path
    return stamps, None


class SnapshotStore:
    """Snapshots in the state store, one per invocation key."""

    def __init__(self, state: "state_store.StateStore") -> None:
        self._state = state

    def get(self, snapshot_key: str) -> Snapshot | None:
        raw = self._state.get(NAMESPACE, snapshot_key)
        return None if raw is None else Snapshot.from_bytes(raw)

    def put(self, snapshot_key: str, snapshot: Snapshot) -> None:
        self._state.put_many(NAMESPACE, [(snapshot_key, snapshot.to_bytes())])
