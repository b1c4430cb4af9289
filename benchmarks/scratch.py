"""Where the file-heavy benchmarks write: a fresh journaled ext4 filesystem when one can be made.

This VM's disk is ext4 without a journal. There the inode allocator skips every inode freed in
the last minute or more (`recently_deleted` in fs/ext4/ialloc.c applies only without a
journal), so creating files soon after deleting many is slow whatever the tool: measured here,
`cp -r` of 20,000 small files took 15.8 s on the VM's disk after a few rounds of create and
delete, and 0.5-0.7 s on a fresh journaled ext4 image, before and after deleting them. Which
tool paid depended on what the bench deleted just before it. Most Linux machines run ext4 with
a journal, as mkfs.ext4 makes it by default: the image measures the tools there.
"""

import contextlib
import os
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

IMAGE_GIB = 48
"""Sparse: only what the benchmark writes takes disk space."""


@contextlib.contextmanager
def filesystem(parent: pathlib.Path, *, image: bool = True) -> Iterator[tuple[pathlib.Path, str]]:
    """A directory to benchmark in and one line saying what it is on.

    With `image`, a fresh ext4 filesystem (mkfs defaults, so with a journal) in a sparse file
    under `parent`, loop-mounted for the duration (needs root and a loop device); otherwise, or
    when that cannot be done, a directory under `parent` on its own filesystem."""
    parent.mkdir(parents=True, exist_ok=True)
    reason = "asked for (--scratch work)"
    if image:
        mounted = _mount_image(parent)
        if isinstance(mounted, pathlib.Path):
            try:
                yield (
                    mounted,
                    "a fresh ext4 image with a journal (mkfs.ext4 defaults), loop-mounted",
                )
            finally:
                _unmount(parent, mounted)
            return
        reason = mounted
    plain = parent / "scratch"
    plain.mkdir(exist_ok=True)
    yield plain, f"the work directory's own filesystem ({reason})"


def _mount_image(parent: pathlib.Path) -> pathlib.Path | str:
    """The mount point of a fresh image, or why there is none."""
    if os.geteuid() != 0:
        return "not root: cannot mount a fresh ext4 image"
    mkfs = shutil.which("mkfs.ext4")
    if mkfs is None:
        return "mkfs.ext4 not found"
    path = parent / "scratch.ext4"
    point = parent / "scratch-mount"
    _unmount(parent, point)
    with open(path, "wb") as f:
        f.truncate(IMAGE_GIB << 30)
    point.mkdir(exist_ok=True)
    for command in ([mkfs, "-q", "-F", str(path)], ["mount", "-o", "loop", str(path), str(point)]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            path.unlink(missing_ok=True)
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"`{command[0]}` failed: {last[0]}"
    return point


def _unmount(parent: pathlib.Path, point: pathlib.Path) -> None:
    """Unmount `point` if mounted (a killed earlier run may have left it) and drop the image."""
    if os.path.ismount(point):
        subprocess.run(["umount", str(point)], capture_output=True, check=False)
    (parent / "scratch.ext4").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        point.rmdir()
