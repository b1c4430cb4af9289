import os
import pathlib
import shutil
import time
from collections.abc import Callable

SETTLE_SECONDS = 360.0
"""How old the bench's last deletion must be before a timed step creates files.

ext4 without a journal (this VM's disk) skips, whenever it allocates an inode, every free inode
deleted less than 60 s ago, or less than 360 s ago while its inode-table block is dirty
(fs/ext4/ialloc.c, `recently_deleted`). Each skipped inode is looked up again by every later
allocation in its group, so files created within minutes of a mass deletion cost many times
more, and most for whichever tool creates files first. A new file dirties its inode-table block,
so only the 360 s bound is safe."""

WARM_MAX_BYTES = 64 << 20
"""Files larger than this are not read by `warm` (none of the timed steps reads them)."""


def skips_recent_inodes(path: pathlib.Path) -> bool:
    """Whether `path` is on ext4 without a journal (Linux sysfs says so), where files created
    soon after a mass deletion are slow (`SETTLE_SECONDS`); False when it cannot tell."""
    try:
        dev = os.stat(path).st_dev
        block = os.readlink(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
        with open(f"/sys/fs/ext4/{os.path.basename(block)}/journal_task") as f:
            return f.read().strip() == "<none>"
    except OSError:
        return False  # not ext4, not Linux, or a filesystem without a block device (tmpfs)


def remove_tree(path: pathlib.Path) -> None:
    """Delete a benchmark tree, read-only cache directories included."""
    if not path.exists():
        return
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(path)


class Deletions:
    """Deletes trees and remembers when it last did (in `stamp`, so the next run knows too)."""

    def __init__(
        self,
        stamp: pathlib.Path,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stamp = stamp
        self.clock = clock
        self.sleep = sleep
        try:
            self.last = float(stamp.read_text())
        except (FileNotFoundError, ValueError):
            self.last = 0.0

    def remove(self, path: pathlib.Path) -> None:
        """Delete `path` (a tree or a file); nothing to delete leaves the stamp as it was."""
        if not os.path.lexists(path):
            return
        if path.is_dir() and not path.is_symlink():
            remove_tree(path)
        else:
            path.unlink()
        self.note()

    def note(self) -> None:
        """Count now as a deletion (one the bench did not make, a tool's own)."""
        self.last = self.clock()
        self.stamp.parent.mkdir(parents=True, exist_ok=True)
        self.stamp.write_text(repr(self.last))

    def settle(self, seconds: float) -> float:
        """Flush dirty pages, then wait until the last deletion is `seconds` old; the wait."""
        os.sync()
        wait = max(0.0, self.last + seconds - self.clock())
        if wait:
            self.sleep(wait)
        return wait


class Aside:
    """Moves trees out of the way without freeing their inodes; they go with `root` later."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.count = 0

    def put(self, path: pathlib.Path) -> None:
        """Rename `path` (same filesystem) under `root`; an absent path is left alone."""
        if not os.path.lexists(path):
            return
        self.root.mkdir(parents=True, exist_ok=True)
        path.rename(self.root / f"{self.count:04d}-{path.name}")
        self.count += 1


def warm(root: pathlib.Path) -> tuple[int, int]:
    """Read every file under `root` (up to `WARM_MAX_BYTES` each), so its pages and inodes are
    cached, then flush dirty pages; returns (files, bytes) read.

    Before each timed command its tool's project gets this, so every tool starts from the same
    state: its cache and workspace in memory, no writeback of an earlier step pending."""
    files = nbytes = 0
    buffer = bytearray(1 << 20)
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                if os.path.getsize(path) > WARM_MAX_BYTES:
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                continue  # a dangling link, a socket: nothing a timed step reads
            try:
                while n := os.readv(fd, [buffer]):
                    nbytes += n
            except OSError:
                continue
            finally:
                os.close(fd)
            files += 1
    os.sync()
    return files, nbytes
