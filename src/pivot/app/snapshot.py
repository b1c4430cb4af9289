import hashlib
import marshal
import os
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from pivot.ports import state_store

NAMESPACE = "snapshot"
_FORMAT = 2
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
    answer but is not a file (working directory, environment, terminal, interpreter)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class Snapshot(NamedTuple):
    """What a check found and printed, and the stamp of every path its answer depended on.

    A NamedTuple, not a dataclass: the fast path never imports `dataclasses` (and `inspect`).
    """

    stamps: Mapping[str, Stamp]
    stdout: str
    stderr: str
    exit_code: int
    duration_text: str = ""
    """The elapsed time as printed (`in 0.31s`), replaced by the replay's own on replay."""
    duration_format: str = ""
    """How the replay prints its own elapsed seconds (default `in {:.2f}s`)."""

    def changed(self) -> str | None:
        """The first path whose stamp differs now, or None when every one matches."""
        for path, recorded in self.stamps.items():
            if stamp(path) != recorded:
                return path
        return None

    def replay_stdout(self, seconds: float) -> str:
        if not self.duration_text:
            return self.stdout
        head, found, tail = self.stdout.rpartition(self.duration_text)
        if not found:
            return self.stdout
        return head + (self.duration_format or "in {:.2f}s").format(seconds) + tail

    def to_bytes(self) -> bytes:
        stamps = dict(self.stamps)
        body = (
            _FORMAT,
            stamps,
            self.stdout,
            self.stderr,
            self.exit_code,
            self.duration_text,
            self.duration_format,
        )
        return marshal.dumps(body)

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Snapshot | None":
        """The decoded snapshot; None for a damaged or foreign entry (only a miss)."""
        try:
            fmt, stamps, stdout, stderr, exit_code, duration_text, duration_format = marshal.loads(
                raw
            )
        except (ValueError, EOFError, TypeError):
            return None
        if fmt != _FORMAT or not isinstance(stamps, dict):
            return None
        return cls(stamps, stdout, stderr, exit_code, duration_text, duration_format)  # pyright: ignore[reportUnknownArgumentType]


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

    def __init__(self, state: state_store.StateStore) -> None:
        self._state = state

    def get(self, snapshot_key: str) -> Snapshot | None:
        raw = self._state.get(NAMESPACE, snapshot_key)
        return None if raw is None else Snapshot.from_bytes(raw)

    def put(self, snapshot_key: str, snapshot: Snapshot) -> None:
        self._state.put_many(NAMESPACE, [(snapshot_key, snapshot.to_bytes())])
